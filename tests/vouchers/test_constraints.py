"""The database itself refuses a wrong balance or ledger row, whatever code tries to write it."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from vouchers.models import TransactionKind, Voucher, VoucherTransaction
from vouchers.services import voucher_redeem, voucher_reverse

pytestmark = pytest.mark.django_db


def refused_by_database(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_balance_cannot_go_below_zero(issue):
    voucher = issue(value=1000)
    refused_by_database(lambda: Voucher.objects.filter(pk=voucher.pk).update(balance=-1))
    assert Voucher.objects.get(pk=voucher.pk).balance == 1000


def test_balance_cannot_exceed_the_initial_value(issue):
    voucher = issue(value=1000)
    refused_by_database(lambda: Voucher.objects.filter(pk=voucher.pk).update(balance=1001))
    assert Voucher.objects.get(pk=voucher.pk).balance == 1000


def row(voucher: Voucher, kind: str, amount: int, **extra) -> VoucherTransaction:
    return VoucherTransaction.objects.create(voucher=voucher, kind=kind, amount=amount, balance_after=0, **extra)


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (TransactionKind.ISSUE, 0),
        (TransactionKind.ISSUE, -5),
        (TransactionKind.REDEEM, 0),
        (TransactionKind.REDEEM, 5),
        (TransactionKind.REFUND, 5),
        (TransactionKind.VOID, 5),
        (TransactionKind.EXPIRE, 5),
        (TransactionKind.ADJUST, 0),
        (TransactionKind.FREEZE, 5),
        (TransactionKind.UNFREEZE, -5),
    ],
)
def test_each_kind_of_row_has_its_sign(issue, kind, amount):
    voucher = issue()
    refused_by_database(lambda: row(voucher, kind, amount))
    assert voucher.transactions.count() == 1


def test_a_reverse_row_must_name_the_row_it_reverses_and_only_a_reverse_may(issue):
    voucher = issue()
    redemption = voucher_redeem(voucher_id=voucher.pk, amount=100)
    refused_by_database(lambda: row(voucher, TransactionKind.REVERSE, 100))
    refused_by_database(lambda: row(voucher, TransactionKind.ADJUST, 100, reverses=redemption))
    assert voucher.transactions.count() == 2


def test_a_row_can_be_reversed_only_once_even_bypassing_the_service(issue):
    voucher = issue()
    redemption = voucher_redeem(voucher_id=voucher.pk, amount=100)
    voucher_reverse(transaction_id=redemption.pk)
    refused_by_database(lambda: row(voucher, TransactionKind.REVERSE, 100, reverses=redemption))
    assert voucher.transactions.filter(kind=TransactionKind.REVERSE).count() == 1


def test_the_balance_after_a_row_is_never_negative(issue):
    voucher = issue()
    refused_by_database(
        lambda: VoucherTransaction.objects.create(
            voucher=voucher, kind=TransactionKind.REDEEM, amount=-1, balance_after=-1
        )
    )


def test_one_idempotency_key_per_voucher(issue):
    voucher = issue()
    voucher_redeem(voucher_id=voucher.pk, amount=100, idempotency_key="k")
    refused_by_database(
        lambda: VoucherTransaction.objects.create(
            voucher=voucher, kind=TransactionKind.REDEEM, amount=-1, balance_after=1, idempotency_key="k"
        )
    )
    # The same key on another voucher is a different request
    other = issue()
    assert voucher_redeem(voucher_id=other.pk, amount=100, idempotency_key="k").voucher_id == other.pk


def test_ledger_rows_cannot_be_updated_or_deleted_through_the_orm(issue):
    voucher = issue()
    entry = voucher.transactions.get()
    entry.amount = 1
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        VoucherTransaction.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(TypeError):
        VoucherTransaction.objects.filter(pk=entry.pk).delete()
    # And the row is as it was written
    assert VoucherTransaction.objects.values_list("amount", flat=True).get(pk=entry.pk) == 5000


def test_a_voucher_with_ledger_rows_cannot_be_deleted(issue):
    voucher = issue()
    with pytest.raises(IntegrityError), transaction.atomic():
        voucher.delete()
    assert Voucher.objects.filter(pk=voucher.pk).exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE vouchers_vouchertransaction SET amount = 1 WHERE id = %s",
        "UPDATE vouchers_vouchertransaction SET reference = 'rewritten' WHERE id = %s",
        "DELETE FROM vouchers_vouchertransaction WHERE id = %s",
    ],
)
def test_postgres_refuses_raw_sql_that_rewrites_the_ledger(issue, statement):
    # Given a ledger row and someone with a database shell
    voucher = issue()
    entry = voucher.transactions.get()

    # When they update or delete it in raw SQL, the trigger refuses
    with pytest.raises(DatabaseError, match="insert-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entry.pk])

    # Then the row is still there, unchanged; inserting is still allowed
    assert VoucherTransaction.objects.filter(pk=entry.pk, amount=5000, reference="").exists()
    assert voucher_redeem(voucher_id=voucher.pk, amount=1).pk > entry.pk
