"""Throttling of code guessing: at most ``LIMIT`` failed lookups per minute per token, per user and per address.

Every counter belongs to one merchant: one merchant's typos never lock out another merchant's tills behind the same
address (a shopping centre's shared line, a POS vendor's cloud). Addresses are counted as
``core.client_address.address_bucket`` says (IPv6 per /64 network).

Counters live in Django's cache (Redis in production, shared by every worker) in fixed one-minute windows; a caller
over the limit is refused every lookup until the window ends, and one audit row is written per caller, merchant and
window. Only failures count, so a busy till that scans real vouchers is never slowed down.
"""

import time
from collections.abc import Sequence

from django.core.cache import cache

from core.client_address import client_ip
from redemption.errors import CodeGuessingThrottled
from redemption.models import ThrottleEvent

__all__ = ["LIMIT", "WINDOW_SECONDS", "check", "client_ip", "record_failure"]

LIMIT = 10
WINDOW_SECONDS = 60


def _window(now: float) -> int:
    return int(now // WINDOW_SECONDS)


def _counter_key(merchant_id: int, identity: str, window: int) -> str:
    return f"redemption:guess:{merchant_id}:{identity}:{window}"


def check(
    identities: Sequence[str],
    *,
    merchant_id: int,
    api_token_id: int | None = None,
    user_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Raise CodeGuessingThrottled when any of ``identities`` used up its failures at ``merchant_id`` in this
    window."""
    if not identities:
        return
    now = time.time()
    window = _window(now)
    counts = cache.get_many([_counter_key(merchant_id, identity, window) for identity in identities])
    for identity in identities:
        failures = counts.get(_counter_key(merchant_id, identity, window), 0)
        if failures >= LIMIT:
            # One audit row per caller and window, however often it keeps knocking.
            if cache.add(f"redemption:guess-audit:{merchant_id}:{identity}:{window}", 1, WINDOW_SECONDS * 2):
                ThrottleEvent.objects.create(
                    merchant_id=merchant_id,
                    identity=identity[:200],
                    api_token_id=api_token_id,
                    user_id=user_id,
                    ip=ip or None,
                    failures=failures,
                )
            retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
            raise CodeGuessingThrottled(retry_after=retry_after)


def record_failure(identities: Sequence[str], *, merchant_id: int) -> None:
    """Count one failed lookup at ``merchant_id`` for each of ``identities``."""
    window = _window(time.time())
    for identity in identities:
        key = _counter_key(merchant_id, identity, window)
        # add() then incr() is atomic on Redis and in local memory; two windows of lifetime cover clock skew.
        cache.add(key, 0, WINDOW_SECONDS * 2)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS * 2)
