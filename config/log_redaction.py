"""Keeps voucher codes, page tokens and URL passwords out of every log line the project writes.

Codes and tokens are keys: whoever reads them can spend a voucher or open a voucher or order page. They travel in
URL paths that must stay as they are (``/v/<token>/``, ``/o/<token>/``, ``/payments/checkout/<token>/``,
``/api/v1/vouchers/<code>/...``), so the request lines of the access logs, Django's "Not Found: <path>" and the
text of exceptions would carry them. ``RedactingFilter`` sits on the project's log handlers (settings ``LOGGING``,
which the Celery worker uses too) and on gunicorn's loggers (``config.gunicorn_settings``) and rewrites each record
before it is written: the formatted message, the exception text and the stack.
"""

import logging
import re
import traceback

REDACTED = "[redacted]"

# Paths and query strings also travel percent-encoded, e.g. in the login page's ``next=`` parameter.
_SLASH = r"(?:/|%2F)"
_SEGMENT = r"(?:[^/\s?#\"'<>&%]|%(?!2F|3F|23|26)[0-9A-F]{2})+"
_QUERY_VALUE = r"(?:[^&\s#\"'<>%]|%(?!23|26)[0-9A-F]{2})+"

_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    # The secret path segment of the pages and API routes that carry a token or a code.
    (
        re.compile(
            rf"({_SLASH}(?:v|o|payments{_SLASH}checkout|api{_SLASH}v1{_SLASH}vouchers){_SLASH})"
            rf"(?!\[redacted\]){_SEGMENT}",
            re.IGNORECASE,
        ),
        rf"\g<1>{REDACTED}",
    ),
    # A code or token handed over in a query string (a scanner's GET, a form sent by GET, the admin's search).
    (
        re.compile(
            rf"((?:[?&]|%3F|%26)(?:code|token|public_token|voucher|q)(?:=|%3D))(?!\[redacted\]){_QUERY_VALUE}",
            re.IGNORECASE,
        ),
        rf"\g<1>{REDACTED}",
    ),
    # The password of a URL such as EMAIL_URL or DATABASE_URL in an error message.
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(@)", re.IGNORECASE), r"\g<1>***\g<2>"),
    # Voucher codes anywhere else: shown as XXXX-XXXX-XXXX-XXXX (numeric ones as five groups of four digits), or in
    # canonical form (16 Crockford base32 characters, upper case; 20 digits).
    (re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}\b", re.IGNORECASE), REDACTED),
    (re.compile(r"\b\d{4}(?:[- ]\d{4}){4}\b"), REDACTED),
    (re.compile(r"\b[0-9A-HJKMNP-TV-Z]{16}\b"), REDACTED),
    (re.compile(r"\b\d{20}\b"), REDACTED),
)


def redact(text: str) -> str:
    """``text`` with voucher codes, page tokens and URL passwords replaced."""
    for pattern, replacement in _REPLACEMENTS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, exception text and stack with ``redact``; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            # Format here, so that no formatter renders the unredacted traceback later.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
