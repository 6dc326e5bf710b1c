"""Staff two-factor login: the enrolment page (QR code, first code, backup codes shown once), the verification
page after the password, and the middleware that sends staff there before any admin or POS page.

Who must use it is `merchants.selectors.two_factor_required`; whoever enrolled proves it at every login. A session
counts as verified once django-otp's `login` stored the proven device in it (OTPMiddleware reads it back).
"""

from base64 import b32encode
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login

from merchants.errors import TwoFactorCodeInvalid, TwoFactorNotStarted
from merchants.selectors import two_factor_enrolled, two_factor_required
from merchants.services import two_factor_enrolment_confirm, two_factor_enrolment_start, two_factor_verify


class TwoFactorCodeForm(forms.Form):
    token = forms.CharField(label=gettext_lazy("Confirmation code"), max_length=32, strip=True)


def _page_with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?next={quote(next_url, safe='/')}"


def _next_url(request: HttpRequest) -> str:
    """Where to go after the second factor: a page of this site, else the admin."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _verified(request: HttpRequest, device: Any) -> None:
    otp_login(request, device)
    # The session is now worth more than the password alone: give it a new key.
    request.session.cycle_key()


@login_required
def two_factor_verify_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    next_url = _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    if not two_factor_enrolled(user=user):
        if two_factor_required(user=user):
            return redirect(_page_with_next("merchants:two-factor-setup", next_url))
        return redirect(next_url)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor_verify(user_id=user.pk, token=form.cleaned_data["token"])
        except TwoFactorCodeInvalid as error:
            form.add_error("token", error.message)
        else:
            _verified(request, device)
            return redirect(next_url)
    return render(request, "merchants/two_factor_verify.html", {"form": form, "next": next_url})


@login_required
def two_factor_setup_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    next_url = _next_url(request)
    if two_factor_enrolled(user=user):
        if not user.is_verified():
            # The password alone must not be enough to replace the authenticator with someone else's.
            return redirect(_page_with_next("merchants:two-factor-verify", next_url))
        return render(request, "merchants/two_factor_setup.html", {"enrolled": True, "next": next_url})

    device = two_factor_enrolment_start(user_id=user.pk)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, backup_codes = two_factor_enrolment_confirm(user_id=user.pk, token=form.cleaned_data["token"])
        except (TwoFactorCodeInvalid, TwoFactorNotStarted) as error:
            form.add_error("token", error.message)
        else:
            _verified(request, device)
            # Shown in this answer only: no message, no session, no second look.
            response = render(
                request, "merchants/two_factor_backup_codes.html", {"backup_codes": backup_codes, "next": next_url}
            )
            response["Cache-Control"] = "no-store"
            return response

    key = b32encode(device.bin_key).decode()
    qr_code = segno.make(device.config_url, error="m").svg_inline(
        scale=4, light="#fff", svgclass="qr-code", title=_("QR code for your authenticator app")
    )
    context = {
        "form": form,
        "next": next_url,
        "qr_code": qr_code,
        "key_groups": " ".join(key[index : index + 4] for index in range(0, len(key), 4)),
    }
    response = render(request, "merchants/two_factor_setup.html", context)
    response["Cache-Control"] = "no-store"
    return response


class StaffTwoFactorMiddleware:
    """Before any admin or POS page (their login and logout excepted), a session that proved only the password is
    sent to verify its second factor, or to enrol one if the user must have one. Needs OTPMiddleware before it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        page = self._second_factor_page(request)
        if page is not None:
            return redirect(_page_with_next(page, request.get_full_path()))
        return self.get_response(request)

    def _second_factor_page(self, request: HttpRequest) -> str | None:
        user: Any = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        path = request.path_info
        if not path.startswith((reverse("admin:index"), reverse("redemption:pos"))):
            return None
        if path in {
            reverse("admin:login"),
            reverse("admin:logout"),
            reverse("redemption:pos-login"),
            reverse("redemption:pos-logout"),
        }:
            return None
        if two_factor_enrolled(user=user):
            return "merchants:two-factor-verify"
        if two_factor_required(user=user):
            return "merchants:two-factor-setup"
        return None
