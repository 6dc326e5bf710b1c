"""A Stripe Checkout Session is created only by the pay button's POST (with its CSRF token), and a retried creation
sends Stripe the same parameters under the same idempotency key."""

import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from payments.errors import OrderNotPayable, ProviderUnavailable
from payments.models import Payment
from payments.services import checkout_start
from shop.models import Order, OrderStatus
from tests.factories import MerchantFactory
from tests.shop.factories import VoucherProductFactory, place_order

pytestmark = pytest.mark.django_db


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def test_get_shows_a_pay_button_and_creates_no_session(fake_stripe, client):
    order = place_order()
    response = client.get(f"/payments/checkout/{order.public_token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="/payments/checkout/{order.public_token}/"' in html
    assert 'method="post"' in html
    assert not fake_stripe.session_creations()
    assert not Payment.objects.exists()


def test_the_order_page_pays_by_a_form_with_csrf(fake_stripe):
    # Given a browser that sends CSRF tokens as a real one must
    browser = Client(enforce_csrf_checks=True)
    order = place_order()
    page = browser.get(f"/o/{order.public_token}/")
    assert f'action="/payments/checkout/{order.public_token}/"' in page.content.decode()
    # When a post arrives without the token (another site's form), nothing is created
    assert browser.post(f"/payments/checkout/{order.public_token}/").status_code == 403
    assert not fake_stripe.session_creations()
    # And the page's own form goes to Stripe
    token = csrf_token_of(page.content.decode())
    response = browser.post(f"/payments/checkout/{order.public_token}/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert response["Location"] == Payment.objects.get(order=order).checkout_url
    assert len(fake_stripe.session_creations()) == 1


def test_the_storefront_form_goes_on_to_stripe_in_one_click(fake_stripe):
    # Given a browser that sends CSRF tokens as a real one must, on a storefront
    browser = Client(enforce_csrf_checks=True)
    product = VoucherProductFactory(merchant=MerchantFactory(slug="cafe"))
    page = browser.get("/s/cafe/")
    form = {
        "csrfmiddlewaretoken": csrf_token_of(page.content.decode()),
        "product": str(product.pk),
        "amount": "50",
        "quantity": "1",
        "buyer_name": "Berta Buyer",
        "buyer_email": "berta@example.com",
        "language": "en",
    }
    # When the buyer sends the order form
    placed = browser.post("/s/cafe/", form)
    # Then the answer is a 307 to the checkout, which a browser follows by posting the same form there
    order = Order.objects.get()
    assert placed.status_code == 307
    assert placed["Location"] == f"/payments/checkout/{order.public_token}/"
    assert not fake_stripe.session_creations()
    handed_over = browser.post(placed["Location"], form)
    # And that post, carrying the form's CSRF token, sends the buyer on to Stripe Checkout
    assert handed_over.status_code == 303
    assert handed_over["Location"] == Payment.objects.get(order=order).checkout_url
    assert len(fake_stripe.session_creations()) == 1
    # While a 307 followed without the token (another site's form) starts nothing
    assert (
        browser.post(placed["Location"], {k: v for k, v in form.items() if k != "csrfmiddlewaretoken"}).status_code
        == 403
    )


def test_a_retry_sends_the_same_parameters_under_the_same_key(fake_stripe):
    # Given Stripe failed on the first attempt (the library's own retries included)
    order = place_order(quantity=2)
    fake_stripe.fail_next = 3
    with pytest.raises(ProviderUnavailable):
        checkout_start(order_id=order.pk)
    # When the buyer tries again a little later and Stripe answers
    time.sleep(1.1)
    checkout_start(order_id=order.pk)
    # Then every request carried one key and exactly the same parameters
    creations = fake_stripe.session_creations()
    assert len(creations) == 4
    assert len({c.idempotency_key for c in creations}) == 1
    assert all(c.params == creations[0].params for c in creations)
    assert int(creations[0].params["expires_at"]) == int((order.created_at + timedelta(hours=2)).timestamp())
    assert len(fake_stripe.sessions) == 1


def test_a_checkout_started_too_late_expires_the_order_without_asking_stripe(fake_stripe, client):
    order = place_order()
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=90))
    with pytest.raises(OrderNotPayable):
        checkout_start(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert not fake_stripe.session_creations()
    response = client.post(f"/payments/checkout/{order.public_token}/")
    assert response.status_code == 303
    assert response["Location"] == f"/o/{order.public_token}/"


def test_the_outage_page_tries_again_by_post(fake_stripe, client):
    order = place_order()
    fake_stripe.fail_next = 10
    response = client.post(f"/payments/checkout/{order.public_token}/")
    assert response.status_code == 503
    html = response.content.decode()
    assert f'action="/payments/checkout/{order.public_token}/"' in html
    assert 'method="post"' in html
