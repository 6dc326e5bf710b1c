"""Operator commands: create_merchant, create_staff and seed_demo, run twice and with bad input."""

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command

from shop.management.commands.seed_demo import DEMO_LOGINS
from shop.models import Location, Merchant, Role, StaffMembership
from tests.factories import LocationFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


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


@pytest.mark.parametrize(("email", "role", "password"), DEMO_LOGINS)
def test_the_demo_passwords_pass_the_password_validators(email, role, password):
    validate_password(password, get_user_model()(username=email, email=email))


def test_seed_demo_refuses_when_not_allowed(settings):
    settings.SEED_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="SEED_DEMO_ALLOWED"):
        run("seed_demo")
    assert not Merchant.objects.exists()
    assert not get_user_model().objects.exists()


def test_seed_demo_is_refused_under_production_settings_unless_allowed(tmp_path: Path):
    project = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "shop.example",
        "BASE_URL": "https://shop.example",
        "DEMO_PAYMENTS": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    environment.pop("SEED_DEMO_ALLOWED", None)
    refused = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        check=False,
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "SEED_DEMO_ALLOWED" in refused.stderr
    assert "Demo merchant ready" not in refused.stdout

    # Allowed on purpose (a demonstration site), the command gets past the guard and reaches the database.
    allowed = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        check=False,
        cwd=project,
        env={**environment, "SEED_DEMO_ALLOWED": "true"},
        capture_output=True,
        text=True,
    )
    assert "SEED_DEMO_ALLOWED" not in allowed.stderr
    assert "no such table" in allowed.stderr  # nothing migrated in this throwaway database


def test_seed_demo_twice_leaves_one_demo_merchant():
    run("seed_demo")
    out = run("seed_demo")
    assert Merchant.objects.filter(slug="demo").count() == 1
    assert Location.objects.filter(merchant__slug="demo", slug="main").count() == 1
    assert StaffMembership.objects.filter(merchant__slug="demo").count() == 2
    assert "cashier@demo.example" in out
    assert authenticate(username="owner@demo.example", password="demo-owner-pass") is not None
    assert authenticate(username="cashier@demo.example", password="demo-counter-pass") is not None
