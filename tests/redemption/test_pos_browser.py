"""The POS page in headless Chromium: the demo cashier redeems part of a voucher and reverses it."""

import re

import pytest
from django.core.management import call_command

from shop.models import Merchant
from vouchers.services import voucher_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_cashier_redeems_part_and_reverses(page, live_server):
    call_command("seed_demo", verbosity=0)
    merchant = Merchant.objects.get(slug="demo")
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000)

    page.goto(f"{live_server.url}/pos/")
    page.locator("#id_username").fill("cashier@demo.example")
    page.locator("#id_password").fill("demo-cashier-pass")
    page.locator("#id_password").press("Enter")

    # A keyboard-wedge scanner types the code and presses Enter.
    page.locator("#code").fill(voucher.display_code.lower())
    page.locator("#code").press("Enter")
    page.locator("#voucher-ok").wait_for()
    assert "50.00" in page.locator("#amount").input_value()

    page.locator("#amount").fill("12.50")
    page.locator("#redeem-button").dblclick()
    page.locator("#receipt").wait_for()
    assert re.search(r"37[.,]50", page.locator("#receipt-balance").inner_text())
    redemption_id = page.locator("#receipt-id").inner_text().strip()
    voucher.refresh_from_db()
    assert voucher.balance == 3750
    assert voucher.redemptions.count() == 1

    page.locator(f'a[href="/pos/reverse/{redemption_id}/"]').click()
    page.locator("#confirm-reverse").click()
    page.locator("#receipt").wait_for()
    assert re.search(r"50[.,]00", page.locator("#receipt-balance").inner_text())
    voucher.refresh_from_db()
    assert voucher.balance == 5000
