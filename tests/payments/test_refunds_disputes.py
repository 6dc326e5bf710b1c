"""Refunds and disputes from Stripe: the vouchers lose the refunded value, used or not, and nothing happens twice."""

import pytest

from shop.models import OrderStatus
from tests.payments.helpers import checkout
from tests.shop.factories import place_order
from vouchers.errors import InvalidTransition, NotRedeemable
from vouchers.models import TransactionKind, Voucher, VoucherStatus, VoucherTransaction
from vouchers.selectors import ledger_sum
from vouchers.services import voucher_redeem, voucher_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(fake_stripe, send):
    """An order of two €50 vouchers, paid and fulfilled through the webhook; returns (order, charge)."""
    order = place_order(quantity=2)
    session_id = checkout(order)
    session = fake_stripe.complete(session_id)
    send(fake_stripe.event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 10000,
        "amount_refunded": 0,
        "currency": "eur",
        "payment_intent": session["payment_intent"],
        "refunded": False,
    }
    return order, charge


def vouchers_of(order):
    return list(Voucher.objects.filter(order_line__order=order).order_by("pk"))


def test_full_refund_voids_unused_vouchers_once(fake_stripe, send, paid_order):
    order, charge = paid_order
    refunded = fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 10000, "refunded": True})
    send(refunded)
    send(refunded)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.amount_refunded == 10000
    assert [(v.status, v.balance) for v in vouchers_of(order)] == [(VoucherStatus.VOID, 0), (VoucherStatus.VOID, 0)]
    assert VoucherTransaction.objects.filter(voucher__order_line__order=order, kind=TransactionKind.REFUND).count() == 2
    assert not order.needs_attention


def test_a_full_refund_takes_the_rest_of_a_partly_used_voucher_too(fake_stripe, send, paid_order):
    # Given two vouchers of a paid order, one partly used
    order, charge = paid_order
    used, unused = vouchers_of(order)
    redemption = voucher_redeem(voucher_id=used.pk, amount=1000)
    # When the whole payment is refunded (e.g. in Stripe's dashboard)
    send(fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 10000, "refunded": True}))
    order.refresh_from_db()
    used.refresh_from_db()
    unused.refresh_from_db()
    # Then both vouchers are void with nothing left, each change a ledger row, and the merchant is told
    assert order.status == OrderStatus.REFUNDED
    assert (used.status, used.balance) == (VoucherStatus.VOID, 0)
    assert (unused.status, unused.balance) == (VoucherStatus.VOID, 0)
    assert [row.amount for row in used.transactions.filter(kind=TransactionKind.REFUND)] == [-4000]
    assert [row.amount for row in unused.transactions.filter(kind=TransactionKind.REFUND)] == [-5000]
    assert order.needs_attention
    assert used.display_code in order.attention_reason
    # And neither the rest nor the earlier redemption can be spent again
    with pytest.raises(NotRedeemable):
        voucher_redeem(voucher_id=used.pk, amount=1)
    with pytest.raises(InvalidTransition):
        voucher_reverse(transaction_id=redemption.pk)
    assert ledger_sum(used.pk) == 0


def test_a_full_refund_voids_a_spent_voucher_so_a_reversal_cannot_bring_value_back(fake_stripe, send, paid_order):
    order, charge = paid_order
    spent = vouchers_of(order)[0]
    redemption = voucher_redeem(voucher_id=spent.pk, amount=5000)
    send(fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 10000, "refunded": True}))
    spent.refresh_from_db()
    assert (spent.status, spent.balance) == (VoucherStatus.VOID, 0)
    with pytest.raises(InvalidTransition):
        voucher_reverse(transaction_id=redemption.pk)


def test_a_partial_refund_takes_value_off_used_vouchers_too(fake_stripe, send, paid_order):
    # Given the newer voucher has €10 left after a €40 redemption
    order, charge = paid_order
    older, newer = vouchers_of(order)
    voucher_redeem(voucher_id=newer.pk, amount=4000)
    # When €30 is refunded
    send(fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 3000}))
    older.refresh_from_db()
    newer.refresh_from_db()
    # Then the newer voucher's last €10 and €20 of the older one are taken
    assert (newer.status, newer.balance) == (VoucherStatus.VOID, 0)
    assert (older.status, older.balance) == (VoucherStatus.ACTIVE, 3000)
    assert ledger_sum(older.pk) == 3000
    assert ledger_sum(newer.pk) == 0


def test_partial_refunds_take_value_off_unused_vouchers_cumulatively(fake_stripe, send, paid_order):
    order, charge = paid_order
    first, second = vouchers_of(order)
    # Stripe reports the total refunded so far: first €20, then €70 in all (and the first report again)
    twenty = fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 2000})
    send(twenty)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.FULFILLED, 2000)
    second.refresh_from_db()
    assert second.balance == 3000
    send(fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 7000}))
    send(fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 2000}))
    order.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.FULFILLED, 7000)
    assert (second.status, second.balance) == (VoucherStatus.VOID, 0)
    assert (first.status, first.balance) == (VoucherStatus.ACTIVE, 3000)
    assert not order.needs_attention


def test_dispute_freezes_then_won_unfreezes(fake_stripe, send, paid_order):
    order, charge = paid_order
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_1", "payment_intent": charge["payment_intent"]}
    send(fake_stripe.event("charge.dispute.created", {**dispute, "status": "needs_response"}))
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTED
    assert {v.status for v in vouchers_of(order)} == {VoucherStatus.FROZEN}
    send(fake_stripe.event("charge.dispute.closed", {**dispute, "status": "won"}))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert [(v.status, v.balance) for v in vouchers_of(order)] == [(VoucherStatus.ACTIVE, 5000)] * 2


def test_dispute_lost_voids_the_remaining_value(fake_stripe, send, paid_order):
    order, charge = paid_order
    used = vouchers_of(order)[0]
    voucher_redeem(voucher_id=used.pk, amount=500)
    dispute = {"id": "dp_2", "object": "dispute", "charge": "ch_1", "payment_intent": charge["payment_intent"]}
    send(fake_stripe.event("charge.dispute.created", {**dispute, "status": "needs_response"}))
    send(fake_stripe.event("charge.dispute.closed", {**dispute, "status": "lost"}))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert [(v.status, v.balance) for v in vouchers_of(order)] == [(VoucherStatus.VOID, 0)] * 2


def test_dispute_events_out_of_order_end_the_same(fake_stripe, send, paid_order):
    order, charge = paid_order
    dispute = {"id": "dp_3", "object": "dispute", "charge": "ch_1", "payment_intent": charge["payment_intent"]}
    # "closed" (won) arrives before "created"
    send(fake_stripe.event("charge.dispute.closed", {**dispute, "status": "won"}))
    send(fake_stripe.event("charge.dispute.created", {**dispute, "status": "needs_response"}))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert {v.status for v in vouchers_of(order)} == {VoucherStatus.ACTIVE}


def test_a_partial_refund_of_item_vouchers_is_flagged_for_the_merchant(fake_stripe, send):
    from tests.shop.factories import ItemProductFactory

    order = place_order(ItemProductFactory())
    session = fake_stripe.complete(checkout(order))
    send(fake_stripe.event("checkout.session.completed", session))
    charge = {"id": "ch_9", "object": "charge", "payment_intent": session["payment_intent"], "amount": 6900}
    send(fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 1000}))
    order.refresh_from_db()
    (voucher,) = vouchers_of(order)
    assert order.amount_refunded == 1000
    assert order.needs_attention
    assert (voucher.status, voucher.balance) == (VoucherStatus.ACTIVE, 1)


def test_a_refund_started_in_the_shop_goes_to_stripe_once_and_applies_with_its_event(fake_stripe, send, paid_order):
    from payments.services import refund_create

    order, charge = paid_order
    # When the owner refunds €30 (and the request is repeated)
    first = refund_create(order_id=order.pk, amount=3000)
    again = refund_create(order_id=order.pk, amount=3000)
    # Then Stripe was asked once (same idempotency key), and nothing changed before Stripe's event
    assert first == again
    assert len(fake_stripe.refunds) == 1
    assert fake_stripe.refunds[0]["amount"] == 3000
    order.refresh_from_db()
    assert order.amount_refunded == 0
    send(fake_stripe.event("charge.refunded", {**charge, "amount_refunded": 3000}))
    order.refresh_from_db()
    assert order.amount_refunded == 3000


@pytest.mark.parametrize("amount", [0, -1, 10001])
def test_a_refund_outside_the_paid_amount_is_refused(fake_stripe, paid_order, amount):
    from payments.errors import RefundNotPossible
    from payments.services import refund_create

    order, _charge = paid_order
    with pytest.raises(RefundNotPossible):
        refund_create(order_id=order.pk, amount=amount)
    assert not fake_stripe.refunds


def test_the_owner_refunds_a_demo_payment_from_the_admin(client, demo_mode, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from merchants.models import Role
    from payments.services import demo_pay
    from tests.factories import StaffMembershipFactory

    order = place_order(quantity=2)
    session_id = checkout(order)
    with django_capture_on_commit_callbacks(execute=True):
        demo_pay(session_id=session_id)
    owner = StaffMembershipFactory(merchant=order.merchant, role=Role.OWNER).user
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:payments_payment_changelist"),
            {"action": "refund_in_full", "_selected_action": [order.payment.pk]},
        )
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (OrderStatus.REFUNDED, 10000)
    assert {v.status for v in vouchers_of(order)} == {VoucherStatus.VOID}
