"""In a real browser: the storefront's order form leads straight to Stripe Checkout (the fake Stripe server's
session), with no second button to press."""

import re

import pytest

from payments.models import Payment
from shop.models import Order
from tests.factories import MerchantFactory
from tests.shop.factories import VoucherProductFactory

STRIPE_CHECKOUT = re.compile(r"^https://checkout\.stripe\.test/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_order_form_hands_the_buyer_to_stripe_checkout(live_server, page, fake_stripe):
    from playwright.sync_api import Route, expect

    # Given a shop with one voucher, paid through Stripe; Stripe's checkout page itself is out of reach here, so
    # the browser is answered with a stand-in page when it gets there
    merchant = MerchantFactory(slug="stripe-cafe", name="Stripe Café")
    VoucherProductFactory(merchant=merchant, name="Gift voucher")
    arrivals: list[str] = []

    def stripe_page(route: Route) -> None:
        arrivals.append(route.request.method)
        route.fulfill(status=200, content_type="text/html", body="<h1>Stripe Checkout</h1>")

    page.route(STRIPE_CHECKOUT, stripe_page)

    # When the buyer fills the form and presses its one button
    page.goto(f"{live_server.url}/s/stripe-cafe/")
    page.get_by_label(re.compile("Gift voucher")).check()
    page.get_by_label("Amount in EUR").fill("50")
    page.get_by_label("Your name").fill("Berta Buyer")
    page.get_by_label("Your email").fill("berta@example.com")
    page.get_by_role("button", name="Continue to payment").click()

    # Then the browser lands on the Checkout Session Stripe made for this order (after a POST with the form's CSRF
    # token: the checkout starts no session on anything else)
    expect(page.get_by_role("heading")).to_have_text("Stripe Checkout")
    order = Order.objects.get()
    payment = Payment.objects.get(order=order)
    assert page.url == payment.checkout_url
    assert arrivals == ["GET"]
    [creation] = fake_stripe.session_creations()
    assert creation.params["client_reference_id"] == str(order.pk)
    assert order.total == 5000
