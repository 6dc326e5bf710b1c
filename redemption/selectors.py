"""Reads of redemption: live holds, a merchant's redemptions and holds, and the recent list of a location."""

from datetime import datetime

from django.db.models import QuerySet, Sum
from django.utils import timezone

from redemption.errors import HoldNotFound, RedemptionNotFound
from redemption.models import ApiToken, Hold, HoldStatus, Redemption, hash_token

_MAX_ID = 2**63 - 1


def _parse_id(raw: object) -> int | None:
    """An id from a URL, or None when it cannot be one (so the database never sees an out-of-range value)."""
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return value if 0 < value <= _MAX_ID else None


def held_amount(*, voucher_id: int, now: datetime | None = None, exclude_hold_id: int | None = None) -> int:
    """What live holds reserve on the voucher: status live and not yet expired."""
    holds = Hold.objects.filter(voucher_id=voucher_id, status=HoldStatus.LIVE, expires_at__gt=now or timezone.now())
    if exclude_hold_id is not None:
        holds = holds.exclude(pk=exclude_hold_id)
    return int(holds.aggregate(total=Sum("amount"))["total"] or 0)


def redemption_get(*, merchant_id: int, redemption_id: object) -> Redemption:
    """The merchant's redemption; raises RedemptionNotFound for unknown ids and other merchants' alike."""
    pk = _parse_id(redemption_id)
    redemption = (
        Redemption.objects.filter(merchant_id=merchant_id, pk=pk).select_related("voucher", "location").first()
        if pk
        else None
    )
    if redemption is None:
        raise RedemptionNotFound
    return redemption


def hold_get(*, merchant_id: int, hold_id: object) -> Hold:
    """The merchant's hold; raises HoldNotFound for unknown ids and other merchants' alike."""
    pk = _parse_id(hold_id)
    hold = Hold.objects.filter(merchant_id=merchant_id, pk=pk).select_related("voucher").first() if pk else None
    if hold is None:
        raise HoldNotFound
    return hold


def redemptions_recent(*, merchant_id: int, location_id: int, limit: int = 10) -> QuerySet[Redemption]:
    """The location's latest redemptions, newest first."""
    return (
        Redemption.objects.filter(merchant_id=merchant_id, location_id=location_id)
        .select_related("voucher", "user", "api_token")
        .order_by("-created_at", "-pk")[:limit]
    )


def api_token_by_secret(token: str) -> ApiToken | None:
    """The active token with this secret, or None."""
    # Asked on every API request: only the columns the request needs, no joins beyond the merchant's flag.
    # get() rather than first(): the hash is unique, and first() would add an ORDER BY to build and run.
    try:
        return ApiToken.objects.only(
            "pk", "merchant_id", "location_id", "name", "prefix", "scopes", "last_used_at"
        ).get(secret_hash=hash_token(token), revoked_at__isnull=True, merchant__is_active=True)
    except ApiToken.DoesNotExist:
        return None
