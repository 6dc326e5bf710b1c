"""Staff sessions: secrets shown once stay on the server (never in a cookie), and an admin session lasts 8 hours."""

import re

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from merchants.models import Role
from redemption.models import ApiToken, hash_token
from tests.factories import TEST_PASSWORD, LocationFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db

EIGHT_HOURS = 8 * 60 * 60


def cookie_texts(responses: list[HttpResponse]) -> list[str]:
    """Every cookie the browser was sent, raw and, where it is one, as the messages cookie decodes it (a messages
    cookie may be compressed, which would hide a secret from a plain text search)."""
    texts = []
    storage = CookieStorage(RequestFactory().get("/"))
    for response in responses:
        for morsel in response.cookies.values():
            texts.append(morsel.OutputString())
            decoded = storage._decode(morsel.value)
            if decoded:
                texts.extend(str(message) for message in decoded)
    return texts


def logged_in_manager(role: str = Role.MANAGER):
    membership = StaffMembershipFactory(role=role)
    client = Client()
    response = client.post("/admin/login/", {"username": membership.user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client, membership


def test_a_new_api_token_is_shown_on_the_page_but_sent_in_no_cookie():
    client, membership = logged_in_manager()
    location = LocationFactory(merchant=membership.merchant)
    created = client.post(
        "/admin/redemption/apitoken/add/",
        {"merchant": membership.merchant.pk, "location": location.pk, "name": "Till", "scopes": ["vouchers:read"]},
    )
    assert created.status_code == 302
    shown = client.get(created["Location"])
    secret = re.search(r"vsk_[\w-]+", shown.content.decode())
    assert secret, "the page shows the new token once"
    assert ApiToken.objects.get().secret_hash == hash_token(secret.group(0))
    assert not [text for text in cookie_texts([created, shown]) if secret.group(0) in text]


def test_a_one_time_password_is_shown_on_the_page_but_sent_in_no_cookie():
    client, membership = logged_in_manager(Role.OWNER)
    created = client.post(
        reverse("admin:merchants_staffmembership_add"),
        {"merchant": membership.merchant.pk, "email": "new.cashier@example.com", "role": Role.CASHIER},
    )
    assert created.status_code == 302
    shown = client.get(created["Location"])
    password = re.search(r"One-time password \(shown once\): ([\w-]+)", shown.content.decode())
    assert password, "the page shows the one-time password once"
    assert not [text for text in cookie_texts([created, shown]) if password.group(1) in text]
    assert password.group(1) not in client.get(created["Location"]).content.decode()


def test_an_admin_session_lasts_eight_hours():
    client, _membership = logged_in_manager()
    assert client.cookies["sessionid"]["max-age"] == EIGHT_HOURS
    assert client.session.get_expiry_age() == EIGHT_HOURS
