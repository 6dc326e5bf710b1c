"""Staff two-factor login: owners and managers enrol an authenticator app (TOTP), then prove a code after the
password before any admin or POS page; required by STAFF_TWO_FACTOR_REQUIRED or by a merchant's setting."""

import re
import time
from base64 import b32decode
from urllib.parse import quote

import pytest
from django.test import Client
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import Role
from tests.factories import TEST_PASSWORD, LocationFactory, MerchantFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SETUP = "/staff/two-factor/setup/"
VERIFY = "/staff/two-factor/"


def staff(role: str = Role.MANAGER, merchant=None):
    merchant = merchant or MerchantFactory()
    LocationFactory(merchant=merchant)
    return StaffMembershipFactory(role=role, merchant=merchant, user=UserFactory(is_staff=role != Role.CASHIER)).user


def password_login(user, page: str = "/admin/login/") -> Client:
    client = Client()
    response = client.post(page, {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, "the password is right"
    return client


def secret_on_page(html: str) -> bytes:
    match = re.search(r'<code id="two-factor-secret">([A-Z2-7 ]+)</code>', html)
    assert match, "the setup page shows the key for typing it in"
    return b32decode(match.group(1).replace(" ", ""))


def code(key: bytes, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or that many 30-second steps later)."""
    if steps_ahead == 0:
        return f"{totp(key):06d}"
    generator = TOTP(key)
    generator.time = time.time() + 30 * steps_ahead
    return f"{generator.token():06d}"


def enrol(client: Client, next_url: str = "/admin/") -> tuple[bytes, list[str]]:
    page = client.get(f"{SETUP}?next={quote(next_url)}")
    assert page.status_code == 200
    key = secret_on_page(page.content.decode())
    done = client.post(f"{SETUP}?next={quote(next_url)}", {"token": code(key)})
    assert done.status_code == 200
    backup_codes = re.findall(r'<li class="backup-code"><code>([a-z0-9]+)</code></li>', done.content.decode())
    return key, backup_codes


def test_when_required_a_manager_enrols_after_the_password_and_then_reaches_the_admin(settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    client = password_login(staff(Role.MANAGER))

    # The password alone does not open the admin: it leads to the enrolment.
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=/admin/"
    assert client.get("/admin/shop/order/").status_code == 302

    page = client.get(response["Location"]).content.decode()
    # The QR code is inline SVG: nothing a Content-Security-Policy without inline scripts and styles would block.
    assert "<svg" in page
    assert "<script" not in page
    assert "style=" not in page
    key = secret_on_page(page)

    # A wrong code is a form error, and the device stays unconfirmed.
    wrong = client.post(f"{SETUP}?next=/admin/", {"token": f"{(int(code(key)) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()

    time.sleep(1.1)  # one failure holds the device back for a second
    done = client.post(f"{SETUP}?next=/admin/", {"token": code(key, steps_ahead=1)})
    assert done.status_code == 200
    backup_codes = re.findall(r'<li class="backup-code"><code>([a-z0-9]+)</code></li>', done.content.decode())
    assert len(backup_codes) == 10
    assert client.get("/admin/").status_code == 200

    # The backup codes were shown once; the setup page now only says that the app is set up.
    again = client.get(SETUP).content.decode()
    assert not [backup for backup in backup_codes if backup in again]


def test_an_enrolled_owner_proves_a_code_after_the_password_at_the_admin_and_the_pos():
    owner = staff(Role.OWNER)
    key, _codes = enrol(password_login(owner))

    for login_page, start_page in (("/admin/login/", "/admin/"), ("/pos/login/", "/pos/")):
        client = password_login(owner, login_page)
        response = client.get(start_page)
        assert response.status_code == 302
        assert response["Location"] == f"{VERIFY}?next={start_page}"

        wrong = client.post(response["Location"], {"token": "000000" if code(key) != "000000" else "111111"})
        assert wrong.status_code == 200
        assert "That code is not right" in wrong.content.decode()
        assert client.get(start_page).status_code == 302

        # The previous code was used up by the enrolment or the last login: the app's next one.
        time.sleep(1.1)  # one failure holds the device back for a second
        step = 1 if login_page == "/admin/login/" else 2
        verified = client.post(response["Location"], {"token": code(key, steps_ahead=step)})
        assert verified.status_code == 302
        assert verified["Location"] == start_page
        assert client.get(start_page).status_code == 200


def test_a_backup_code_works_once_instead_of_the_app():
    owner = staff(Role.OWNER)
    _key, backup_codes = enrol(password_login(owner))

    client = password_login(owner)
    assert client.post(f"{VERIFY}?next=/admin/", {"token": backup_codes[0]}).status_code == 302
    assert client.get("/admin/").status_code == 200

    other = password_login(owner)
    reused = other.post(f"{VERIFY}?next=/admin/", {"token": backup_codes[0]})
    assert reused.status_code == 200
    assert other.get("/admin/").status_code == 302


def test_the_enrolment_page_is_not_open_to_a_session_that_only_knows_the_password():
    owner = staff(Role.OWNER)
    enrol(password_login(owner))
    # Someone with the password alone must not replace the owner's authenticator with their own.
    intruder = password_login(owner)
    response = intruder.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert intruder.post(SETUP, {"token": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=owner).count() == 1


def test_a_merchant_may_require_it_for_its_managers_only():
    strict = MerchantFactory(require_two_factor_for_managers=True)
    relaxed = MerchantFactory()
    manager_of_strict = staff(Role.MANAGER, strict)
    manager_of_relaxed = staff(Role.MANAGER, relaxed)
    cashier_of_strict = staff(Role.CASHIER, strict)

    response = password_login(manager_of_strict, "/pos/login/").get("/pos/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=/pos/"
    assert password_login(manager_of_relaxed).get("/admin/").status_code == 200
    assert password_login(cashier_of_strict, "/pos/login/").get("/pos/").status_code == 200


def test_without_a_requirement_staff_without_a_device_log_in_with_the_password(settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = False
    assert password_login(staff(Role.OWNER)).get("/admin/").status_code == 200


def test_the_pages_ask_for_a_login_first_and_ignore_a_foreign_next():
    assert Client().get(VERIFY)["Location"].startswith("/admin/login/")
    assert Client().get(SETUP)["Location"].startswith("/admin/login/")
    owner = staff(Role.OWNER)
    key, _codes = enrol(password_login(owner))
    client = password_login(owner)
    response = client.post(f"{VERIFY}?next=https://evil.example/", {"token": code(key, steps_ahead=1)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_pages_speak_german():
    owner = staff(Role.OWNER)
    first = password_login(owner)
    setup = first.get(SETUP, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Zwei-Faktor-Anmeldung einrichten" in setup
    assert "Scannen Sie diesen QR-Code" in setup
    enrol(first)
    client = password_login(owner)
    page = client.get(VERIFY, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Bestätigungscode" in page
