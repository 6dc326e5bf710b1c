"""Reads of redemption: live holds, a merchant's redemptions and holds, and the recent list of a location."""

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from redemption import sql
from redemption.errors import HoldNotFound, RedemptionNotFound
from redemption.models import ApiToken, Hold, Redemption, hash_token
from vouchers.codes import MalformedCode, normalize_code
from vouchers.models import Voucher

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
    return sql.held_amount(voucher_id=voucher_id, now=now or timezone.now(), exclude_hold_id=exclude_hold_id)


def redemption_get(*, merchant_id: int, redemption_id: object) -> Redemption:
    """The merchant's redemption; raises RedemptionNotFound for unknown ids and other merchants' alike."""
    pk = _parse_id(redemption_id)
    redemption = (
        Redemption.objects.filter(merchant_id=merchant_id, pk=pk)
        .select_related("voucher", "location", "merchant")
        .first()
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


# The two reads below run on every API request; they are written as SQL (see redemption.sql).


def api_token_by_secret(token: str) -> ApiToken | None:
    """The active token with this secret, of an active merchant, or None."""
    return sql.api_token_by_hash(hash_token(token))


def counter_voucher(*, merchant_id: int, code: str, lock: bool = False) -> tuple[Voucher, int] | None:
    """The merchant's voucher with this code (any case, spaces, dashes, look-alikes), with its merchant's time
    zone and locale, and the amount its live holds reserve; None for unknown, malformed and other merchants' codes.

    One statement for what a validation needs. With ``lock`` (inside a transaction) the voucher row is locked
    for update first and the holds are summed by a second statement: a statement that waited for the lock still
    reads other tables as they were when it started, and would miss a hold committed meanwhile. The sum then
    stays true until the transaction ends, as holds are only added under the voucher's lock.
    """
    if lock and not connection.in_atomic_block:
        raise TransactionManagementError("counter_voucher(lock=True) needs the caller's transaction")
    try:
        canonical = normalize_code(code)
    except MalformedCode:
        return None
    found = sql.counter_voucher_row(merchant_id=merchant_id, code=canonical, now=timezone.now(), lock=lock)
    if found is None:
        return None
    voucher, held = found
    # Under the lock the holds are summed by a statement of their own (see above).
    return voucher, held_amount(voucher_id=voucher.pk) if lock else held
