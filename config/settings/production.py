"""Production settings: refuse to start with an unsafe configuration, then harden transport and cookies."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *
from core.email import anymail_esp

# Keys a developer may have copied from local or test settings, or a placeholder from an example file.
_KNOWN_UNSAFE_PREFIXES = ("django-insecure", "change-me", "changeme", "secret")
_MIN_SECRET_KEY_LENGTH = 50


def check_production_settings(
    *,
    secret_key: str,
    debug: bool,
    allowed_hosts: list[str],
    base_url: str = "",
    stripe_secret_key: str = "",
    stripe_webhook_secret: str = "",
    demo_payments: bool = False,
    email_backend: str = "",
    anymail_settings: dict[str, object] | None = None,
) -> None:
    """Raise ImproperlyConfigured when production would run with a guessable key, debug pages, no host, or
    payments that anyone could fake (the demo checkout, or webhooks checked against the public demo secret), or an
    email provider whose tracking webhook would take anyone's events (no webhook secret)."""
    if not secret_key:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    if len(secret_key) < _MIN_SECRET_KEY_LENGTH or secret_key.lower().startswith(_KNOWN_UNSAFE_PREFIXES):
        raise ImproperlyConfigured(
            f"SECRET_KEY looks like a development or placeholder key; use {_MIN_SECRET_KEY_LENGTH}+ random characters."
        )
    if len(set(secret_key)) < 5:
        raise ImproperlyConfigured("SECRET_KEY is not random enough.")
    if debug:
        raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false).")
    if not allowed_hosts or "*" in allowed_hosts:
        raise ImproperlyConfigured("ALLOWED_HOSTS must list the shop's host names (not '*').")
    if not base_url:
        raise ImproperlyConfigured(
            "BASE_URL is not set: the shop's public address (https://shop.example.com) is printed in QR codes, "
            "email links and Stripe's return URLs."
        )
    if not base_url.startswith("https://") or len(base_url) <= len("https://"):
        raise ImproperlyConfigured(
            f"BASE_URL {base_url!r} must start with https://: customers follow it from emails and QR codes."
        )
    esp = anymail_esp(email_backend)
    webhook_secret = (anymail_settings or {}).get("WEBHOOK_SECRET")
    if esp and not webhook_secret:
        raise ImproperlyConfigured(
            f"EMAIL_URL sends through {esp}, but ANYMAIL has no WEBHOOK_SECRET: anyone could post forged bounces "
            f'to its tracking webhook. Set ANYMAIL={{..., "WEBHOOK_SECRET": "<user>:<random password>"}} and give '
            "the provider the same credentials (basic auth in the webhook URL)."
        )
    if esp:
        secrets = [webhook_secret] if isinstance(webhook_secret, str) else webhook_secret
        if not isinstance(secrets, list | tuple):
            secrets = [secrets]
        if not all(isinstance(secret, str) and secret.partition(":")[2] for secret in secrets):
            # Basic auth sends "user:password"; a value without a password would match no provider's request.
            raise ImproperlyConfigured(
                "ANYMAIL's WEBHOOK_SECRET must be '<user>:<random password>' (or a list of them, while rotating)."
            )
    if demo_payments:
        return
    if not stripe_secret_key:
        raise ImproperlyConfigured(
            "STRIPE_SECRET_KEY is not set: checkout would be the demo page, where anyone gets vouchers without "
            "paying. Set the Stripe keys, or DEMO_PAYMENTS=true for a demonstration site."
        )
    if not stripe_webhook_secret or stripe_webhook_secret == DEMO_WEBHOOK_SECRET:
        raise ImproperlyConfigured(
            "STRIPE_WEBHOOK_SECRET is not set: copy the signing secret (whsec_...) of the webhook endpoint from "
            "the Stripe dashboard."
        )


DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
# No default here: the development address would end up in every QR code and email link.
BASE_URL = env.str("BASE_URL", default="").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[BASE_URL])
# A demonstration site may run the demo checkout on purpose; a shop never does by accident.
DEMO_PAYMENTS = env.bool("DEMO_PAYMENTS", default=False)
check_production_settings(
    secret_key=SECRET_KEY,
    debug=DEBUG,
    allowed_hosts=ALLOWED_HOSTS,
    base_url=BASE_URL,
    stripe_secret_key=STRIPE_SECRET_KEY,
    stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
    demo_payments=DEMO_PAYMENTS,
    email_backend=EMAIL_BACKEND,
    anymail_settings=ANYMAIL,
)

# Staff logins: seed_demo would reset the demo logins to the passwords printed in the README.
SEED_DEMO_ALLOWED = env.bool("SEED_DEMO_ALLOWED", default=False)

STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is hard to undo (browsers ship the list for months): only on the operator's explicit request.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # The deploy check warns whenever preload is off; off is the deliberate default.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
