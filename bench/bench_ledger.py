"""Ledger throughput: ``voucher_redeem`` calls per second on PostgreSQL, beside the same work in raw SQL.

The service path is the real one (transaction, ``select_for_update``, checks inside the lock, one ledger row, the
cached balance). The raw SQL path does the same logical operation with the fewest statements: lock the voucher row,
insert the ledger row, update the balance, in one transaction on the same connection. Both run on one hot voucher
(every call contends for one row) and spread over 10 000 vouchers, interleaved round by round in the same process,
so the ratio is what to read on a shared machine.

Needs ``DATABASE_URL=postgres://.../<name>`` whose database name contains ``bench``: the benchmark drops and
re-creates that database and migrates into it, so it never touches a development or test database.
"""

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

VOUCHERS = 10_000
ROUNDS = 7
CALLS_PER_ROUND = 400
HOT_VALUE = 10**15  # never runs out during the benchmark


def _refuse(message: str) -> None:
    raise SystemExit(f"bench ledger: {message}")


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        _refuse(
            "needs PostgreSQL row locks; set DATABASE_URL=postgres://postgres@127.0.0.1:5432/voucher_bench "
            f"(got {parts.scheme or 'nothing'!r})."
        )
    name = parts.path.lstrip("/")
    if "bench" not in name:
        _refuse(f"the database {name!r} is dropped and re-created; use a name containing 'bench'.")
    return url


def _recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        _refuse(f"connected to {connection.vendor}, not PostgreSQL.")
    call_command("migrate", verbosity=0, interactive=False)


def _seed() -> tuple[int, list[int]]:
    """One hot voucher and 10 000 others, each with its issue row, written in bulk (setup, not measured)."""
    from django.db import connection

    from merchants.models import Merchant
    from vouchers.codes import generate_code
    from vouchers.models import TransactionKind, Voucher, VoucherTransaction
    from vouchers.services import voucher_issue

    merchant = Merchant.objects.create(slug="bench", name="Bench", currency="EUR")
    hot = voucher_issue(merchant_id=merchant.pk, value=HOT_VALUE)
    value = 10**12
    spread = Voucher.objects.bulk_create(
        Voucher(
            merchant=merchant,
            code=generate_code(),
            currency="EUR",
            initial_value=value,
            balance=value,
            valid_from=hot.valid_from,
        )
        for _ in range(VOUCHERS)
    )
    VoucherTransaction.objects.bulk_create(
        (
            VoucherTransaction(voucher=voucher, kind=TransactionKind.ISSUE, amount=value, balance_after=value)
            for voucher in spread
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return hot.pk, [voucher.pk for voucher in spread]


def _service_redeem(voucher_id: int) -> None:
    from vouchers.services import voucher_redeem

    voucher_redeem(voucher_id=voucher_id, amount=1, reference="bench")


RAW_LOCK = "SELECT balance, status FROM vouchers_voucher WHERE id = %s FOR UPDATE"
RAW_INSERT = (
    "INSERT INTO vouchers_vouchertransaction (voucher_id, kind, amount, balance_after, actor_type, actor_label, "
    "reference, request_fingerprint, created_at) VALUES (%s, 'redeem', -1, %s, 'system', 'system', 'bench', '', now())"
)
RAW_UPDATE = "UPDATE vouchers_voucher SET balance = %s, updated_at = now() WHERE id = %s"


def _raw_redeem(voucher_id: int) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RAW_LOCK, [voucher_id])
        balance, status = cursor.fetchone()
        if status != "active" or balance < 1:
            raise RuntimeError("bench voucher ran out")
        cursor.execute(RAW_INSERT, [voucher_id, balance - 1])
        cursor.execute(RAW_UPDATE, [balance - 1, voucher_id])


def _rate(operation: Callable[[int], None], voucher_ids: list[int]) -> float:
    started = time.perf_counter()
    for voucher_id in voucher_ids:
        operation(voucher_id)
    return len(voucher_ids) / (time.perf_counter() - started)


def run() -> str:
    url = _database_url()
    _recreate_database(url)
    _setup_django()
    from django.db import connection

    from vouchers.models import Voucher, VoucherTransaction
    from vouchers.selectors import ledger_sum

    hot_id, spread_ids = _seed()
    chooser = random.Random(20261123)
    workloads = {"one hot voucher": lambda: [hot_id] * CALLS_PER_ROUND}
    workloads["spread over 10 000 vouchers"] = lambda: chooser.sample(spread_ids, CALLS_PER_ROUND)
    paths = {"service": _service_redeem, "raw SQL": _raw_redeem}

    # Warm up connections, caches and code paths before measuring.
    for operation in paths.values():
        _rate(operation, [hot_id] * 50 + chooser.sample(spread_ids, 50))

    rates: dict[tuple[str, str], list[float]] = {(w, p): [] for w in workloads for p in paths}
    for round_number in range(ROUNDS):
        print(f"  round {round_number + 1}/{ROUNDS}", file=sys.stderr, flush=True)
        for workload, ids in workloads.items():
            # Alternate which path goes first, so neither always meets a colder or warmer database.
            order = list(paths.items()) if round_number % 2 == 0 else list(reversed(paths.items()))
            batch = ids()
            for path, operation in order:
                rates[(workload, path)].append(_rate(operation, batch))

    # The figures count only if the ledger still adds up after every write.
    hot = Voucher.objects.get(pk=hot_id)
    assert hot.balance == ledger_sum(hot_id), "hot voucher's ledger does not add up"
    sample = chooser.sample(spread_ids, 200)
    assert all(v.balance == ledger_sum(v.pk) for v in Voucher.objects.filter(pk__in=sample))
    rows = VoucherTransaction.objects.count()

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]

    lines = [
        "## Ledger: `voucher_redeem` on PostgreSQL",
        "",
        f"Sequential redemptions of 1 minor unit from one process, {ROUNDS} rounds of {CALLS_PER_ROUND} calls per "
        f"workload and path, interleaved; medians of the per-round rates (PostgreSQL {server_version}, "
        f"{rows} ledger rows at the end). *Service* is `vouchers.services.voucher_redeem` (transaction, "
        "`select_for_update`, checks inside the lock, ledger row, cached balance); *raw SQL* is the same logical "
        "operation in three statements (`SELECT ... FOR UPDATE`, `INSERT` ledger row, `UPDATE` balance) in one "
        "transaction on the same connection.",
        "",
        "| workload | service (redeems/s) | raw SQL (redeems/s) | raw SQL / service |",
        "|---|---:|---:|---:|",
    ]
    for workload in workloads:
        service = statistics.median(rates[(workload, "service")])
        raw = statistics.median(rates[(workload, "raw SQL")])
        lines.append(f"| {workload} | {service:,.0f} | {raw:,.0f} | {raw / service:.2f}× |")
    lines += [
        "",
        "Per-round rates (redeems/s): "
        + "; ".join(
            f"{workload}, {path}: " + ", ".join(f"{rate:,.0f}" for rate in rates[(workload, path)])
            for workload in workloads
            for path in paths
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"
