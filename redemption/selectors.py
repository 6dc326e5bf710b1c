"""Reads of redemption: live holds, a merchant's redemptions and holds, and the recent list of a location."""

import functools
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from config.rows import ModelColumns
from redemption.errors import HoldNotFound, RedemptionNotFound
from redemption.models import ApiToken, Hold, HoldStatus, Redemption, hash_token
from shop.models import Merchant
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


# The two reads below run on every API request; they are written as SQL (see config.rows for why).
_TOKEN = ModelColumns(ApiToken, "t", ["id", "merchant_id", "location_id", "name", "prefix", "scopes", "last_used_at"])
_MERCHANT = ModelColumns(Merchant, "m", ["id", "is_active"])
_VOUCHER = ModelColumns(Voucher, "v")
_VOUCHER_MERCHANT = ModelColumns(Merchant, "m", ["id", "time_zone", "locale"])
_HOLD = ModelColumns(Hold, "h", ["voucher_id", "status", "expires_at", "amount"])


@functools.cache
def _token_sql(vendor: str) -> str:
    return (
        f"SELECT {_TOKEN.select_list} FROM {_TOKEN.table} JOIN {_MERCHANT.table} "  # noqa: S608 (names from model metadata; values are parameters)
        f"ON {_MERCHANT.column('id')} = {_TOKEN.column('merchant_id')} "
        f"WHERE {_TOKEN.column('secret_hash')} = %s AND {_TOKEN.column('revoked_at')} IS NULL "
        f"AND {_MERCHANT.column('is_active')}"
    )


def api_token_by_secret(token: str) -> ApiToken | None:
    """The active token with this secret, of an active merchant, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [hash_token(token)])
        row = cursor.fetchone()
    return None if row is None else _TOKEN.instance(row)


def counter_voucher(*, merchant_id: int, code: str, lock: bool = False) -> tuple[Voucher, int] | None:
    """The merchant's voucher with this code (any case, spaces, dashes, look-alikes), with its merchant's time
    zone and locale, and the amount its live holds reserve; None for unknown, malformed and other merchants' codes.

    One statement for what a validation needs. With ``lock`` (inside a transaction) the voucher row is locked
    for update, so the held amount stays true until the transaction ends: holds are only added under that lock.
    """
    try:
        canonical = normalize_code(code)
    except MalformedCode:
        return None
    with connection.cursor() as cursor:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(
            _counter_voucher_sql(connection.vendor, lock), [HoldStatus.LIVE.value, now, merchant_id, canonical]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    voucher = _VOUCHER.instance(row)
    voucher.merchant = _VOUCHER_MERCHANT.instance(row, len(_VOUCHER.fields))
    return voucher, int(row[-1] or 0)


@functools.cache
def _counter_voucher_sql(vendor: str, lock: bool) -> str:
    sql = (
        f"SELECT {_VOUCHER.select_list}, {_VOUCHER_MERCHANT.select_list}, "  # noqa: S608
        f"(SELECT COALESCE(SUM({_HOLD.column('amount')}), 0) FROM {_HOLD.table} "
        f"WHERE {_HOLD.column('voucher_id')} = {_VOUCHER.column('id')} AND {_HOLD.column('status')} = %s "
        f"AND {_HOLD.column('expires_at')} > %s) "
        f"FROM {_VOUCHER.table} JOIN {_VOUCHER_MERCHANT.table} "
        f"ON {_VOUCHER_MERCHANT.column('id')} = {_VOUCHER.column('merchant_id')} "
        f"WHERE {_VOUCHER.column('merchant_id')} = %s AND {_VOUCHER.column('code')} = %s"
    )
    if lock and connection.features.has_select_for_update_of:
        sql += f" FOR UPDATE OF {_VOUCHER.alias}"
    elif lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql
