"""The storefront's limit on new orders: at most ``STOREFRONT_ORDERS_PER_HOUR`` orders per client address in each
clock hour, so nobody can fill the order table with pending orders.

The address is the one the trusted reverse proxies report (``TRUSTED_PROXY_COUNT``), as for the other throttles,
with an IPv6 address counted for its whole /64 network (one customer line gets a /64, so a new address per order
would otherwise be a new allowance). Counters live in Django's cache (Redis in production, shared by every
worker). Only orders count: a form sent back with errors uses nothing.
"""

import contextlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from core.client_address import address_bucket, client_ip

WINDOW_SECONDS = 3600


def client_address(request: HttpRequest) -> str | None:
    """The address to count orders under (IPv6 per /64); None when the peer is not an IP address (a unix socket),
    which is not limited."""
    return address_bucket(client_ip(request.META))


@dataclass(frozen=True)
class OrderAllowance:
    """The outcome of asking for one more order: ``retry_after`` seconds until the next is allowed when refused."""

    allowed: bool
    retry_after: int = 0
    key: str | None = None


def _limit() -> int:
    return int(getattr(settings, "STOREFRONT_ORDERS_PER_HOUR", 20) or 0)


def _window(now: float) -> int:
    return int(now // WINDOW_SECONDS)


def _retry_after(window: int, now: float) -> int:
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def _key(address: str, window: int) -> str:
    return f"shop:orders:{address}:{window}"


def order_allowance_check(request: HttpRequest) -> OrderAllowance:
    """Whether the client may still place an order in this hour, without using any of its allowance."""
    limit, address = _limit(), client_address(request)
    if limit <= 0 or address is None:
        return OrderAllowance(allowed=True)
    now = time.time()
    window = _window(now)
    if int(cache.get(_key(address, window), 0)) >= limit:
        return OrderAllowance(allowed=False, retry_after=_retry_after(window, now))
    return OrderAllowance(allowed=True)


def order_allowance_take(request: HttpRequest) -> OrderAllowance:
    """Count one order for the client; refused (and not counted) when the hour's allowance is used up. Give it
    back with ``order_allowance_return`` when the order is not made after all."""
    limit, address = _limit(), client_address(request)
    if limit <= 0 or address is None:
        return OrderAllowance(allowed=True)
    now = time.time()
    window = _window(now)
    key = _key(address, window)
    # add() then incr() is atomic on Redis and in local memory, so concurrent orders cannot overshoot the limit;
    # the counter outlives its hour a little to cover clocks that differ between workers.
    cache.add(key, 0, WINDOW_SECONDS + 300)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, WINDOW_SECONDS + 300)
        count = 1
    if count > limit:
        cache.decr(key)
        return OrderAllowance(allowed=False, retry_after=_retry_after(window, now))
    return OrderAllowance(allowed=True, key=key)


def order_allowance_return(allowance: OrderAllowance) -> None:
    """Give back an allowance taken for an order that was not made."""
    if allowance.key is None:
        return
    with contextlib.suppress(ValueError):  # the hour's counter is gone already: nothing to give back
        cache.decr(allowance.key)
