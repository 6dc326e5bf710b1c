"""Vouchers' raw SQL: the ledger row an idempotency key wrote, asked before every redemption with a key.

Measured: the ORM takes longer to build this query than the database takes to run it (see ``core.rows``). Names
come from model metadata through ``core.rows.ModelColumns``; values are parameters.
"""

import functools

from django.db import connection

from core.rows import ModelColumns
from vouchers.models import VoucherTransaction

_LEDGER = ModelColumns(VoucherTransaction, "t")


@functools.cache
def _ledger_row_by_key_sql(vendor: str) -> str:
    return (
        f"SELECT {_LEDGER.select_list} FROM {_LEDGER.table} "  # noqa: S608 (names only)
        f"WHERE {_LEDGER.column('voucher_id')} = %s AND {_LEDGER.column('idempotency_key')} = %s"
    )


def ledger_row_by_key(voucher_id: int, idempotency_key: str) -> VoucherTransaction | None:
    """The voucher's ledger row written under ``idempotency_key``, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_ledger_row_by_key_sql(connection.vendor), [voucher_id, idempotency_key])
        row = cursor.fetchone()
    return None if row is None else _LEDGER.instance(row)
