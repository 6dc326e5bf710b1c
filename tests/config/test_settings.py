"""Production settings refuse unsafe configurations; EMAIL_URL picks the transport."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection

from config.email import email_settings_from_url

PROJECT_DIR = Path(__file__).resolve().parents[2]
GOOD_KEY = "q9X2v7LmP4zR8tY1wK6nB3cJ5hF0dS9aE2gU7iO4pL1mN8bV6cX3zQ5rT0yW7uI2"
STRIPE = {"STRIPE_SECRET_KEY": "sk_live_example", "STRIPE_WEBHOOK_SECRET": "whsec_example_from_dashboard"}
SAFE = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "shop.example.com", **STRIPE}


def load_production_settings(**environment: str) -> subprocess.CompletedProcess[str]:
    ours = {
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "DEMO_PAYMENTS",
        "EMAIL_URL",
        "ANYMAIL",
    }
    env = {key: value for key, value in os.environ.items() if key not in ours}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", **environment)
    code = "import django; django.setup(); from django.conf import settings; print('ok', settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"ALLOWED_HOSTS": "shop.example.com"}, "SECRET_KEY is not set"),
        (
            {"SECRET_KEY": "django-insecure-" + "x" * 60, "ALLOWED_HOSTS": "shop.example.com"},
            "development or placeholder",
        ),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "shop.example.com"}, "development or placeholder"),
        ({"SECRET_KEY": "a" * 64, "ALLOWED_HOSTS": "shop.example.com"}, "not random enough"),
        ({"SECRET_KEY": GOOD_KEY, "DEBUG": "true", "ALLOWED_HOSTS": "shop.example.com"}, "DEBUG must be off"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        # Without a Stripe key the checkout would be the demo page: vouchers for anyone, unpaid.
        ({**SAFE, "STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY is not set"),
        # Without the endpoint's secret, events would be checked against the public demo secret.
        ({**SAFE, "STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is not set"),
        ({**SAFE, "STRIPE_WEBHOOK_SECRET": "whsec_demo_local_only"}, "STRIPE_WEBHOOK_SECRET is not set"),
        # An email provider's tracking webhook without a secret takes anyone's forged bounces.
        ({**SAFE, "EMAIL_URL": "anymail://postmark", "ANYMAIL": '{"POSTMARK_SERVER_TOKEN": "pm"}'}, "WEBHOOK_SECRET"),
        (
            {**SAFE, "EMAIL_URL": "anymail://mailgun", "ANYMAIL": '{"MAILGUN_API_KEY": "k", "WEBHOOK_SECRET": ""}'},
            "WEBHOOK_SECRET",
        ),
    ],
)
def test_production_refuses_an_unsafe_configuration(environment, message):
    result = load_production_settings(**environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_starts_with_a_safe_configuration():
    result = load_production_settings(**SAFE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok False"


def test_production_starts_with_an_email_provider_and_its_webhook_secret():
    anymail = '{"POSTMARK_SERVER_TOKEN": "pm", "WEBHOOK_SECRET": "tracker:k3Yq8vN2pL5xR9wT"}'
    result = load_production_settings(**SAFE, EMAIL_URL="anymail://postmark", ANYMAIL=anymail)
    assert result.returncode == 0, result.stderr


def test_a_demonstration_site_runs_the_demo_checkout_only_when_asked():
    result = load_production_settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="demo.example.com", DEMO_PAYMENTS="true")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://user:p%40ss@mail.example.com:2525",
            {
                "EMAIL_HOST": "mail.example.com",
                "EMAIL_PORT": 2525,
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": False,
            },
        ),
        ("smtp+tls://mail.example.com", {"EMAIL_PORT": 25, "EMAIL_USE_TLS": True}),
        ("smtps://mail.example.com", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
        ("anymail://mailgun", {"EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend"}),
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
    ],
)
def test_email_url_is_turned_into_settings(url, expected):
    result = email_settings_from_url(url)
    assert {key: result[key] for key in expected} == expected


def test_unknown_email_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="unknown scheme"):
        email_settings_from_url("pigeon://loft")


def test_file_email_url_writes_one_eml_per_message(tmp_path):
    config = email_settings_from_url(f"file://{tmp_path}")
    connection = get_connection(config["EMAIL_BACKEND"], file_path=str(tmp_path))
    sent = connection.send_messages(
        [
            EmailMessage("Hello", "Body one", "shop@example.com", ["a@example.com"]),
            EmailMessage("Again", "Body two", "shop@example.com", ["b@example.com"]),
        ]
    )
    files = sorted(tmp_path.glob("*.eml"))
    assert sent == 2
    assert len(files) == 2
    assert any(b"Subject: Hello" in f.read_bytes() for f in files)
