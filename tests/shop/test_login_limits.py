"""Brute-force limits on the staff logins (/admin/login/ and /pos/login/): per login and address, per address."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from merchants.models import Role
from tests.factories import TEST_PASSWORD, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_PAGES = ("/admin/login/", "/pos/login/")
ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"


def owner(email: str = "owner@spa.example"):
    return StaffMembershipFactory(role=Role.OWNER, user=UserFactory(username=email, is_staff=True)).user


def attempt(client: Client, page: str, username: str, password: str, address: str, **headers: Any):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_a_login_is_locked_for_the_guessing_address_after_the_limit(page):
    user = owner()
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = attempt(client, page, user.username, "wrong-guess", ATTACKER)
        assert not logged_in(client)

    # Even the right password is refused now, with a page that says why and for how long.
    response = attempt(client, page, user.username, TEST_PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    assert not logged_in(client)
    text = response.content.decode()
    assert "Too many failed logins" in text
    assert f"{settings.LOGIN_LOCKOUT_MINUTES} minutes" in text
    assert '<html lang="en">' in text  # the site's page, not a bare text

    # The owner at the office is not locked out by someone guessing elsewhere.
    office = Client()
    response = attempt(office, page, user.username, TEST_PASSWORD, OFFICE)
    assert response.status_code == 302
    assert logged_in(office)


def test_the_lockout_page_is_translated():
    user = owner()
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        attempt(client, "/pos/login/", user.username, "wrong-guess", ATTACKER)
    response = attempt(client, "/pos/login/", user.username, TEST_PASSWORD, ATTACKER)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Zu viele fehlgeschlagene Anmeldungen" in text
    assert '<html lang="de">' in text


def test_one_address_trying_many_logins_is_stopped_by_the_address_limit():
    victim = owner("victim@spa.example")
    client = Client()
    # Spread below the per-login limit over many names, as a password-spraying attacker does.
    per_name = settings.LOGIN_FAILURE_LIMIT - 1
    names = [f"guess{n}@spa.example" for n in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT // per_name + 1)]
    for name in names:
        for _ in range(per_name):
            attempt(client, "/admin/login/", name, "wrong-guess", ATTACKER)

    response = attempt(client, "/admin/login/", victim.username, TEST_PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert not logged_in(client)


def test_a_successful_login_resets_that_logins_failures_only():
    user = owner()
    other = owner("other@spa.example")
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        attempt(client, "/admin/login/", user.username, "typo", OFFICE)
        attempt(client, "/admin/login/", other.username, "typo", OFFICE)
    assert attempt(client, "/admin/login/", user.username, TEST_PASSWORD, OFFICE).status_code == 302
    client.logout()

    # The reset login starts again from zero ...
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        attempt(client, "/admin/login/", user.username, "typo", OFFICE)
    assert attempt(client, "/admin/login/", user.username, TEST_PASSWORD, OFFICE).status_code == 302
    client.logout()
    # ... while a success of one login does not wipe the failures of another from the same address.
    attempt(client, "/admin/login/", other.username, "typo", OFFICE)
    assert attempt(client, "/admin/login/", other.username, TEST_PASSWORD, OFFICE).status_code == 429


def test_the_lockout_ends_after_the_lockout_minutes():
    user = owner()
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        attempt(client, "/admin/login/", user.username, "wrong-guess", ATTACKER)
    assert attempt(client, "/admin/login/", user.username, TEST_PASSWORD, ATTACKER).status_code == 429

    from axes.models import AccessAttempt

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=1)
    )
    assert attempt(client, "/admin/login/", user.username, TEST_PASSWORD, ATTACKER).status_code == 302


def test_a_different_spelling_of_the_login_counts_as_the_same_login():
    user = owner()
    client = Client()
    spellings = [user.username.upper(), f" {user.username}", user.username.title(), user.username, user.username]
    for spelling in spellings[: settings.LOGIN_FAILURE_LIMIT]:
        attempt(client, "/admin/login/", spelling, "wrong-guess", ATTACKER)
    assert attempt(client, "/admin/login/", user.username, TEST_PASSWORD, ATTACKER).status_code == 429


def test_behind_the_proxy_the_client_address_is_the_one_the_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    user = owner()
    client = Client()
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        # Whatever the client writes in front of the proxy's entry does not give it a new address.
        forwarded = f"192.0.2.{n}, {ATTACKER}"
        attempt(client, "/admin/login/", user.username, "wrong-guess", proxy, HTTP_X_FORWARDED_FOR=forwarded)
    locked = attempt(client, "/admin/login/", user.username, TEST_PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert locked.status_code == 429

    # Every client reaches us from the proxy's address; only the guessing one is locked out.
    office = Client()
    response = attempt(office, "/admin/login/", user.username, TEST_PASSWORD, proxy, HTTP_X_FORWARDED_FOR=OFFICE)
    assert response.status_code == 302
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(ip_address=ATTACKER).exists()
    assert not AccessAttempt.objects.filter(ip_address=proxy).exists()


def test_tries_during_a_lockout_are_refused_without_growing_the_record():
    from axes.models import AccessAttempt

    user = owner()
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        attempt(client, "/admin/login/", user.username, "wrong-guess", ATTACKER)
    recorded = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time", "post_data"))

    for _ in range(10):
        assert attempt(client, "/admin/login/", user.username, "wrong-guess", ATTACKER).status_code == 429
    assert list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time", "post_data")) == recorded


def test_ipv6_addresses_of_one_network_count_as_one_address():
    # One IPv6 customer line gets a whole /64: a new address from it per try must not be a fresh allowance.
    user = owner()
    client = Client()
    for n in range(1, settings.LOGIN_FAILURE_LIMIT + 1):
        attempt(client, "/admin/login/", user.username, "wrong-guess", f"2001:db8:1:2::{n:x}")
    assert attempt(client, "/admin/login/", user.username, TEST_PASSWORD, "2001:db8:1:2:ffff::1").status_code == 429
    assert attempt(Client(), "/admin/login/", user.username, TEST_PASSWORD, "2001:db8:1:3::1").status_code == 302
