"""Stripe events are bound to the account and mode they belong to: a merchant's own Stripe account (Connect), or
the platform's, and the key's live or test mode. Events of another account or mode change nothing, are recorded
with the reason, and are acknowledged so that Stripe does not send them again and again."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Payment, StripeEvent
from payments.services import payments_reconcile
from shop.models import OrderStatus
from tests.fakes.stripe_server import sign
from tests.payments.helpers import SECRET, WEBHOOK, checkout
from tests.shop.factories import VoucherProductFactory, place_order
from vouchers.models import Voucher, VoucherStatus

pytestmark = pytest.mark.django_db

CONNECT_SECRET = "whsec_connect_secret"


@pytest.fixture
def connect(settings, fake_stripe):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    return fake_stripe


def vouchers_of(order):
    return list(Voucher.objects.filter(order_line__order=order).order_by("pk"))


def stored(event):
    return StripeEvent.objects.get(stripe_id=event["id"])


def charge_of(session, **changes):
    return {
        "id": f"ch_{session['id']}",
        "object": "charge",
        "amount": session["amount_total"],
        "amount_refunded": 0,
        "currency": session["currency"],
        "payment_intent": session["payment_intent"],
        "refunded": False,
        **changes,
    }


def foreign_session(order, *, session_id="cs_test_merchant_b", payment_intent="pi_merchant_b"):
    """A Checkout Session merchant B made in its own Stripe account, naming merchant A's order in every mark."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "client_reference_id": str(order.pk),
        "metadata": {"order_id": str(order.pk), "merchant": order.merchant.slug},
        "amount_total": order.total,
        "currency": order.currency.lower(),
        "payment_status": "paid",
        "status": "complete",
        "payment_intent": payment_intent,
    }


@pytest.mark.parametrize("secret", [SECRET, CONNECT_SECRET], ids=["account_endpoint", "connect_endpoint"])
def test_another_merchants_session_naming_an_order_does_not_pay_it(connect, send, secret):
    # Given merchant A's order waiting in its checkout
    order = place_order()
    checkout(order)
    # When merchant B's own account completes a session (test mode) that names A's order
    event = connect.event("checkout.session.completed", foreign_session(order), account="acct_merchant_b")
    response = send(event, secret=secret)
    # Then the event is acknowledged, but A's order is not paid and no voucher is issued
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not vouchers_of(order)
    assert Payment.objects.get(order=order).payment_intent_id == ""
    assert stored(event).outcome != "fulfilled"


def test_a_refund_of_another_merchants_charge_leaves_the_real_buyers_vouchers(connect, send):
    # Given merchant A's order, paid by its buyer and fulfilled
    order = place_order()
    session = connect.complete(checkout(order))
    send(connect.event("checkout.session.completed", session))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    # When merchant B's account sends a session naming A's order, then refunds that charge of its own
    attack = foreign_session(order)
    send(connect.event("checkout.session.completed", attack), secret=SECRET)
    send(connect.event("checkout.session.completed", attack, account="acct_merchant_b"), secret=CONNECT_SECRET)
    for account, secret in ((None, SECRET), ("acct_merchant_b", CONNECT_SECRET)):
        refund = charge_of(attack, amount_refunded=attack["amount_total"], refunded=True)
        send(connect.event("charge.refunded", refund, account=account), secret=secret)
    # Then A's payment keeps its own payment intent and A's buyer keeps the vouchers
    assert Payment.objects.get(order=order).payment_intent_id == session["payment_intent"]
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert order.amount_refunded == 0
    assert [v.status for v in vouchers_of(order)] == [VoucherStatus.ACTIVE]


def test_a_test_mode_event_at_a_live_key_changes_nothing(connect, send, settings):
    # Given a shop running with a live key, and an order in its checkout
    settings.STRIPE_SECRET_KEY = "sk_live_fake"
    order = place_order()
    session = connect.complete(checkout(order))
    # When a test-mode event about the session arrives
    event = connect.event("checkout.session.completed", session, livemode=False)
    response = send(event)
    # Then it is acknowledged and recorded as rejected, and the order is not paid
    assert response.status_code == 200
    assert stored(event).outcome == "rejected: a test-mode event at a live key"
    assert stored(event).processed_at is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    # And the live event about the same session pays it
    send(connect.event("checkout.session.completed", session, livemode=True))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED


def test_a_live_event_at_a_test_key_changes_nothing(connect, send):
    order = place_order()
    session = connect.complete(checkout(order))
    event = connect.event("checkout.session.completed", session, livemode=True)
    assert send(event).status_code == 200
    assert stored(event).outcome == "rejected: a live-mode event at a test key"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.fixture
def connected_order(connect):
    """An order of a merchant paid through its own Stripe account (Connect), in its checkout."""
    product = VoucherProductFactory(merchant__stripe_account="acct_merchant_a")
    order = place_order(product)
    session_id = checkout(order)
    assert connect.accounts[session_id] == "acct_merchant_a"
    return order, session_id


def test_events_signed_with_the_connect_secret_are_applied(connect, send, connected_order):
    # Given a connected merchant's buyer completed the checkout on the merchant's account
    order, session_id = connected_order
    session = connect.complete(session_id)
    # When the Connect endpoint receives the event
    response = send(
        connect.event("checkout.session.completed", session, account="acct_merchant_a"), secret=CONNECT_SECRET
    )
    # Then the order is paid and fulfilled, and a refund from the merchant's dashboard applies too
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    refund = charge_of(session, amount_refunded=session["amount_total"], refunded=True)
    send(connect.event("charge.refunded", refund, account="acct_merchant_a"), secret=CONNECT_SECRET)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


@pytest.mark.parametrize(
    ("account", "secret"),
    [("acct_merchant_b", CONNECT_SECRET), (None, SECRET), ("acct_merchant_a", SECRET)],
    ids=["other_account", "platform_account", "own_account_on_the_account_endpoint"],
)
def test_an_event_about_a_session_from_the_wrong_account_is_refused(connect, send, connected_order, account, secret):
    order, session_id = connected_order
    session = connect.complete(session_id)
    for event_type in (
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ):
        event = connect.event(event_type, session, account=account)
        assert send(event, secret=secret).status_code == 200
        assert stored(event).outcome.startswith("rejected:"), event_type
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert Payment.objects.get(order=order).payment_status == "unpaid"


@pytest.mark.parametrize("event_type", ["charge.refunded", "charge.dispute.created", "charge.dispute.closed"])
@pytest.mark.parametrize(
    "sender", [("acct_merchant_b", CONNECT_SECRET), (None, SECRET)], ids=["other_account", "platform_account"]
)
def test_a_charge_event_from_the_wrong_account_is_refused(connect, send, connected_order, event_type, sender):
    account, secret = sender
    # Given a connected merchant's order, paid and fulfilled through its own account
    order, session_id = connected_order
    session = connect.complete(session_id)
    send(connect.event("checkout.session.completed", session, account="acct_merchant_a"), secret=CONNECT_SECRET)
    # When another account reports a refund or a (lost) dispute of the same payment intent
    charge = charge_of(session, amount_refunded=session["amount_total"], refunded=True)
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": charge["id"],
        "payment_intent": session["payment_intent"],
        "status": "lost",
    }
    event = connect.event(event_type, charge if event_type == "charge.refunded" else dispute, account=account)
    assert send(event, secret=secret).status_code == 200
    # Then it is recorded as rejected and the order and its voucher are as they were
    assert stored(event).outcome.startswith("rejected:")
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert [v.status for v in vouchers_of(order)] == [VoucherStatus.ACTIVE]


def test_the_sweeper_finds_events_of_connected_accounts(
    connect, send, connected_order, django_capture_on_commit_callbacks
):
    # Given a connected merchant's paid order, refunded in the merchant's dashboard, and the Connect webhook lost
    order, session_id = connected_order
    session = connect.complete(session_id)
    send(connect.event("checkout.session.completed", session, account="acct_merchant_a"), secret=CONNECT_SECRET)
    refund = charge_of(session, amount_refunded=session["amount_total"], refunded=True)
    event = connect.event("charge.refunded", refund, account="acct_merchant_a")
    # When the sweeper runs
    with django_capture_on_commit_callbacks(execute=True):
        payments_reconcile(now=timezone.now() + timedelta(minutes=10))
    # Then it listed the account's events with its Stripe-Account header and applied the refund
    assert any(r.path == "/v1/events" and r.stripe_account == "acct_merchant_a" for r in connect.requests)
    assert stored(event).account == "acct_merchant_a"
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


def test_the_sweeper_reconciles_a_connected_accounts_session(connect, connected_order):
    order, session_id = connected_order
    connect.complete(session_id)
    payments_reconcile(now=timezone.now() + timedelta(minutes=10))
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    retrievals = [r for r in connect.requests if r.path == f"/v1/checkout/sessions/{session_id}"]
    assert retrievals
    assert {r.stripe_account for r in retrievals} == {"acct_merchant_a"}


@pytest.mark.parametrize("body", ["[1, 2]", '"an event"', "42", "null", "true"])
def test_a_signed_body_that_is_not_an_object_is_400_json(connect, client, body):
    response = client.post(
        WEBHOOK, data=body, content_type="application/json", headers={"stripe-signature": sign(body, SECRET)}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "signature_invalid"
    assert not StripeEvent.objects.exists()


def test_a_duplicate_rejected_event_stays_rejected(connect, send):
    order = place_order()
    session = connect.complete(checkout(order))
    event = connect.event("checkout.session.completed", session, livemode=True)
    first, second = send(event), send(event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert StripeEvent.objects.filter(stripe_id=event["id"]).count() == 1
    assert json.loads(json.dumps(stored(event).payload)) == event
