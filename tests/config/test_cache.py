"""The Redis cache keeps one client per connection pool and still behaves as Django's cache."""

import pytest
import redis
from django.conf import settings

from core.cache import ReusingRedisCache


@pytest.mark.redis
def test_the_redis_cache_reuses_its_client_and_works() -> None:
    cache = ReusingRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-reusing-cache"})
    try:
        first = cache._cache.get_client("a")
        assert cache._cache.get_client("b") is first
        assert cache._cache.get_client("a", write=True) is first  # one server: one pool for reads and writes

        cache.set("key", {"n": 1}, 30)
        assert cache.get("key") == {"n": 1}
        assert cache.add("counter", 0, 30)
        assert cache.incr("counter") == 1
        assert cache.get_many(["key", "counter", "missing"]) == {"key": {"n": 1}, "counter": 1}
    finally:
        cache.delete_many(["key", "counter"])


@pytest.mark.redis
def test_with_a_replica_writes_go_to_the_first_server_and_reads_to_the_other() -> None:
    primary_url, replica_url = settings.REDIS_URL, settings.REDIS_URL.rsplit("/", 1)[0] + "/13"
    primary, replica = redis.Redis.from_url(primary_url), redis.Redis.from_url(replica_url)
    cache = ReusingRedisCache(f"{primary_url},{replica_url}", {"KEY_PREFIX": "test-reusing-replica"})
    key = cache.make_key("written")
    try:
        cache.set("written", 1, 30)
        assert (primary.exists(key), replica.exists(key)) == (1, 0)
        replica.set(key, cache._cache._serializer.dumps("from the replica"))
        assert cache.get("written") == "from the replica"  # reads go to the other server
        assert cache._cache.get_client() is cache._cache.get_client()
    finally:
        primary.delete(key)
        replica.delete(key)
