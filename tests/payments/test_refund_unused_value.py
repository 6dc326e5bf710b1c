"""Refunds started in the shop offer what the vouchers have left; more takes an owner's reason, which is recorded.
A refund and a redemption at the same moment never both spend the same money."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from merchants.models import Role
from payments.errors import RefundNotPossible
from payments.services import refund_create
from shop.models import OrderStatus, OrderStatusChange
from shop.services import order_refund
from tests.factories import StaffMembershipFactory
from tests.payments.helpers import checkout
from tests.shop.factories import place_order
from vouchers.errors import VoucherError
from vouchers.models import TransactionKind, Voucher, VoucherStatus, VoucherTransaction
from vouchers.selectors import ledger_sum
from vouchers.services import voucher_redeem

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(fake_stripe, send):
    """An order of two €50 vouchers, paid and fulfilled through the webhook."""
    order = place_order(quantity=2)
    session = fake_stripe.complete(checkout(order))
    send(fake_stripe.event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    return order


def vouchers_of(order):
    return list(Voucher.objects.filter(order_line__order=order).order_by("pk"))


def test_refund_the_rest_asks_stripe_for_the_unused_value_only(fake_stripe, paid_order):
    # Given €40 of the order's €100 was spent
    voucher_redeem(voucher_id=vouchers_of(paid_order)[0].pk, amount=4000)
    # When the rest is refunded
    refund_create(order_id=paid_order.pk)
    # Then Stripe is asked for the €60 left, not the €100 paid
    assert [refund["amount"] for refund in fake_stripe.refunds] == [6000]


def test_nothing_is_refunded_when_the_vouchers_are_used_up(fake_stripe, paid_order):
    for voucher in vouchers_of(paid_order):
        voucher_redeem(voucher_id=voucher.pk, amount=5000)
    with pytest.raises(RefundNotPossible):
        refund_create(order_id=paid_order.pk)
    assert not fake_stripe.refunds


def test_more_than_the_unused_value_needs_a_reason_which_is_recorded(fake_stripe, paid_order):
    voucher_redeem(voucher_id=vouchers_of(paid_order)[0].pk, amount=4000)
    with pytest.raises(RefundNotPossible):
        refund_create(order_id=paid_order.pk, amount=10000)
    assert not fake_stripe.refunds
    refund_create(order_id=paid_order.pk, amount=10000, reason="Goodwill: the spa was closed", requested_by="anna")
    assert [refund["amount"] for refund in fake_stripe.refunds] == [10000]
    note = OrderStatusChange.objects.filter(order=paid_order).order_by("pk").last()
    assert "Goodwill: the spa was closed" in note.cause
    assert "anna" in note.cause
    assert note.from_status == note.to_status == OrderStatus.FULFILLED


@pytest.fixture
def owner_client(client, paid_order):
    owner = StaffMembershipFactory(merchant=paid_order.merchant, role=Role.OWNER).user
    client.force_login(owner)
    return client


def refund_page(order):
    return reverse("admin:payments_payment_refund", args=[order.payment.pk])


def test_the_refund_page_offers_the_unused_value(fake_stripe, owner_client, paid_order):
    voucher_redeem(voucher_id=vouchers_of(paid_order)[0].pk, amount=4000)
    page = owner_client.get(refund_page(paid_order))
    assert page.status_code == 200
    assert page.context["form"]["amount"].value() == 6000
    assert "60.00" in page.content.decode()


def test_the_payment_page_links_to_the_refund_page(fake_stripe, owner_client, paid_order):
    page = owner_client.get(reverse("admin:payments_payment_change", args=[paid_order.payment.pk]))
    assert page.status_code == 200
    assert refund_page(paid_order) in page.content.decode()


def test_the_refund_page_refuses_more_without_a_reason_and_records_one(fake_stripe, owner_client, paid_order):
    voucher_redeem(voucher_id=vouchers_of(paid_order)[0].pk, amount=4000)
    refused = owner_client.post(refund_page(paid_order), {"amount": "10000", "reason": " "})
    assert refused.status_code == 400
    assert refused.context["form"].errors["reason"]
    assert not fake_stripe.refunds
    done = owner_client.post(refund_page(paid_order), {"amount": "10000", "reason": "Broken promise"})
    assert done.status_code == 302
    assert [refund["amount"] for refund in fake_stripe.refunds] == [10000]
    assert OrderStatusChange.objects.filter(order=paid_order, cause__contains="Broken promise").exists()


def test_the_refund_page_refuses_more_than_was_paid(fake_stripe, owner_client, paid_order):
    response = owner_client.post(refund_page(paid_order), {"amount": "10001", "reason": "typo"})
    assert response.status_code == 400
    assert response.context["form"].errors["amount"]
    assert not fake_stripe.refunds


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CASHIER])
def test_only_owners_refund(fake_stripe, client, paid_order, role):
    user = StaffMembershipFactory(merchant=paid_order.merchant, role=role).user
    client.force_login(user)
    # A manager is refused; a cashier's login has no staff flag and is sent to the admin login
    assert client.post(refund_page(paid_order), {"amount": "100"}).status_code in (302, 403, 404)
    assert not fake_stripe.refunds


def test_another_merchants_owner_cannot_open_the_refund_page(fake_stripe, client, paid_order):
    client.force_login(StaffMembershipFactory(role=Role.OWNER).user)
    assert client.get(refund_page(paid_order)).status_code == 404
    assert client.post(refund_page(paid_order), {"amount": "100"}).status_code == 404
    assert not fake_stripe.refunds


def race_redemption_and_refund(order, *, refunded: int) -> list[BaseException]:
    """Redeem €40 of the order's newer voucher in one thread while another applies the refund; returns what failed
    unexpectedly (a refused redemption of a voided voucher is expected)."""
    _older, newer = vouchers_of(order)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def redeem() -> None:
        try:
            barrier.wait()
            voucher_redeem(voucher_id=newer.pk, amount=4000)
        except VoucherError:
            pass  # the refund came first and voided the voucher
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    def refund() -> None:
        try:
            barrier.wait()
            order_refund(order_id=order.pk, amount_refunded=refunded, cause="race")
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem), threading.Thread(target=refund)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("refunded", [10000, 3000], ids=["full", "partial"])
def test_a_redemption_racing_a_refund_never_spends_refunded_money(fake_stripe, send, refunded):
    for _round in range(5):
        # Given a paid order of two €50 vouchers
        order = place_order(quantity=2)
        session = fake_stripe.complete(checkout(order))
        send(fake_stripe.event("checkout.session.completed", session))
        # When a cashier redeems €40 of the newer voucher while the refund is applied
        failures = race_redemption_and_refund(order, refunded=refunded)
        # Then the refund applied in full and no money was both refunded and spent
        assert not failures
        rows = VoucherTransaction.objects.filter(voucher__order_line__order=order)
        taken_by_refund = -sum(row.amount for row in rows.filter(kind=TransactionKind.REFUND))
        spent = -sum(row.amount for row in rows.filter(kind=TransactionKind.REDEEM))
        assert taken_by_refund + spent <= 10000
        assert taken_by_refund == min(refunded, 10000 - spent)
        vouchers = vouchers_of(order)
        for voucher in vouchers:
            assert voucher.balance == ledger_sum(voucher.pk)
            # A redemption, if any, came before the refund took value off this voucher.
            refund_rows = [row.pk for row in rows.filter(voucher=voucher, kind=TransactionKind.REFUND)]
            redeem_rows = [row.pk for row in rows.filter(voucher=voucher, kind=TransactionKind.REDEEM)]
            if refund_rows and redeem_rows:
                assert max(redeem_rows) < min(refund_rows)
        if refunded == 10000:
            assert {voucher.status for voucher in vouchers} == {VoucherStatus.VOID}
