"""Who is asking: the client's address as the trusted reverse proxies report it, and the bucket it is counted in.

Shared by every limit that counts per address (staff login failures, code guessing at the counter), so that all of
them agree on which address a request came from and on IPv6 clients being counted per /64 network.
"""

import functools
import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


@functools.cache
def _warn_forwarded_for_ignored() -> None:
    """Logged once per process: the header a proxy would set arrives, but no proxy is trusted to set it."""
    logger.warning(
        "Requests carry X-Forwarded-For but TRUSTED_PROXY_COUNT is 0: every client behind a reverse proxy is "
        "counted under the proxy's address (REMOTE_ADDR). Set TRUSTED_PROXY_COUNT to the number of proxies in "
        "front of the app; leave it at 0 only if clients connect directly."
    )


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """The caller's address: REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the
    outermost of them saw (the Nth entry of X-Forwarded-For from the right; entries further left are whatever the
    client chose to send). A header shorter than that, or an entry that is not an address, falls back to
    REMOTE_ADDR. Without trusted proxies the header is ignored, and in production (DEBUG off) its arrival is
    logged as a warning once per process: it usually means a proxy was put in front and the setting forgotten."""
    remote = str(meta.get("REMOTE_ADDR") or "") or None
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        if meta.get("HTTP_X_FORWARDED_FOR") and not settings.DEBUG:
            _warn_forwarded_for_ignored()
        return remote
    forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def address_bucket(address: str | None) -> str | None:
    """The address to count under: an IPv4 address as it is, an IPv6 address as its /64 network (one customer
    line gets a whole /64, so a new address per try would otherwise be a new allowance). None for no address or
    for something that is not one (a unix socket's peer, say)."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def forget_logged_warnings() -> None:
    """Let the once-per-process warnings be logged again (after a settings change, or in a test)."""
    _warn_forwarded_for_ignored.cache_clear()
