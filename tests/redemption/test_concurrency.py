"""Real threads against PostgreSQL: one key redeems once; many redeems and holds never overspend."""

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from redemption.models import Hold, HoldStatus, Redemption
from tests.redemption.conftest import Api, issue, token_for
from vouchers.models import VoucherTransaction
from vouchers.selectors import ledger_sum

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Start ``count`` threads at one barrier and collect what each returned."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_threads_one_key_make_one_redemption(shop):
    voucher = issue(shop, 5000)
    secret = token_for(shop)

    def redeem(_index: int) -> Any:
        return Api(Client(), secret).post(
            f"vouchers/{voucher.code}/redeem", {"amount": 700, "currency": "EUR"}, key="one-key"
        )

    results = run_together(20, redeem)

    statuses = Counter(result.status for result in results)
    assert set(statuses) <= {201, 409}
    assert statuses[201] >= 1
    assert {result.body["code"] for result in results if result.status == 409} <= {"idempotency_key_in_use"}
    assert len({result.body["redemption"]["id"] for result in results if result.status == 201}) == 1
    assert Redemption.objects.count() == 1
    assert VoucherTransaction.objects.filter(voucher=voucher, kind="redeem").count() == 1
    voucher.refresh_from_db()
    assert voucher.balance == ledger_sum(voucher.pk) == 4300


def test_fifty_concurrent_redeems_never_overspend(shop):
    voucher = issue(shop, 5000)
    secrets = [token_for(shop) for _ in range(5)]

    def redeem(index: int) -> Any:
        return Api(Client(), secrets[index % 5]).post(
            f"vouchers/{voucher.code}/redeem", {"amount": 150, "currency": "EUR"}
        )

    results = run_together(50, redeem)

    statuses = Counter(result.status for result in results)
    assert statuses[201] == 5000 // 150
    assert statuses[409] == 50 - 5000 // 150
    assert {result.body["code"] for result in results if result.status == 409} <= {
        "insufficient_balance",
        "not_redeemable",
    }
    voucher.refresh_from_db()
    assert voucher.balance == ledger_sum(voucher.pk) == 5000 - 150 * (5000 // 150)
    assert Redemption.objects.count() == 5000 // 150


def test_concurrent_holds_and_redeems_never_promise_more_than_the_balance(shop):
    voucher = issue(shop, 3000)
    secret = token_for(shop)

    def act(index: int) -> Any:
        api = Api(Client(), secret)
        if index % 2:
            return api.post(f"vouchers/{voucher.code}/holds", {"amount": 400, "currency": "EUR"})
        return api.post(f"vouchers/{voucher.code}/redeem", {"amount": 400, "currency": "EUR"})

    results = run_together(20, act)

    assert {result.status for result in results} <= {201, 409}
    voucher.refresh_from_db()
    held = sum(Hold.objects.filter(voucher=voucher, status=HoldStatus.LIVE).values_list("amount", flat=True))
    redeemed = sum(Redemption.objects.filter(voucher=voucher).values_list("amount", flat=True))
    assert redeemed + held <= 3000
    assert sum(1 for result in results if result.status == 201) == 3000 // 400
    assert voucher.balance == ledger_sum(voucher.pk) == 3000 - redeemed


def test_concurrent_reverses_restore_once(shop):
    voucher = issue(shop, 5000)
    secret = token_for(shop)
    redemption_id = (
        Api(Client(), secret)
        .post(f"vouchers/{voucher.code}/redeem", {"amount": 2000, "currency": "EUR"})
        .body["redemption"]["id"]
    )

    results = run_together(10, lambda _i: Api(Client(), secret).post(f"redemptions/{redemption_id}/reverse"))

    assert Counter(result.status for result in results) == Counter({200: 1, 409: 9})
    voucher.refresh_from_db()
    assert voucher.balance == ledger_sum(voucher.pk) == 5000
