"""Turns EMAIL_URL into Django email settings, so that one variable picks how email leaves the shop.

Schemes: ``smtp://user:pass@host:port`` (``smtp+tls://`` for STARTTLS, ``smtps://`` for implicit TLS),
``file://<directory>`` (one ``.eml`` file per message; relative paths are under the project),
``console://``, ``locmem://`` and ``anymail://<esp>`` (any django-anymail provider such as ``mailgun``,
``postmark``, ``sendgrid``; its credentials go in the ``ANYMAIL`` JSON variable).
"""

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent.parent
_ANYMAIL_BACKEND_PREFIX = "anymail.backends."
_ANYMAIL_BACKEND_SUFFIX = ".EmailBackend"
# anymail's own backends that talk to no provider, so no provider sends tracking events.
_ANYMAIL_OFFLINE_BACKENDS = {"console", "test"}


def anymail_esp(email_backend: str) -> str | None:
    """The anymail provider (``mailgun``, ``postmark``, ...) that ``email_backend`` sends through, or None when
    email does not go through an anymail provider."""
    if not (email_backend.startswith(_ANYMAIL_BACKEND_PREFIX) and email_backend.endswith(_ANYMAIL_BACKEND_SUFFIX)):
        return None
    esp = email_backend[len(_ANYMAIL_BACKEND_PREFIX) : -len(_ANYMAIL_BACKEND_SUFFIX)]
    if not esp.isidentifier() or esp in _ANYMAIL_OFFLINE_BACKENDS:
        return None
    return esp


def redact_url_password(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``, for messages and settings
    that may be shown (error pages, logs); URLs without a password are returned as they are."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unreadable URL>"
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def email_settings_from_url(url: str) -> dict[str, Any]:
    """Return the EMAIL_* settings for ``url``; raise ImproperlyConfigured for an unknown scheme or a bad port.
    Messages never include the URL's password."""
    shown = redact_url_password(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"EMAIL_URL {shown!r} is not a valid URL (check the port).") from None
    scheme = parts.scheme.lower()
    query = parse_qs(parts.query)
    if scheme in {"smtp", "smtp+tls", "smtps", "smtp+ssl"}:
        timeout = query.get("timeout", ["10"])[0]
        if not timeout.isdigit():
            raise ImproperlyConfigured(f"EMAIL_URL {shown!r}: timeout must be a whole number of seconds.")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": port or (465 if scheme in {"smtps", "smtp+ssl"} else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": scheme == "smtp+tls",
            "EMAIL_USE_SSL": scheme in {"smtps", "smtp+ssl"},
            "EMAIL_TIMEOUT": int(timeout),
        }
    if scheme == "file":
        raw = unquote(parts.netloc + parts.path)
        path = Path(raw) if raw.startswith("/") else PROJECT_DIR / raw
        return {"EMAIL_BACKEND": "core.mail.EmlFileBackend", "EMAIL_FILE_PATH": str(path)}
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "anymail":
        esp = parts.netloc or parts.path.strip("/")
        if not esp.isidentifier():
            raise ImproperlyConfigured(f"EMAIL_URL {shown!r}: name an anymail provider, e.g. anymail://mailgun")
        return {"EMAIL_BACKEND": f"anymail.backends.{esp}.EmailBackend"}
    raise ImproperlyConfigured(
        f"EMAIL_URL {shown!r} has an unknown scheme; use smtp://, smtps://, file://, console:// or anymail://"
    )
