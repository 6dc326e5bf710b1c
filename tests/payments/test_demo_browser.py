"""In a real browser: buy a voucher in the demo shop, pay on the demo page, see the voucher on the order page."""

import re

import pytest

from shop.models import Order, OrderStatus
from tests.factories import MerchantFactory
from tests.shop.factories import VoucherProductFactory
from vouchers.models import Voucher


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_buy_a_voucher_in_the_demo_shop(live_server, page, settings):
    from playwright.sync_api import expect

    # Given a shop with one voucher and no Stripe key (demo checkout)
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_browser_test"
    merchant = MerchantFactory(slug="browser-cafe", name="Browser Café")
    VoucherProductFactory(merchant=merchant, name="Gift voucher")

    # When the buyer fills the form
    page.goto(f"{live_server.url}/s/browser-cafe/")
    page.get_by_label(re.compile("Gift voucher")).check()
    page.get_by_label("Amount in EUR").fill("50")
    page.get_by_label("Your name").fill("Berta Buyer")
    page.get_by_label("Your email").fill("berta@example.com")
    page.get_by_role("button", name="Continue to payment").click()

    # Then one click takes them to the clearly labelled demo payment page, and they pay
    expect(page.get_by_role("note")).to_contain_text("demo payment page")
    page.get_by_role("button", name=re.compile("demo")).click()

    # And land on their order page, which shows the issued voucher
    order = Order.objects.get()
    expect(page).to_have_url(f"{live_server.url}/o/{order.public_token}/")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "fulfilled")
    voucher = Voucher.objects.get(order_line__order=order)
    expect(page.locator(".voucher-issued")).to_contain_text(voucher.display_code)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert order.total == 5000
