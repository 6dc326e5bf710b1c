"""Starting a Stripe Checkout, the demo checkout, and the sweeper that applies what webhooks missed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.errors import ProviderUnavailable
from payments.models import Payment, StripeEvent
from payments.services import checkout_start, payments_reconcile
from shop.models import OrderStatus, OrderStatusChange
from tests.payments.helpers import checkout
from tests.shop.factories import VoucherProductFactory, place_order
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def test_checkout_creates_one_session_with_the_orders_details(fake_stripe, client, settings):
    settings.BASE_URL = "https://shop.example"
    order = place_order(quantity=2, locale="de")
    response = client.post(f"/payments/checkout/{order.public_token}/")
    assert response.status_code == 303
    payment = Payment.objects.get(order=order)
    assert response["Location"] == payment.checkout_url
    assert payment.checkout_url.startswith("https://checkout.stripe.test/")
    # The buyer presses the button again: the same session, no second one
    assert client.post(f"/payments/checkout/{order.public_token}/")["Location"] == payment.checkout_url
    (created,) = fake_stripe.session_creations()
    params = created.params
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(order.pk)
    assert params["metadata"]["order_id"] == str(order.pk)
    assert params["customer_email"] == "berta@example.com"
    assert params["locale"] == "de"
    assert params["success_url"] == f"https://shop.example/o/{order.public_token}/"
    assert params["cancel_url"] == f"https://shop.example/s/{order.merchant.slug}/"
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": "5000",
                "product_data": {"name": order.lines.get().product.name},
            },
            "quantity": "2",
        }
    ]
    assert int(params["expires_at"]) == int((order.created_at + timedelta(hours=2)).timestamp())
    assert created.idempotency_key is not None
    assert str(order.pk) in created.idempotency_key
    assert created.stripe_account is None
    assert (payment.amount, payment.currency) == (10000, "EUR")


def test_checkout_uses_the_merchants_connected_account(fake_stripe):
    product = VoucherProductFactory(merchant__stripe_account="acct_123")
    order = place_order(product)
    checkout_start(order_id=order.pk)
    (created,) = fake_stripe.session_creations()
    assert created.stripe_account == "acct_123"
    assert Payment.objects.get(order=order).stripe_account == "acct_123"


def test_a_retried_checkout_reuses_the_idempotency_key(fake_stripe):
    # Given Stripe fails (and the library's own retries fail too)
    order = place_order()
    fake_stripe.fail_next = 10
    with pytest.raises(ProviderUnavailable):
        checkout_start(order_id=order.pk)
    assert not Payment.objects.exists()
    # When the buyer tries again and Stripe answers
    fake_stripe.fail_next = 0
    checkout_start(order_id=order.pk)
    keys = {r.idempotency_key for r in fake_stripe.session_creations()}
    # Then every attempt used one key, and one session was made
    assert len(keys) == 1
    assert len(fake_stripe.sessions) == 1


def test_stripe_outage_shows_a_page_not_a_500(fake_stripe, client):
    order = place_order()
    fake_stripe.fail_next = 10
    response = client.post(f"/payments/checkout/{order.public_token}/")
    assert response.status_code == 503
    assert b"try again" in response.content.lower()


def test_a_paid_order_is_not_sent_to_checkout_again(fake_stripe, client, send):
    order = place_order()
    session_id = checkout(order)
    send(fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id)))
    for response in (
        client.get(f"/payments/checkout/{order.public_token}/"),
        client.post(f"/payments/checkout/{order.public_token}/"),
    ):
        assert response.status_code == 303
        assert response["Location"] == f"/o/{order.public_token}/"
    assert len(fake_stripe.session_creations()) == 1


def test_sweeper_recovers_a_webhook_that_never_arrived(fake_stripe, django_capture_on_commit_callbacks):
    # Given a buyer paid, but Stripe's webhook never reached us
    order = place_order(quantity=2)
    session_id = checkout(order)
    fake_stripe.complete(session_id)
    # When the sweeper runs a while later (twice)
    later = timezone.now() + timedelta(minutes=10)
    with django_capture_on_commit_callbacks(execute=True):
        first = payments_reconcile(now=later)
        second = payments_reconcile(now=later)
    # Then it asked Stripe, paid and fulfilled the order once
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert first["sessions_applied"] == 1
    assert second["sessions_applied"] == 0
    assert OrderStatusChange.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1
    assert Voucher.objects.filter(order_line__order=order).count() == 2
    assert any(r.path == f"/v1/checkout/sessions/{session_id}" for r in fake_stripe.requests)


def test_sweeper_leaves_young_orders_alone(fake_stripe):
    order = place_order()
    session_id = checkout(order)
    fake_stripe.complete(session_id)
    payments_reconcile()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not any(r.path.startswith(f"/v1/checkout/sessions/{session_id}") for r in fake_stripe.requests)


def test_sweeper_stores_and_applies_events_it_finds_at_stripe(fake_stripe, django_capture_on_commit_callbacks):
    order = place_order()
    session_id = checkout(order)
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id))
    with django_capture_on_commit_callbacks(execute=True):
        counts = payments_reconcile()
    assert counts["events_fetched"] == 1
    assert StripeEvent.objects.get(stripe_id=event["id"]).processed_at is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED


def test_sweeper_expires_a_session_stripe_expired(fake_stripe):
    order = place_order()
    session_id = checkout(order)
    fake_stripe.expire(session_id)
    payments_reconcile(now=timezone.now() + timedelta(minutes=40))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED


def test_sweeper_retries_stored_events_that_were_never_processed(fake_stripe):
    # Given an event that was stored but whose task was lost (on_commit callbacks not run)
    order = place_order()
    session_id = checkout(order)
    event = fake_stripe.event("checkout.session.completed", fake_stripe.complete(session_id))
    fake_stripe.events.clear()
    from payments.services import event_store

    event_store(data=event)
    assert StripeEvent.objects.get().processed_at is None
    payments_reconcile(now=timezone.now() + timedelta(minutes=10))
    assert StripeEvent.objects.get().processed_at is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED


def test_demo_checkout_pays_through_the_webhook_code(demo_mode, client, django_capture_on_commit_callbacks):
    # Given no Stripe key: the checkout is the local demo page
    order = place_order()
    response = client.post(f"/payments/checkout/{order.public_token}/")
    assert response.status_code == 303
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "demo" in page.content.decode().lower()
    payment = Payment.objects.get(order=order)
    # When the buyer presses Pay (twice)
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(f"/payments/demo/{payment.session_id}/pay/")
        client.post(f"/payments/demo/{payment.session_id}/pay/")
    # Then a signed event went through the webhook's code, once, and the order is fulfilled
    assert paid.status_code == 303
    assert paid["Location"] == f"/o/{order.public_token}/"
    (event,) = StripeEvent.objects.all()
    assert event.type == "checkout.session.completed"
    assert event.processed_at is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert Voucher.objects.filter(order_line__order=order).count() == 1


def test_demo_pages_do_not_exist_with_a_real_stripe_key(fake_stripe, client):
    order = place_order()
    session_id = checkout(order)
    assert client.get(f"/payments/demo/{session_id}/").status_code == 404
    assert client.post(f"/payments/demo/{session_id}/pay/").status_code == 404
    assert not StripeEvent.objects.exists()


def test_sweeper_fulfils_a_paid_order_left_without_vouchers(demo_mode):
    # Given an order marked paid whose fulfilment never ran (e.g. the worker died in between)
    from shop.services import order_mark_paid

    order = place_order(quantity=2)
    order_mark_paid(order_id=order.pk, amount=order.total, currency=order.currency, cause="test")
    # When the sweeper runs later, twice
    later = timezone.now() + timedelta(minutes=10)
    first, second = payments_reconcile(now=later), payments_reconcile(now=later)
    # Then the vouchers were issued once
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert (first["fulfilled"], second["fulfilled"]) == (1, 0)
    assert Voucher.objects.filter(order_line__order=order).count() == 2


def test_sweeper_closes_orders_that_never_reached_checkout(demo_mode):
    order = place_order()
    payments_reconcile(now=timezone.now() + timedelta(hours=3))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
