"""Redemption's raw SQL: the reads asked on every API request and the Idempotency-Key record's own writes.

Measured: building these queries with the ORM costs more than the database spends answering them (see
``core.rows``). Names come from model metadata through ``core.rows.ModelColumns``, values are always parameters,
and each statement is built once per database vendor (and variant).
"""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from core.rows import ModelColumns
from merchants.models import Merchant
from redemption.models import ApiToken, Hold, HoldStatus, IdempotencyRecord
from vouchers.models import Voucher

_TOKEN = ModelColumns(ApiToken, "t", ["id", "merchant_id", "location_id", "name", "prefix", "scopes", "last_used_at"])
_MERCHANT = ModelColumns(Merchant, "m", ["id", "is_active"])
_VOUCHER = ModelColumns(Voucher, "v")
_VOUCHER_MERCHANT = ModelColumns(Merchant, "m", ["id", "time_zone", "locale"])
_HOLD = ModelColumns(Hold, "h", ["id", "voucher_id", "status", "expires_at", "amount"])
_RECORD = ModelColumns(IdempotencyRecord, "r")
_RECORD_INSERTED = ("api_token_id", "key", "fingerprint", "state", "created_at")


# --- API tokens -------------------------------------------------------------------------------------------------


@functools.cache
def _token_sql(vendor: str) -> str:
    return (
        f"SELECT {_TOKEN.select_list} FROM {_TOKEN.table} JOIN {_MERCHANT.table} "  # noqa: S608 (names from model metadata; values are parameters)
        f"ON {_MERCHANT.column('id')} = {_TOKEN.column('merchant_id')} "
        f"WHERE {_TOKEN.column('secret_hash')} = %s AND {_TOKEN.column('revoked_at')} IS NULL "
        f"AND {_MERCHANT.column('is_active')}"
    )


def api_token_by_hash(secret_hash: str) -> ApiToken | None:
    """The unrevoked token whose secret hashes to ``secret_hash``, of an active merchant, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [secret_hash])
        row = cursor.fetchone()
    return None if row is None else _TOKEN.instance(row)


# --- Holds and the voucher at the counter -----------------------------------------------------------------------


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


def held_amount(*, voucher_id: int, now: datetime, exclude_hold_id: int | None = None) -> int:
    """The sum of the voucher's holds that are live and unexpired at ``now``, without ``exclude_hold_id``."""
    params: list[Any] = [voucher_id, HoldStatus.LIVE.value, connection.ops.adapt_datetimefield_value(now)]
    if exclude_hold_id is not None:
        params.append(exclude_hold_id)
    with connection.cursor() as cursor:
        cursor.execute(_held_sql(connection.vendor, exclude=exclude_hold_id is not None), params)
        row = cursor.fetchone()
    return int(row[0] or 0)


def counter_voucher_row(*, merchant_id: int, code: str, now: datetime, lock: bool) -> tuple[Voucher, int] | None:
    """The merchant's voucher with this canonical code, its merchant's time zone and locale loaded, and what its
    live holds reserve at ``now`` (0 with ``lock``: the row is locked for update and the caller sums the holds by a
    statement of its own). None when there is no such voucher."""
    live = [] if lock else [HoldStatus.LIVE.value, connection.ops.adapt_datetimefield_value(now)]
    with connection.cursor() as cursor:
        cursor.execute(_counter_voucher_sql(connection.vendor, lock=lock), [*live, merchant_id, code])
        row = cursor.fetchone()
    if row is None:
        return None
    voucher = _VOUCHER.instance(row)
    voucher.merchant = _VOUCHER_MERCHANT.instance(row, len(_VOUCHER.fields))
    return voucher, int(row[-1] or 0)


# --- Idempotency-Key records ------------------------------------------------------------------------------------


def _write_record(statement: Callable[[], Any]) -> Any:
    """Run the record's INSERT or UPDATE as a transaction of its own.

    Outside a transaction the statement commits by itself, and on PostgreSQL without waiting for the disk:
    ``set_config(..., true)`` in the statement applies to its own implicit transaction, so the commit costs no extra
    round trips. Inside a caller's transaction (a test's, say) it runs in a savepoint instead, so that a duplicate
    key does not break that transaction, and the caller's commit is left as it is.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            return statement()
    return statement()


def _async_commit(vendor: str, *, in_transaction: bool) -> str:
    """A FROM item that turns off waiting for the disk for the statement's own transaction, on PostgreSQL."""
    if vendor == "postgresql" and not in_transaction:
        return " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
    return ""


@functools.cache
def _record_insert_sql(vendor: str, *, in_transaction: bool, returning: bool) -> str:
    columns = ", ".join(_RECORD.name(attname) for attname in _RECORD_INSERTED)
    values = ", ".join(["%s"] * len(_RECORD_INSERTED))
    async_commit = _async_commit(vendor, in_transaction=in_transaction)
    sql = f"INSERT INTO {_RECORD.table_name} ({columns}) SELECT {values}{async_commit}"
    return sql + (f" RETURNING {_RECORD.name('id')}" if returning else "")


@functools.cache
def _record_finish_sql(vendor: str, *, in_transaction: bool) -> str:
    table = _RECORD.table_name
    return (
        f"UPDATE {table} SET {_RECORD.name('state')} = %s, {_RECORD.name('status_code')} = %s, "  # noqa: S608 (names only)
        f"{_RECORD.name('response_body')} = %s{_async_commit(vendor, in_transaction=in_transaction)} "
        f"WHERE {table}.{_RECORD.name('id')} = %s"
    )


def idempotency_record_insert(*, token_id: int, key: str, fingerprint: str, state: str, now: datetime) -> int:
    """INSERT a record and commit it (see ``_write_record``); its id. Raises IntegrityError when the token already
    has a record under ``key``."""

    def insert() -> int:
        returning = connection.features.can_return_columns_from_insert  # SQLite before 3.35 cannot
        sql = _record_insert_sql(connection.vendor, in_transaction=connection.in_atomic_block, returning=returning)
        with connection.cursor() as cursor:
            cursor.execute(sql, [token_id, key, fingerprint, state, connection.ops.adapt_datetimefield_value(now)])
            return int(cursor.fetchone()[0] if returning else cursor.lastrowid)

    return int(_write_record(insert))


def idempotency_record_finish(*, record_id: int, state: str, status_code: int, response_body: Any) -> None:
    """Store the answer under the record and commit it (see ``_write_record``)."""
    body = IdempotencyRecord._meta.get_field("response_body").get_db_prep_save(  # JSON, as the ORM writes it
        response_body, connection
    )

    def update() -> None:
        sql = _record_finish_sql(connection.vendor, in_transaction=connection.in_atomic_block)
        with connection.cursor() as cursor:
            cursor.execute(sql, [state, status_code, body, record_id])

    _write_record(update)
