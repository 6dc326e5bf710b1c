"""Helpers for payment tests: the fake Stripe server, starting a checkout, and posting signed events to the webhook
(as fixtures where they need settings or the on-commit capture)."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from payments.models import Payment
from payments.services import checkout_start
from shop.models import Order
from tests.fakes.stripe_server import FakeStripe, sign

WEBHOOK = "/payments/stripe/webhook/"
SECRET = "whsec_test_secret"


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    yield server
    server.stop()


@pytest.fixture
def demo_mode(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def post_event(client: Client, event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None) -> Any:
    payload = json.dumps(event)
    return client.post(
        WEBHOOK,
        data=payload,
        content_type="application/json",
        headers={"stripe-signature": sign(payload, secret, timestamp=timestamp)},
    )


def checkout(order: Order) -> str:
    """Start the order's checkout through the real service; returns its session id."""
    checkout_start(order_id=order.pk)
    return Payment.objects.get(order=order).session_id


@pytest.fixture
def send(client: Client, django_capture_on_commit_callbacks: Any) -> Any:
    """Post a signed event to the webhook and run what it enqueues after commit (tasks run eagerly in tests)."""

    def _send(event: dict[str, Any], **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return post_event(client, event, **kwargs)

    return _send
