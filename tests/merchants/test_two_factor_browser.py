"""Two-factor login in headless Chromium: a manager whose merchant requires it logs in to the POS page, enrols
an authenticator from the page's key, keeps the backup codes, and later logs in with a code from the app."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page

from merchants.models import Role
from tests.factories import TEST_PASSWORD, LocationFactory, MerchantFactory, StaffMembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(key: bytes, steps_ahead: int) -> str:
    generator = TOTP(key)
    generator.time = time.time() + 30 * steps_ahead
    return f"{generator.token():06d}"


def log_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/pos/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.locator("#id_password").press("Enter")


def test_a_manager_enrols_at_the_pos_and_logs_in_with_the_app_later(page: Page, live_server):
    merchant = MerchantFactory(require_two_factor_for_managers=True)
    LocationFactory(merchant=merchant)
    manager = StaffMembershipFactory(merchant=merchant, role=Role.MANAGER, user=UserFactory(is_staff=True)).user

    log_in(page, live_server.url, manager.username)
    page.wait_for_url("**/staff/two-factor/setup/?next=/pos/")
    assert page.locator("figure.qr svg").is_visible()
    key = b32decode(page.locator("#two-factor-secret").inner_text().replace(" ", ""))
    page.get_by_label("Confirmation code").fill(app_code(key, 0))
    page.get_by_role("button", name="Confirm").click()

    backup_codes = page.locator(".backup-code").all_inner_texts()
    assert len(backup_codes) == 10
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url("**/pos/")
    assert page.locator("#code").is_visible()

    page.context.clear_cookies()
    log_in(page, live_server.url, manager.username)
    page.wait_for_url("**/staff/two-factor/?next=/pos/")
    page.get_by_label("Confirmation code").fill(app_code(key, 1))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/pos/")
    assert page.locator("#code").is_visible()
