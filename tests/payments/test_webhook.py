"""Stripe's webhook: signed events are stored once and applied once, whatever arrives how often, in what order."""

import json
import threading
import time

import pytest
from django.db import connections
from django.test import Client

from payments.models import Payment, StripeEvent
from shop.models import OrderStatus, OrderStatusChange
from tests.fakes.stripe_server import sign
from tests.payments.helpers import WEBHOOK, checkout, post_event
from tests.shop.factories import VoucherProductFactory, place_order
from vouchers.models import Voucher, VoucherStatus

pytestmark = pytest.mark.django_db


def paid_transitions(order):
    return OrderStatusChange.objects.filter(order=order, to_status=OrderStatus.PAID).count()


@pytest.fixture
def order_in_checkout(fake_stripe):
    order = place_order(quantity=2)
    session_id = checkout(order)
    return order, session_id


def test_completed_event_pays_and_fulfils_the_order(fake_stripe, send, order_in_checkout):
    # Given an order whose buyer completed the Stripe checkout
    order, session_id = order_in_checkout
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id))
    # When Stripe sends the event
    response = send(event)
    # Then it is acknowledged, the order is paid and fulfilled with one voucher per unit
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert paid_transitions(order) == 1
    vouchers = Voucher.objects.filter(order_line__order=order)
    assert vouchers.count() == 2
    assert {v.initial_value for v in vouchers} == {5000}
    stored = StripeEvent.objects.get(stripe_id=event["id"])
    assert stored.processed_at is not None
    assert stored.payload == event
    assert Payment.objects.get(order=order).payment_status == "paid"


def test_the_same_event_five_times_pays_once(fake_stripe, send, order_in_checkout):
    order, session_id = order_in_checkout
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id))
    answers = [send(event).status_code for _ in range(5)]
    assert answers == [200] * 5
    assert StripeEvent.objects.count() == 1
    assert paid_transitions(order) == 1
    assert Voucher.objects.filter(order_line__order=order).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_in_five_threads_pays_once(fake_stripe):
    # Given one completed checkout and its event, posted by five concurrent deliveries
    product = VoucherProductFactory()
    order = place_order(product, quantity=3)
    session_id = checkout(order)
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id))
    barrier = threading.Barrier(5)
    answers: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            answers.append(post_event(Client(), event).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every delivery is acknowledged, but the event is stored and applied once
    assert answers == [200] * 5
    assert StripeEvent.objects.filter(stripe_id=event["id"]).count() == 1
    assert paid_transitions(order) == 1
    assert Voucher.objects.filter(order_line__order=order).count() == 3
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_distinct_events_for_one_session_in_five_threads_pay_once(fake_stripe):
    # completed and async_payment_succeeded (and retries under other ids) racing each other
    order = place_order(quantity=2)
    session_id = checkout(order)
    session = fake_stripe.complete(session_id)
    events = [fake_stripe.event("checkout.session.async_payment_succeeded", session) for _ in range(5)]
    barrier = threading.Barrier(5)

    def deliver(event) -> None:
        try:
            barrier.wait()
            post_event(Client(), event)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == 5
    assert paid_transitions(order) == 1
    assert Voucher.objects.filter(order_line__order=order).count() == 2


def test_completed_unpaid_then_async_succeeded_pays_once(fake_stripe, send, order_in_checkout):
    # Given a checkout completed with a delayed payment method (e.g. SEPA debit)
    order, session_id = order_in_checkout
    unpaid = fake_stripe.complete(session_id, payment_status="unpaid")
    # When "completed" arrives with payment_status unpaid
    send(fake_stripe.event("checkout.session.completed", unpaid))
    # Then nothing is paid yet
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not Voucher.objects.filter(order_line__order=order).exists()
    # When the payment succeeds later, and that event is sent twice
    succeeded = fake_stripe.event("checkout.session.async_payment_succeeded", fake_stripe.complete(session_id))
    send(succeeded)
    send(succeeded)
    # And a late copy of the unpaid "completed" comes again under a new id
    send(fake_stripe.event("checkout.session.completed", unpaid))
    # Then the order was paid exactly once
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert paid_transitions(order) == 1
    assert Voucher.objects.filter(order_line__order=order).count() == 2
    assert Payment.objects.get(order=order).payment_status == "paid"


def test_async_payment_failed_cancels_the_pending_order(fake_stripe, send, order_in_checkout):
    order, session_id = order_in_checkout
    unpaid = fake_stripe.complete(session_id, payment_status="unpaid")
    send(fake_stripe.event("checkout.session.completed", unpaid))
    send(fake_stripe.event("checkout.session.async_payment_failed", unpaid))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert not Voucher.objects.filter(order_line__order=order).exists()


def test_expired_after_completed_changes_nothing(fake_stripe, send, order_in_checkout):
    order, session_id = order_in_checkout
    send(fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id)))
    changes_before = list(OrderStatusChange.objects.filter(order=order).values_list("pk", flat=True))
    # A (late, out of order) "expired" for the same session
    late = fake_stripe.event("checkout.session.expired", {**fake_stripe.sessions[session_id], "status": "expired"})
    assert send(late).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert list(OrderStatusChange.objects.filter(order=order).values_list("pk", flat=True)) == changes_before
    assert Payment.objects.get(order=order).status == Payment.Status.COMPLETE
    assert Voucher.objects.filter(order_line__order=order, status=VoucherStatus.ACTIVE).count() == 2
    assert StripeEvent.objects.get(stripe_id=late["id"]).outcome.startswith("ignored")


def test_expired_checkout_expires_the_pending_order(fake_stripe, send, order_in_checkout):
    order, session_id = order_in_checkout
    send(fake_stripe.event("checkout.session.expired", fake_stripe.expire(session_id)))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert Payment.objects.get(order=order).status == Payment.Status.EXPIRED


def test_amount_mismatch_is_flagged_and_not_fulfilled(fake_stripe, send, order_in_checkout):
    order, session_id = order_in_checkout
    session = fake_stripe.complete(session_id, amount_total=100)
    send(fake_stripe.event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.needs_attention
    assert "not fulfilled" in order.attention_reason
    assert not Voucher.objects.filter(order_line__order=order).exists()


def test_currency_mismatch_is_flagged_and_not_fulfilled(fake_stripe, send, order_in_checkout):
    order, session_id = order_in_checkout
    session = fake_stripe.complete(session_id, currency="usd")
    send(fake_stripe.event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.needs_attention
    assert not Voucher.objects.filter(order_line__order=order).exists()


@pytest.mark.parametrize("tamper", ["body", "unsigned", "stale", "wrong_secret", "garbage_header", "not_json"])
def test_bad_signatures_are_400_and_store_nothing(fake_stripe, client, order_in_checkout, tamper):
    order, session_id = order_in_checkout
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id))
    payload = json.dumps(event)
    header = sign(payload, "whsec_test_secret")
    if tamper == "body":
        payload = payload.replace('"amount_total": 10000', '"amount_total": 1')
        assert '"amount_total": 1,' in payload
    elif tamper == "unsigned":
        header = ""
    elif tamper == "stale":
        ten_minutes_ago = int(time.time()) - 600
        header = sign(payload, "whsec_test_secret", timestamp=ten_minutes_ago)
    elif tamper == "wrong_secret":
        header = sign(payload, "whsec_other")
    elif tamper == "garbage_header":
        header = "t=abc,v1=nothex"
    elif tamper == "not_json":
        payload = "not json at all"
        header = sign(payload, "whsec_test_secret")
    headers = {"stripe-signature": header} if header else {}
    response = client.post(WEBHOOK, data=payload, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_webhook_refuses_get(client):
    assert client.get(WEBHOOK).status_code == 405


def test_unknown_event_types_are_acknowledged_and_ignored(fake_stripe, send):
    event = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert send(event).status_code == 200
    stored = StripeEvent.objects.get(stripe_id=event["id"])
    assert stored.processed_at is not None
    assert stored.outcome.startswith("ignored")


def test_events_about_other_integrations_payments_are_retried_then_ignored(fake_stripe, send, settings):
    from datetime import timedelta

    from django.utils import timezone

    from payments.services import payments_reconcile

    # Given a refund of a charge that no order of this shop made (another integration on the account)
    foreign = fake_stripe.event(
        "charge.refunded", {"id": "ch_x", "object": "charge", "payment_intent": "pi_other", "amount_refunded": 100}
    )
    assert send(foreign).status_code == 200
    stored = StripeEvent.objects.get(stripe_id=foreign["id"])
    # Then it is not applied yet (its payment might still be on its way) and the error is recorded
    assert stored.processed_at is None
    assert "PaymentNotFound" in stored.error
    # When the sweeper looks at it more than an hour later, it is marked as not ours
    payments_reconcile(now=timezone.now() + timedelta(hours=2))
    stored.refresh_from_db()
    assert stored.processed_at is not None
    assert stored.outcome == "ignored: not a payment of this shop"


def test_a_session_of_another_integration_never_pays_an_order_with_the_same_number(fake_stripe, send):
    order = place_order()
    checkout(order)
    stranger = {
        "id": "cs_other_1",
        "object": "checkout.session",
        "client_reference_id": str(order.pk),
        "metadata": {},
        "amount_total": order.total,
        "currency": "eur",
        "payment_status": "paid",
        "status": "complete",
        "payment_intent": "pi_other_1",
    }
    send(fake_stripe.event("checkout.session.completed", stranger))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not Voucher.objects.filter(order_line__order=order).exists()
