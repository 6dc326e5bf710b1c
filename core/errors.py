"""The root of every domain error: a refusal a person can act on, never a bug.

Each error class carries a stable machine ``code`` (for clients and tests; it never changes), the HTTP ``status``
an answer to it gets, and a ``default_message`` for people (translatable; ``message`` is it, or the message given,
in the language active when the error is raised). ``field`` names the input an error is about, where there is
one. Every app's ``errors.py`` derives its base class from ``DomainError``; views and the API turn these errors
into 4xx answers or form errors from the error itself, so only bugs are 500s.
"""

from http import HTTPStatus
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """``DomainError(message=None, **details)``: ``details`` are machine-readable facts (an amount available, a
    reason) that a view may show or an API answer may carry."""

    code: str = "domain_error"
    # A conflict with the current state of a row, unless a class says otherwise.
    status: int = HTTPStatus.CONFLICT
    field: str | None = None
    default_message: Any = _("The request cannot be completed.")

    def __init__(self, message: str | Promise | None = None, **details: Any) -> None:
        self.message = str(message or self.default_message)
        super().__init__(self.message)
        self.details = details
