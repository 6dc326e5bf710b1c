"""Real threads against PostgreSQL row locks: value is never spent twice and a retried call writes one row."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from vouchers.errors import AlreadyReversed, InsufficientBalance, NotRedeemable
from vouchers.models import TransactionKind, Voucher, VoucherStatus, VoucherTransaction
from vouchers.selectors import ledger_sum
from vouchers.services import voucher_issue, voucher_redeem, voucher_reverse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Start ``count`` threads together; each returns its result or the exception it raised."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # the test inspects what each thread met
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_fifty_concurrent_partial_redeems_take_exactly_what_the_balance_allows(issue):
    # Given a voucher worth 10.00 and 50 cashiers each taking 0.30 at the same moment
    voucher = issue(value=1000)

    # When they all redeem at once
    results = run_in_threads(50, lambda index: voucher_redeem(voucher_id=voucher.pk, amount=30, reference=f"r{index}"))

    # Then exactly floor(1000 / 30) = 33 succeed and the rest are refused for the balance, not for a crash
    succeeded = [result for result in results if isinstance(result, VoucherTransaction)]
    refused = [result for result in results if not isinstance(result, VoucherTransaction)]
    assert len(succeeded) == 33
    assert all(isinstance(error, InsufficientBalance) for error in refused), refused
    assert len(refused) == 17
    # And the ledger adds up: nothing spent twice, nothing below zero, each row saw a distinct balance
    voucher.refresh_from_db()
    assert voucher.balance == 1000 - 33 * 30 == ledger_sum(voucher.pk)
    assert voucher.status == VoucherStatus.ACTIVE
    redeems = VoucherTransaction.objects.filter(voucher=voucher, kind=TransactionKind.REDEEM)
    assert redeems.count() == 33
    assert sorted(row.balance_after for row in redeems) == [1000 - 30 * n for n in range(33, 0, -1)]


def test_concurrent_redeems_of_the_whole_value_leave_it_spent_once(issue):
    # Given a voucher of 1.00 and 50 threads that each try to take 0.20
    voucher = issue(value=100)

    results = run_in_threads(50, lambda index: voucher_redeem(voucher_id=voucher.pk, amount=20))

    # Then five succeed; once spent, the others hear "not redeemable: spent" or "balance too low", never a crash
    succeeded = [result for result in results if isinstance(result, VoucherTransaction)]
    assert len(succeeded) == 5
    assert all(isinstance(result, VoucherTransaction | NotRedeemable | InsufficientBalance) for result in results)
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (0, VoucherStatus.SPENT)
    assert ledger_sum(voucher.pk) == 0


def test_twenty_threads_with_one_idempotency_key_write_exactly_one_row(issue):
    # Given a voucher and one till that retries the same redemption from 20 threads
    voucher = issue(value=5000)

    results = run_in_threads(
        20, lambda _index: voucher_redeem(voucher_id=voucher.pk, amount=1250, idempotency_key="till-7-receipt-42")
    )

    # Then every thread gets the same ledger row and only one was written
    assert all(isinstance(result, VoucherTransaction) for result in results), results
    assert {result.pk for result in results} == {results[0].pk}
    assert VoucherTransaction.objects.filter(voucher=voucher, kind=TransactionKind.REDEEM).count() == 1
    voucher.refresh_from_db()
    assert voucher.balance == 3750 == ledger_sum(voucher.pk)
    assert Voucher.objects.get(pk=voucher.pk).transactions.count() == 2


def test_twenty_threads_reversing_one_redemption_give_the_value_back_once(issue):
    # Given a redemption that 20 cashiers try to undo at the same moment
    voucher = issue(value=5000)
    redemption = voucher_redeem(voucher_id=voucher.pk, amount=2000)

    results = run_in_threads(20, lambda _index: voucher_reverse(transaction_id=redemption.pk))

    # Then one reversal is written and the others hear "already reversed"
    reversals = [result for result in results if isinstance(result, VoucherTransaction)]
    assert len(reversals) == 1
    assert all(isinstance(result, AlreadyReversed) for result in results if result not in reversals), results
    voucher.refresh_from_db()
    assert voucher.balance == 5000 == ledger_sum(voucher.pk)
    assert VoucherTransaction.objects.filter(voucher=voucher, kind=TransactionKind.REVERSE).count() == 1


def test_twenty_threads_issuing_with_one_key_get_one_voucher(merchant):
    # Given a paid order line whose issuing is retried from 20 workers at once
    results = run_in_threads(
        20, lambda _index: voucher_issue(merchant_id=merchant.pk, value=2500, issue_key="order-1-line-1-unit-1")
    )

    # Then all get the same voucher, and it has exactly one issue row
    assert all(isinstance(result, Voucher) for result in results), results
    assert {result.pk for result in results} == {results[0].pk}
    assert Voucher.objects.filter(merchant=merchant).count() == 1
    assert VoucherTransaction.objects.filter(voucher_id=results[0].pk).count() == 1
