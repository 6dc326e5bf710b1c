"""Throttling of code guessing: at most ``LIMIT`` failed lookups per minute per token, per user and per IP.

Counters live in Django's cache (Redis in production, shared by every worker) in fixed one-minute windows; a
caller over the limit is refused every lookup until the window ends, and one audit row is written per caller and
window. Only failures count, so a busy till that scans real vouchers is never slowed down.
"""

import ipaddress
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache

from redemption.errors import CodeGuessingThrottled
from redemption.models import ThrottleEvent

LIMIT = 10
WINDOW_SECONDS = 60


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """The caller's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the
    outermost of them saw (the Nth entry of X-Forwarded-For from the right; entries further left are whatever the
    client chose to send). A header shorter than that, or an entry that is not an address, falls back to
    REMOTE_ADDR."""
    remote = str(meta.get("REMOTE_ADDR") or "") or None
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _window(now: float) -> int:
    return int(now // WINDOW_SECONDS)


def _counter_key(identity: str, window: int) -> str:
    return f"redemption:guess:{identity}:{window}"


def check(
    identities: Sequence[str],
    *,
    merchant_id: int | None = None,
    api_token_id: int | None = None,
    user_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Raise CodeGuessingThrottled when any of ``identities`` used up its failures in this window."""
    if not identities:
        return
    now = time.time()
    window = _window(now)
    counts = cache.get_many([_counter_key(identity, window) for identity in identities])
    for identity in identities:
        failures = counts.get(_counter_key(identity, window), 0)
        if failures >= LIMIT:
            # One audit row per caller and window, however often it keeps knocking.
            if cache.add(f"redemption:guess-audit:{identity}:{window}", 1, WINDOW_SECONDS * 2):
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


def record_failure(identities: Sequence[str]) -> None:
    """Count one failed lookup for each of ``identities``."""
    window = _window(time.time())
    for identity in identities:
        key = _counter_key(identity, window)
        # add() then incr() is atomic on Redis and in local memory; two windows of lifetime cover clock skew.
        cache.add(key, 0, WINDOW_SECONDS * 2)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS * 2)
