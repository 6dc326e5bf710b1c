"""Brute-force limits on the staff logins (the admin's and the POS page's), wired into django-axes.

A login is locked for an address after ``LOGIN_FAILURE_LIMIT`` failures of that login from that address, and an
address is locked for every login after ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures of any logins, for
``LOGIN_LOCKOUT_MINUTES`` after the last failure. The address is the one the project's trusted proxies report
(``TRUSTED_PROXY_COUNT``), the same the code-guessing throttle uses, with IPv6 counted per /64 network.
"""

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.client_address import address_bucket, client_ip


def client_address(request: HttpRequest) -> str | None:
    """The address to count failures under: the client's IPv4 address, or its IPv6 /64 network."""
    return address_bucket(client_ip(request.META))


def login_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The login as the user table knows it: logins are stored lower-case, so other spellings of one login share
    its failures instead of each getting their own allowance."""
    source: Any = credentials if credentials else getattr(request, "POST", {})
    name = source.get("username") if source else None
    return str(name).strip().lower() if name else None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


class LoginLimitBackend(AxesStandaloneBackend):
    """Refuses a locked-out login before any password is checked.

    Authentication outside a request (a shell, a management command) has no address to limit and is let through
    to the next backend."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class LoginLimitHandler(AxesDatabaseHandler):
    """Axes' database handler with two thresholds instead of one, and a reset that stays with its login.

    ``AXES_LOCKOUT_PARAMETERS`` lists (login, address) first and the address alone second; axes would compare the
    larger of both counts with one limit, which either lets one address spray a few guesses at every login or
    locks a shared office out after a handful of typos."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        per_login, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(per_login, settings.LOGIN_FAILURE_LIMIT)
        return int(per_login)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        # Only the failures of the login that just succeeded: a success with one's own account must not wipe the
        # address's failures at other logins.
        per_login = self.filter_user_attempts(request, credentials)[0]
        count, _ = per_login.delete()
        return int(count)
