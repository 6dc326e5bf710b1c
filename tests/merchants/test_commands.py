"""Operator commands create_merchant and create_staff: run twice and with bad input."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError

from merchants.models import Merchant, Role, StaffMembership
from tests.factories import LocationFactory, MerchantFactory
from tests.merchants.helpers import run

pytestmark = pytest.mark.django_db


def test_create_merchant_twice_makes_one():
    first = run("create_merchant", "--slug", "spa", "--name", "Spa", "--currency", "chf", "--locale", "de")
    second = run("create_merchant", "--slug", "spa", "--name", "Spa", "--currency", "CHF", "--locale", "de")
    assert "Created merchant spa" in first
    assert "unchanged" in second
    merchant = Merchant.objects.get()
    assert (merchant.currency, merchant.locale) == ("CHF", "de")


def test_create_merchant_with_conflicting_details_is_a_clear_error():
    MerchantFactory(slug="spa", name="Spa", currency="EUR")
    with pytest.raises(CommandError, match="already exists with currency 'EUR'"):
        run("create_merchant", "--slug", "spa", "--name", "Spa", "--currency", "USD")
    assert Merchant.objects.get().currency == "EUR"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--currency", "EURO"], "currency"),
        (["--currency", "XYZ"], "ISO 4217"),
        (["--time-zone", "Mars/Olympus"], "time zone"),
    ],
)
def test_create_merchant_rejects_bad_values(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_merchant", "--slug", "spa", "--name", "Spa", *args)
    assert not Merchant.objects.exists()


def test_create_staff_prints_a_one_time_password_that_works():
    merchant = MerchantFactory(slug="spa")
    out = run("create_staff", "--merchant", "spa", "--email", "Anna@Example.com", "--role", "cashier")
    password = out.split("One-time password: ")[1].strip()
    user = authenticate(username="anna@example.com", password=password)
    assert user is not None
    assert not user.is_staff  # cashiers work at the POS page, not in the admin
    assert StaffMembership.objects.get(user=user).merchant == merchant


def test_create_staff_again_updates_the_role_and_keeps_the_password():
    MerchantFactory(slug="spa")
    run("create_staff", "--merchant", "spa", "--email", "a@example.com", "--role", "cashier", "--password", "pw-one-1")
    out = run("create_staff", "--merchant", "spa", "--email", "a@example.com", "--role", "manager")
    assert "password unchanged" in out
    membership = StaffMembership.objects.get()
    assert membership.role == Role.MANAGER
    assert membership.user.is_staff
    assert authenticate(username="a@example.com", password="pw-one-1") is not None


def test_create_staff_limited_to_a_location():
    merchant = MerchantFactory(slug="spa")
    LocationFactory(merchant=merchant, slug="front")
    run("create_staff", "--merchant", "spa", "--email", "b@example.com", "--role", "cashier", "--location", "front")
    assert list(StaffMembership.objects.get().locations.values_list("slug", flat=True)) == ["front"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--merchant", "nope", "--email", "a@example.com", "--role", "owner"], "No merchant with slug 'nope'"),
        (["--merchant", "spa", "--email", "not-an-email", "--role", "owner"], "valid email"),
        (
            ["--merchant", "spa", "--email", "a@example.com", "--role", "owner", "--location", "back"],
            "No location back",
        ),
    ],
)
def test_create_staff_errors_are_clear_and_write_nothing(args, message):
    other = MerchantFactory(slug="other")
    LocationFactory(merchant=other, slug="back")
    MerchantFactory(slug="spa")
    with pytest.raises(CommandError, match=message):
        run("create_staff", *args)
    assert not StaffMembership.objects.exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "too common"),
        ("4816203957", "entirely numeric"),
        ("short1!", "too short"),
        ("anna@example.com!", "too similar"),
    ],
)
def test_create_staff_refuses_a_weak_password_and_writes_nothing(password, message):
    MerchantFactory(slug="spa")
    with pytest.raises(CommandError, match=message):
        run(
            "create_staff",
            "--merchant",
            "spa",
            "--email",
            "anna@example.com",
            "--role",
            "owner",
            f"--password={password}",
        )
    assert not get_user_model().objects.exists()
    assert not StaffMembership.objects.exists()


def test_create_staff_refuses_a_weak_new_password_for_an_existing_login():
    MerchantFactory(slug="spa")
    run("create_staff", "--merchant", "spa", "--email", "a@example.com", "--role", "owner", "--password", "pw-one-1")
    with pytest.raises(CommandError, match="too common"):
        run("create_staff", "--merchant", "spa", "--email", "a@example.com", "--role", "owner", "--password=password")
    assert authenticate(username="a@example.com", password="pw-one-1") is not None
