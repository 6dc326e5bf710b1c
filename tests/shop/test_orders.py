"""The order state machine: guarded, logged, idempotent transitions; fulfilment issues vouchers and emails once."""

import zoneinfo
from datetime import date

import pytest
from django.core.management import call_command

from delivery.models import Delivery
from shop.errors import InvalidOrderInput, InvalidOrderTransition, UnknownProduct
from shop.models import Order, OrderStatus, OrderStatusChange, VoucherProduct
from shop.services import (
    order_cancel,
    order_create,
    order_dispute_close,
    order_dispute_open,
    order_expire,
    order_fulfil,
    order_mark_paid,
    order_refund,
)
from tests.shop.factories import ItemProductFactory, VoucherProductFactory, place_order
from vouchers.models import Voucher, VoucherKind

pytestmark = pytest.mark.django_db


def pay(order, amount=None):
    return order_mark_paid(order_id=order.pk, amount=amount or order.total, currency=order.currency, cause="test")


def transitions(order):
    return list(OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status"))


def test_mark_paid_is_logged_once_and_idempotent():
    order = place_order()
    pay(order)
    pay(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert transitions(order) == [("", OrderStatus.PENDING), (OrderStatus.PENDING, OrderStatus.PAID)]
    assert OrderStatusChange.objects.filter(order=order, to_status=OrderStatus.PAID).get().cause == "test"


def test_mark_paid_with_the_wrong_amount_flags_and_does_not_move():
    order = place_order()
    result = order_mark_paid(order_id=order.pk, amount=order.total - 1, currency="EUR", cause="stripe")
    assert result.status == OrderStatus.PENDING
    assert result.needs_attention
    with pytest.raises(InvalidOrderTransition):
        order_fulfil(order_id=order.pk)
    assert not Voucher.objects.exists()


def test_fulfil_issues_one_voucher_per_unit_and_schedules_emails_once():
    order = place_order(quantity=3, recipient_name="Rita", recipient_email="rita@example.com", message="Enjoy")
    pay(order)
    order_fulfil(order_id=order.pk)
    order_fulfil(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    vouchers = list(Voucher.objects.filter(order_line__order=order).order_by("pk"))
    line = order.lines.get()
    assert [v.issue_key for v in vouchers] == [f"orderline:{line.pk}:{n}" for n in range(3)]
    assert {(v.initial_value, v.balance, v.currency, v.recipient_email) for v in vouchers} == {
        (5000, 5000, "EUR", "rita@example.com")
    }
    deliveries = Delivery.objects.filter(voucher__in=vouchers)
    assert sorted(deliveries.values_list("purpose", "to_email")) == sorted(
        [("recipient", "rita@example.com")] * 3 + [("buyer_copy", "berta@example.com")] * 3
    )
    assert OrderStatusChange.objects.filter(order=order, to_status=OrderStatus.FULFILLED).count() == 1


def test_fulfil_sends_to_the_buyer_when_there_is_no_other_recipient():
    item = ItemProductFactory(validity_months=None, valid_until=date(2099, 12, 31))
    order = place_order(item)
    pay(order)
    order_fulfil(order_id=order.pk)
    voucher = Voucher.objects.get(order_line__order=order)
    assert (voucher.kind, voucher.initial_value, voucher.item_label) == (VoucherKind.ITEM, 1, "Massage 60 min")
    assert voucher.expires_at is not None
    assert voucher.expires_at.date() >= date(2099, 12, 31)
    assert list(Delivery.objects.filter(voucher=voucher).values_list("purpose", "to_email")) == [
        ("recipient", "berta@example.com")
    ]


@pytest.mark.parametrize(
    ("prepare", "action"),
    [
        ("pending", lambda o: order_fulfil(order_id=o.pk)),
        ("pending", lambda o: order_refund(order_id=o.pk, amount_refunded=100, cause="t")),
        ("pending", lambda o: order_dispute_open(order_id=o.pk, cause="t")),
        ("pending", lambda o: order_dispute_close(order_id=o.pk, won=True, cause="t")),
        ("paid", lambda o: order_expire(order_id=o.pk, cause="t")),
        ("paid", lambda o: order_cancel(order_id=o.pk, cause="t")),
        ("expired", lambda o: order_cancel(order_id=o.pk, cause="t")),
        ("cancelled", lambda o: order_fulfil(order_id=o.pk)),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(prepare, action):
    order = place_order()
    if prepare == "paid":
        pay(order)
    elif prepare == "expired":
        order_expire(order_id=order.pk, cause="t")
    elif prepare == "cancelled":
        order_cancel(order_id=order.pk, cause="t")
    before = transitions(order)
    with pytest.raises(InvalidOrderTransition) as raised:
        action(order)
    assert raised.value.code == "invalid_order_transition"
    assert transitions(order) == before
    assert not Voucher.objects.exists()


def test_expire_and_cancel_are_idempotent():
    expired, cancelled = place_order(), place_order()
    for _ in range(2):
        order_expire(order_id=expired.pk, cause="stripe")
        order_cancel(order_id=cancelled.pk, cause="buyer")
    assert transitions(expired)[-1] == (OrderStatus.PENDING, OrderStatus.EXPIRED)
    assert len(transitions(expired)) == 2
    assert len(transitions(cancelled)) == 2


def test_payment_for_an_expired_order_is_flagged_not_applied():
    order = place_order()
    order_expire(order_id=order.pk, cause="stripe")
    result = pay(order)
    assert result.status == OrderStatus.EXPIRED
    assert result.needs_attention


def test_a_refund_larger_than_the_order_is_refused():
    order = place_order()
    pay(order)
    with pytest.raises(InvalidOrderInput):
        order_refund(order_id=order.pk, amount_refunded=order.total + 1, cause="t")


def test_order_create_refuses_what_the_form_would_refuse():
    product = VoucherProductFactory()
    with pytest.raises(UnknownProduct):
        place_order(VoucherProductFactory(is_active=False))
    with pytest.raises(InvalidOrderInput) as raised:
        place_order(product, amount=999)
    assert raised.value.field == "amount"
    with pytest.raises(InvalidOrderInput) as raised:
        place_order(product, send_date=date(2000, 1, 1))
    assert raised.value.field == "send_date"
    with pytest.raises(InvalidOrderInput) as raised:
        place_order(product, message="x" * 301)
    assert raised.value.field == "message"
    with pytest.raises(UnknownProduct):
        order_create(
            merchant_id=VoucherProductFactory().merchant_id,
            product_id=product.pk,
            amount=5000,
            buyer_name="B",
            buyer_email="b@example.com",
        )
    assert not Order.objects.exists()


def test_seed_demo_adds_products_once():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    products = VoucherProduct.objects.filter(merchant__slug="demo")
    assert products.count() == 3
    assert {p.kind for p in products} == {"monetary", "item"}


def test_vouchers_are_valid_for_the_products_months_to_the_end_of_that_day():
    product = VoucherProductFactory(validity_months=12, merchant__time_zone="Europe/Berlin")
    order = place_order(product)
    pay(order)
    order_fulfil(order_id=order.pk)
    voucher = Voucher.objects.get(order_line__order=order)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    issued, local_expiry = voucher.valid_from.astimezone(berlin), voucher.expires_at.astimezone(berlin)
    assert (local_expiry.hour, local_expiry.minute) == (0, 0)
    assert 365 <= (local_expiry.date() - issued.date()).days <= 367
