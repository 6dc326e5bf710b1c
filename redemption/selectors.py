"""Reads of redemption: live holds, a merchant's redemptions and holds, and the recent list of a location."""

import functools
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from config.rows import ModelColumns
from merchants.models import Merchant
from redemption.errors import HoldNotFound, RedemptionNotFound
from redemption.models import ApiToken, Hold, HoldStatus, Redemption, hash_token
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
    params: list[Any] = [
        voucher_id,
        HoldStatus.LIVE.value,
        connection.ops.adapt_datetimefield_value(now or timezone.now()),
    ]
    if exclude_hold_id is not None:
        params.append(exclude_hold_id)
    with connection.cursor() as cursor:
        cursor.execute(_held_sql(connection.vendor, exclude=exclude_hold_id is not None), params)
        row = cursor.fetchone()
    return int(row[0] or 0)


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


# The two reads below run on every API request; they are written as SQL (see config.rows for why).
_TOKEN = ModelColumns(ApiToken, "t", ["id", "merchant_id", "location_id", "name", "prefix", "scopes", "last_used_at"])
_MERCHANT = ModelColumns(Merchant, "m", ["id", "is_active"])
_VOUCHER = ModelColumns(Voucher, "v")
_VOUCHER_MERCHANT = ModelColumns(Merchant, "m", ["id", "time_zone", "locale"])
_HOLD = ModelColumns(Hold, "h", ["id", "voucher_id", "status", "expires_at", "amount"])


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
    live = [] if lock else [HoldStatus.LIVE.value, connection.ops.adapt_datetimefield_value(timezone.now())]
    with connection.cursor() as cursor:
        cursor.execute(_counter_voucher_sql(connection.vendor, lock=lock), [*live, merchant_id, canonical])
        row = cursor.fetchone()
        if row is None:
            return None
        voucher = _VOUCHER.instance(row)
        voucher.merchant = _VOUCHER_MERCHANT.instance(row, len(_VOUCHER.fields))
    # Under the lock the holds are summed by a statement of their own (see above).
    return voucher, held_amount(voucher_id=voucher.pk) if lock else int(row[-1] or 0)


def _held_subquery(voucher_id: str) -> str:
    return (
        f"SELECT COALESCE(SUM({_HOLD.column('amount')}), 0) FROM {_HOLD.table} "  # noqa: S608 (names only)
        f"WHERE {_HOLD.column('voucher_id')} = {voucher_id} AND {_HOLD.column('status')} = %s "
        f"AND {_HOLD.column('expires_at')} > %s"
    )


@functools.cache
def _held_sql(vendor: str, *, exclude: bool) -> str:
    return _held_subquery("%s") + (f" AND {_HOLD.column('id')} <> %s" if exclude else "")


@functools.cache
def _counter_voucher_sql(vendor: str, *, lock: bool) -> str:
    held = "0" if lock else f"({_held_subquery(_VOUCHER.column('id'))})"
    sql = (
        f"SELECT {_VOUCHER.select_list}, {_VOUCHER_MERCHANT.select_list}, {held} "  # noqa: S608 (names only)
        f"FROM {_VOUCHER.table} JOIN {_VOUCHER_MERCHANT.table} "
        f"ON {_VOUCHER_MERCHANT.column('id')} = {_VOUCHER.column('merchant_id')} "
        f"WHERE {_VOUCHER.column('merchant_id')} = %s AND {_VOUCHER.column('code')} = %s"
    )
    if lock and connection.features.has_select_for_update_of:
        sql += f" FOR UPDATE OF {_VOUCHER.alias}"
    elif lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql
