"""Operator command seed_demo: refused where demo logins must not exist, and safe to run twice."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError

from merchants.models import Location, Merchant, StaffMembership
from shop.management.commands.seed_demo import DEMO_LOGINS
from tests.merchants.helpers import run

pytestmark = pytest.mark.django_db


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
