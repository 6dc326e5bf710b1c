"""Production settings: refuse to start with an unsafe configuration, then harden transport and cookies."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *

# Keys a developer may have copied from local or test settings, or a placeholder from an example file.
_KNOWN_UNSAFE_PREFIXES = ("django-insecure", "change-me", "changeme", "secret")
_MIN_SECRET_KEY_LENGTH = 50


def check_production_settings(*, secret_key: str, debug: bool, allowed_hosts: list[str]) -> None:
    """Raise ImproperlyConfigured when production would run with a guessable key, debug pages or no host."""
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


DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
check_production_settings(secret_key=SECRET_KEY, debug=DEBUG, allowed_hosts=ALLOWED_HOSTS)

STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
