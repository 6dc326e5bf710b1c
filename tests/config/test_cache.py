"""The Redis cache keeps one client per connection pool and still behaves as Django's cache."""

import pytest
from django.conf import settings

from config.cache import ReusingRedisCache


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
