"""Production settings refuse unsafe configurations; EMAIL_URL picks the transport."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection

from core.email import email_settings_from_url, redact_url_password

PROJECT_DIR = Path(__file__).resolve().parents[2]
GOOD_KEY = "q9X2v7LmP4zR8tY1wK6nB3cJ5hF0dS9aE2gU7iO4pL1mN8bV6cX3zQ5rT0yW7uI2"
STRIPE = {"STRIPE_SECRET_KEY": "sk_live_example", "STRIPE_WEBHOOK_SECRET": "whsec_example_from_dashboard"}
SAFE = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "shop.example.com", "BASE_URL": "https://shop.example.com", **STRIPE}
PRINT_DEBUG = "import django; django.setup(); from django.conf import settings; print('ok', settings.DEBUG)"


def load_production_settings(
    code: str = PRINT_DEBUG, *args: str, **environment: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (or ``manage.py`` with ``args`` when code is "manage.py") under production settings with only
    ``environment`` of our variables set."""
    ours = {
        "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the browser tests; the deploy check rightly refuses it
        "BASE_URL",
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "STRIPE_CHECKOUT_ORIGINS",
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
    command = [sys.executable, "manage.py", *args] if code == "manage.py" else [sys.executable, "-c", code]
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60, check=False)


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
        # The development default would be printed in every QR code and email link.
        ({**SAFE, "BASE_URL": ""}, "BASE_URL is not set"),
        ({**SAFE, "BASE_URL": "http://shop.example.com"}, "must start with https://"),
        ({**SAFE, "BASE_URL": "shop.example.com"}, "must start with https://"),
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
        (
            {**SAFE, "EMAIL_URL": "anymail://postmark", "ANYMAIL": '{"WEBHOOK_SECRET": "only-a-password"}'},
            "'<user>:<random password>'",
        ),
        (
            {**SAFE, "EMAIL_URL": "anymail://postmark", "ANYMAIL": '{"WEBHOOK_SECRET": ["a:b", "user:"]}'},
            "'<user>:<random password>'",
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


def test_production_hsts_includes_subdomains_and_preloads_only_when_asked():
    show = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD, settings.CSRF_TRUSTED_ORIGINS)"
    )
    defaults = load_production_settings(show, **SAFE)
    assert defaults.stdout.split() == ["True", "False", "['https://shop.example.com']"], defaults.stderr
    chosen = load_production_settings(show, **SAFE, SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_PRELOAD="true")
    assert chosen.stdout.split()[:2] == ["False", "True"], chosen.stderr


def test_forms_may_lead_only_to_the_shop_and_stripe_checkout():
    show = (
        "import django; django.setup(); from django.conf import settings; "
        "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))"
    )
    default = load_production_settings(show, **SAFE)
    assert default.stdout.split() == ["'self'", "https://checkout.stripe.com"], default.stderr
    custom = load_production_settings(show, **SAFE, STRIPE_CHECKOUT_ORIGINS="https://pay.example.com")
    assert custom.stdout.split() == ["'self'", "https://pay.example.com"], custom.stderr


@pytest.mark.parametrize("extra", [{}, {"SECURE_HSTS_PRELOAD": "true"}])
def test_the_deploy_check_has_no_warning_under_production_settings(extra):
    result = load_production_settings("manage.py", "check", "--deploy", "--fail-level", "WARNING", **SAFE, **extra)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_the_deploy_check_still_warns_about_what_the_operator_turned_off():
    # Only the preload warning is silenced, and only while preload is off: other weakenings are still reported.
    result = load_production_settings(
        "manage.py", "check", "--deploy", **SAFE, SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_SSL_REDIRECT="false"
    )
    assert "security.W005" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout
    assert "security.W021" not in result.stderr + result.stdout


EMAIL_PASSWORD = "Sup3r-S3cret-Mail-Pw"


@pytest.mark.parametrize(
    "email_url",
    [
        f"pigeon://mailer:{EMAIL_PASSWORD}@mail.example.com",
        f"smtp://mailer:{EMAIL_PASSWORD}@mail.example.com:twentyfive",
        f"smtp://mailer:{EMAIL_PASSWORD}@mail.example.com?timeout=soon",
        f"anymail://mailer:{EMAIL_PASSWORD}@not-a-provider!",
    ],
)
def test_a_refused_email_url_is_shown_without_its_password(email_url):
    result = load_production_settings(**SAFE, EMAIL_URL=email_url)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "mail.example.com" in result.stderr or "not-a-provider" in result.stderr
    assert EMAIL_PASSWORD not in result.stderr + result.stdout


def test_the_email_password_is_in_no_setting_that_error_reports_show():
    show = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.views.debug import SafeExceptionReporterFilter; "
        "print(settings.EMAIL_URL); print(settings.EMAIL_HOST_PASSWORD == 'Sup3r-S3cret-Mail-Pw'); "
        "print(repr(SafeExceptionReporterFilter().get_safe_settings()))"
    )
    result = load_production_settings(show, **SAFE, EMAIL_URL=f"smtp+tls://mailer:{EMAIL_PASSWORD}@mail.example.com")
    assert result.returncode == 0, result.stderr
    shown_url, password_in_use, report = result.stdout.splitlines()
    assert shown_url == "smtp+tls://mailer:***@mail.example.com"
    assert password_in_use == "True"  # the backend still gets it
    assert EMAIL_PASSWORD not in report
    assert EMAIL_PASSWORD not in result.stdout


def test_a_demonstration_site_runs_the_demo_checkout_only_when_asked():
    result = load_production_settings(
        SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="demo.example.com", BASE_URL="https://demo.example.com", DEMO_PAYMENTS="true"
    )
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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("smtp://user:p%40ss@mail.example.com:2525", "smtp://user:***@mail.example.com:2525"),
        ("smtps://user:p@ss@mail.example.com", "smtps://user:***@mail.example.com"),
        ("smtp://user@mail.example.com", "smtp://user@mail.example.com"),
        ("file:///var/mail", "file:///var/mail"),
    ],
)
def test_redact_url_password(url, shown):
    assert redact_url_password(url) == shown


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


def test_compose_publishes_the_web_port_only_on_the_loopback_for_the_proxy():
    import yaml

    services = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())["services"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert [name for name, service in services.items() if service.get("ports") and name != "web"] == []
