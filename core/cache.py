"""Django's Redis cache, keeping one Redis client per connection pool.

Django's client builds a new ``redis.Redis`` for every cache call, and each one fills a table of about 170
response callbacks: a few tenths of a millisecond on every API request, which asks the cache once or twice.
Clients share their pool's connections and are safe to share between threads, so one per pool is enough.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django picks the server (writes: the first; reads: a random other one, if any) and builds one pool per
        # server; this keeps one client per server as well. The private names are Django's own
        # (django.core.cache.backends.redis), untyped in its stubs.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pools = self._pools  # type: ignore[attr-defined]
            if index not in pools:
                pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pools[index])  # type: ignore[attr-defined]
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient
