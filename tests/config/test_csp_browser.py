"""The Content-Security-Policy in headless Chromium: every page the shop serves (storefront, checkout, order and
voucher pages, the POS page with its camera scanner, the admin, the two-factor set-up, the API docs) works under
the strict policy, and any violation the browser reports fails the test."""

import json
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, Response, expect

from merchants.models import Merchant
from shop.models import Order
from tests.redemption.test_pos_browser import _pos_with_a_camera_showing
from vouchers.models import Voucher
from vouchers.services import voucher_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before the page's own scripts in every document; keeps violations across navigations of the tab.
WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  const seen = JSON.parse(sessionStorage.getItem("csp-violations") || "[]");
  seen.push(`${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile}:${event.lineNumber}) ${event.sample}`);
  sessionStorage.setItem("csp-violations", JSON.stringify(seen));
}, true);
"""


def violations(page: Page) -> list[str]:
    return json.loads(page.evaluate("sessionStorage.getItem('csp-violations') || '[]'"))


def assert_strict_policy(response: Response | None) -> None:
    assert response is not None
    policy = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"][0] == "'self'", policy
    assert directives["style-src"][0] == "'self'", policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def visit(page: Page, url: str) -> Response:
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, url
    assert_strict_policy(response)
    return response


@pytest.fixture
def watched(page: Page) -> Page:
    page.add_init_script(WATCH)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


def test_a_violation_is_caught(watched: Page, live_server):
    # The watch itself: an inline style without the nonce is refused and reported.
    visit(watched, f"{live_server.url}/")
    watched.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>body { color: red; }</style>')")
    expect(watched.locator("body")).to_be_visible()
    watched.wait_for_function("(sessionStorage.getItem('csp-violations') || '').includes('style-src')")
    assert any("style-src" in violation for violation in violations(watched))


def test_storefront_checkout_order_and_voucher_pages(watched: Page, live_server, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_browser_test"
    call_command("seed_demo", verbosity=0)
    merchant = Merchant.objects.get(slug="demo")
    merchant.primary_colour = "#8A2BE2"
    merchant.save()
    page = watched

    visit(page, f"{live_server.url}/")
    visit(page, f"{live_server.url}/s/demo/")
    # The storefront's nonced style block applied: the merchant's colour is the page's brand colour.
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()") == "#8A2BE2"
    page.locator("input[name='product']").first.check()
    amount = page.get_by_label(re.compile("Amount in"))
    if amount.count() and amount.is_enabled():
        amount.fill("50")
    page.get_by_label("Your name").fill("Berta Buyer")
    page.get_by_label("Your email").fill("berta@example.com")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("note")).to_contain_text("demo payment page")
    page.get_by_role("button", name=re.compile("demo")).click()

    order = Order.objects.get()
    expect(page).to_have_url(f"{live_server.url}/o/{order.public_token}/")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "fulfilled")
    assert_strict_policy(visit(page, f"{live_server.url}/o/{order.public_token}/"))
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()") == "#8A2BE2"

    voucher = Voucher.objects.get(order_line__order=order)
    visit(page, f"{live_server.url}/v/{voucher.public_token}/")
    # The voucher page's nonced style block applied: the card has the merchant's colour.
    background = page.locator(".voucher-card").evaluate("card => getComputedStyle(card).backgroundColor")
    assert background == "rgb(138, 43, 226)"

    # The page for a client that ordered too often is styled by its nonced block too.
    settings.STOREFRONT_ORDERS_PER_HOUR = 1
    visit(page, f"{live_server.url}/s/demo/")
    page.locator("input[name='product']").first.check()
    if amount.count() and amount.is_enabled():
        amount.fill("50")
    page.get_by_label("Your name").fill("Berta Buyer")
    page.get_by_label("Your email").fill("berta@example.com")
    with page.expect_response(lambda response: response.status == 429) as refused:
        page.get_by_role("button", name="Continue to payment").click()
    assert_strict_policy(refused.value)
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()") == "#8A2BE2"
    assert violations(page) == []


def test_pos_camera_scan_under_the_policy(playwright, live_server, tmp_path):
    call_command("seed_demo", verbosity=0)
    voucher = voucher_issue(merchant_id=Merchant.objects.get(slug="demo").pk, value=5000)
    # Headless Chromium has no barcode detector: the page loads jsQR from the static files and decodes frames.
    with _pos_with_a_camera_showing(
        playwright, live_server, tmp_path, f"{live_server.url}/v/{voucher.public_token}/", WATCH
    ) as page:
        assert_strict_policy(page.request.get(f"{live_server.url}/pos/"))
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        page.locator("#scan-button").click()
        page.locator("#voucher-ok").wait_for(timeout=20_000)
        assert page.locator("#code").input_value() == voucher.display_code
        assert any("/vendor/jsQR" in url for url in fetched), fetched
        assert violations(page) == []


def test_admin_and_two_factor_setup_pages(watched: Page, live_server):
    call_command("seed_demo", verbosity=0)
    voucher = voucher_issue(merchant_id=Merchant.objects.get(slug="demo").pk, value=5000)
    page = watched
    visit(page, f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill("owner@demo.example")
    page.locator("#id_password").fill("demo-owner-pass")
    page.locator("#id_password").press("Enter")
    page.wait_for_url(f"{live_server.url}/admin/")
    for path in (
        "/admin/",
        "/admin/vouchers/voucher/",
        f"/admin/vouchers/voucher/{voucher.pk}/change/",
        "/admin/shop/voucherproduct/add/",
        "/admin/delivery/delivery/",
    ):
        visit(page, live_server.url + path)
    # The admin's own scripts run: "select all" on the voucher list counts the selection.
    visit(page, f"{live_server.url}/admin/vouchers/voucher/")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")

    visit(page, f"{live_server.url}/staff/two-factor/setup/")
    assert page.locator("figure.qr svg").is_visible()
    assert violations(page) == []


def test_api_docs_page(watched: Page, live_server):
    visit(watched, f"{live_server.url}/api/v1/docs/")
    expect(watched.locator("body")).to_contain_text("redeem")
    assert violations(watched) == []
