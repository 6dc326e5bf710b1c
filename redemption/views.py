"""The POS page (``/pos/``): a cashier looks up a code, redeems all or part, and reverses a mistake.

Server-rendered; each view checks the login, the merchant and the location again, then calls the same services
as the API. The session remembers one merchant and one location; nothing else is trusted from the browser.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.errors import DomainError
from merchants.models import Location, Merchant
from merchants.tenancy import locations_for_user, merchants_for_user
from redemption import throttling
from redemption.errors import (
    CodeGuessingThrottled,
    LocationForbidden,
    ReasonRequired,
    RedemptionNotFound,
    ReversalWindowClosed,
)
from redemption.selectors import redemption_get, redemptions_recent
from redemption.services import (
    Caller,
    ReversalRule,
    redemption_create,
    redemption_reverse,
    reversal_rule,
    reversal_window,
    scanned_code,
    voucher_validate,
)
from vouchers.errors import InsufficientBalance, NotRedeemable, VoucherNotFound
from vouchers.models import VoucherKind
from vouchers.money import parse_money, parse_quantity, to_decimal
from vouchers.selectors import VoucherState, format_value
from vouchers.services import Actor

SESSION_MERCHANT = "pos_merchant_id"
SESSION_LOCATION = "pos_location_id"


@dataclass(frozen=True)
class Counter:
    merchant: Merchant
    location: Location
    caller: Caller


class PosLoginView(LoginView):
    template_name = "redemption/pos_login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("redemption:pos")


def _places(request: HttpRequest) -> list[tuple[Merchant, Location]]:
    """Every (merchant, location) where the user may work the counter."""
    return [
        (merchant, location)
        for merchant in merchants_for_user(request.user)
        for location in locations_for_user(request.user, merchant)
    ]


def _counter(request: HttpRequest) -> Counter | None:
    """The counter this session works at, checked against the user's memberships on every request."""
    merchant_id = request.session.get(SESSION_MERCHANT)
    location_id = request.session.get(SESSION_LOCATION)
    places = _places(request)
    if merchant_id is None and len(places) == 1:
        merchant_id, location_id = places[0][0].pk, places[0][1].pk
        request.session[SESSION_MERCHANT], request.session[SESSION_LOCATION] = merchant_id, location_id
    for merchant, location in places:
        if merchant.pk == merchant_id and location.pk == location_id:
            user = request.user
            assert user.pk is not None  # login_required let only a signed-in user in
            return Counter(
                merchant=merchant,
                location=location,
                caller=Caller(
                    merchant_id=merchant.pk,
                    actor=Actor.staff(user.pk, getattr(user, "email", "") or user.get_username()),
                    bound_location_id=location.pk,
                    user_id=user.pk,
                    ip=throttling.client_ip(request.META),
                ),
            )
    return None


def _clean(text: str) -> str:
    """Form text without control characters (a NUL byte would not even fit into PostgreSQL)."""
    return "".join(char for char in text if char.isprintable()).strip()


def _locale() -> str:
    return (translation.get_language() or "en")[:2]


def _amount_text(state: VoucherState) -> str:
    """The redeemable amount as a person types it (``12.50``), to prefill the amount field."""
    voucher = state.voucher
    if voucher.kind == VoucherKind.ITEM:
        return str(state.redeemable_amount)
    value: Decimal = to_decimal(state.redeemable_amount, voucher.currency)
    return f"{value:f}"


def _error_text(error: DomainError, counter: Counter, state: VoucherState | None = None) -> str:
    """A cashier's words for a domain error."""
    if isinstance(error, VoucherNotFound):
        return _("No voucher with this code. Check the code and try again.")
    if isinstance(error, CodeGuessingThrottled):
        return _("Too many unknown codes. Wait %(seconds)s seconds, then try again.") % {"seconds": error.retry_after}
    if isinstance(error, InsufficientBalance):
        available = int(error.details.get("available", 0))
        shown = format_value(state.voucher, available, _locale()) if state else str(available)
        return _("Not enough left on the voucher: %(available)s can be redeemed.") % {"available": shown}
    if isinstance(error, NotRedeemable):
        reasons = {
            "spent": _("The voucher is fully used."),
            "expired": _("The voucher has expired."),
            "void": _("The voucher is void."),
            "frozen": _("The voucher is on hold. Please ask the shop."),
            "not_yet_valid": _("The voucher is not valid yet."),
            "wrong_location": _("The voucher is not valid at this location."),
        }
        return reasons.get(error.reason, _("The voucher cannot be redeemed."))
    if error.code == "already_reversed":
        return _("This redemption was already reversed.")
    if isinstance(error, LocationForbidden):
        return _("This redemption was made at another location.")
    if error.code == "invalid_amount":
        return _("Enter an amount greater than zero.")
    return _("This cannot be done: %(reason)s") % {"reason": error.message}


def _render(request: HttpRequest, counter: Counter, *, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("code", "")
    context.setdefault("idempotency_key", secrets.token_urlsafe(16))
    context["counter"] = counter
    locale = _locale()
    context["recent"] = [
        (redemption, format_value(redemption.voucher, redemption.amount, locale))
        for redemption in redemptions_recent(merchant_id=counter.merchant.pk, location_id=counter.location.pk)
    ]
    context["several_places"] = len(_places(request)) > 1
    context["locale"] = _locale()
    return render(request, "redemption/pos.html", context, status=status)


def _state_context(state: VoucherState) -> dict[str, Any]:
    voucher = state.voucher
    return {
        "state": state,
        "available_text": format_value(voucher, state.redeemable_amount, _locale()),
        "amount_text": _amount_text(state),
        "is_item": voucher.kind == VoucherKind.ITEM,
    }


@login_required(login_url="redemption:pos-login")
def pos(request: HttpRequest) -> HttpResponse:
    counter = _counter(request)
    if counter is None:
        return _choose_location(request)
    context: dict[str, Any] = {}
    receipt_id = request.GET.get("receipt")
    if receipt_id:
        try:
            redemption = redemption_get(merchant_id=counter.merchant.pk, redemption_id=receipt_id)
        except RedemptionNotFound:
            redemption = None
        if redemption is not None and redemption.location_id == counter.location.pk:
            voucher = redemption.voucher
            context["receipt"] = {
                "redemption": redemption,
                "amount": format_value(voucher, redemption.amount, _locale()),
                "balance": format_value(voucher, voucher.balance, _locale()),
                "code": voucher.display_code,
                "reversed": redemption.reversed_at is not None,
            }
    return _render(request, counter, **context)


def _choose_location(request: HttpRequest) -> HttpResponse:
    places = _places(request)
    if not places:
        return render(request, "redemption/pos_no_access.html", status=403)
    return render(request, "redemption/pos_location.html", {"places": places})


@login_required(login_url="redemption:pos-login")
def pos_location(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _choose_location(request)
    choice = request.POST.get("place", "")
    for merchant, location in _places(request):
        if choice == f"{merchant.pk}:{location.pk}":
            request.session[SESSION_MERCHANT], request.session[SESSION_LOCATION] = merchant.pk, location.pk
            return redirect("redemption:pos")
    request.session.pop(SESSION_MERCHANT, None)
    request.session.pop(SESSION_LOCATION, None)
    return _choose_location(request)


def _lookup(request: HttpRequest, counter: Counter, typed: str) -> tuple[VoucherState | None, HttpResponse | None]:
    """The voucher for what the cashier typed or scanned, or the page that says why there is none."""
    try:
        code = scanned_code(caller=counter.caller, text=typed)
        state = voucher_validate(caller=counter.caller, code=code, location_id=counter.location.pk)
    except DomainError as error:
        status = 429 if isinstance(error, CodeGuessingThrottled) else 404
        # The input as it was typed or scanned: nothing found from it is shown.
        response = _render(request, counter, status=status, code=typed, error=_error_text(error, counter))
        if isinstance(error, CodeGuessingThrottled):
            response["Retry-After"] = str(error.retry_after)
        return None, response
    return state, None


@login_required(login_url="redemption:pos-login")
@require_POST  # a code in a URL would be kept by access logs, proxies and the browser's history
def pos_lookup(request: HttpRequest) -> HttpResponse:
    counter = _counter(request)
    if counter is None:
        return redirect("redemption:pos")
    typed = request.POST.get("code", "").strip()[:255]
    if not typed:
        return _render(request, counter, error=_("Enter or scan a voucher code."))
    state, failed = _lookup(request, counter, typed)
    if failed is not None:
        return failed
    assert state is not None
    return _render(request, counter, code=state.voucher.display_code, **_state_context(state))


@login_required(login_url="redemption:pos-login")
@require_POST
def pos_redeem(request: HttpRequest) -> HttpResponse:
    counter = _counter(request)
    if counter is None:
        return redirect("redemption:pos")
    state, failed = _lookup(request, counter, request.POST.get("code", "").strip()[:255])
    if failed is not None:
        return failed
    assert state is not None
    voucher = state.voucher
    amount_text = request.POST.get("amount", "").strip()[:32]
    try:
        amount = (
            parse_quantity(amount_text)
            if voucher.kind == VoucherKind.ITEM
            else parse_money(amount_text, voucher.currency)
        )
    except ValueError:
        amount = 0
    context = {**_state_context(state), "code": voucher.display_code}
    if amount <= 0:
        context["amount_text"] = amount_text
        return _render(request, counter, status=422, amount_error=_("Enter an amount such as 12.50."), **context)
    try:
        redeemed = redemption_create(
            caller=counter.caller,
            code=voucher.code,
            amount=amount,
            location_id=counter.location.pk,
            reference=_clean(request.POST.get("reference", ""))[:255],
            idempotency_key=_clean(request.POST.get("idempotency_key", ""))[:64] or None,
        )
    except DomainError as error:
        context["amount_text"] = amount_text
        return _render(request, counter, status=409, error=_error_text(error, counter, state), **context)
    return redirect(f"{reverse('redemption:pos')}?receipt={redeemed.redemption.pk}")


def _window_text() -> str:
    window = reversal_window()
    if window is None:
        return _("At the counter, a redemption can be reversed on the day it was made.")
    minutes = int(window.total_seconds() // 60)
    return ngettext(
        "At the counter, a redemption can be reversed within %(minutes)d minute.",
        "At the counter, a redemption can be reversed within %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@login_required(login_url="redemption:pos-login")
def pos_reverse(request: HttpRequest, redemption_id: int) -> HttpResponse:
    """GET asks for confirmation (and a reason, where one is needed); POST reverses."""
    counter = _counter(request)
    if counter is None:
        return redirect("redemption:pos")
    try:
        redemption = redemption_get(merchant_id=counter.merchant.pk, redemption_id=redemption_id)
    except RedemptionNotFound:
        return _render(request, counter, status=404, error=_("No such redemption."))
    if redemption.location_id != counter.location.pk:
        return _render(request, counter, status=403, error=_("This redemption was made at another location."))
    voucher = redemption.voucher
    rule = (
        reversal_rule(caller=counter.caller, redemption=redemption)
        if redemption.reversed_at is None
        else ReversalRule.OPEN
    )
    reason = _clean(request.POST.get("reason", ""))[:255] if request.method == "POST" else ""
    context: dict[str, Any] = {
        "counter": counter,
        "redemption": redemption,
        "amount": format_value(voucher, redemption.amount, _locale()),
        "code": voucher.display_code,
        "rule": rule,
        "window_text": _window_text(),
        "reason": reason,
    }

    def page(status: int = 200, **extra: Any) -> HttpResponse:
        return render(request, "redemption/pos_reverse.html", {**context, **extra}, status=status)

    if request.method != "POST":
        return page()
    try:
        redemption_reverse(
            caller=counter.caller,
            redemption_id=redemption.pk,
            idempotency_key=f"pos-reverse-{redemption.pk}",
            reason=reason,
        )
    except ReversalWindowClosed:
        return page(status=403, rule=ReversalRule.CLOSED)
    except ReasonRequired:
        return page(
            status=422, rule=ReversalRule.REASON_REQUIRED, reason_error=_("Give a reason for reversing it so late.")
        )
    except DomainError as error:
        return _render(request, counter, status=409, error=_error_text(error, counter))
    return redirect(f"{reverse('redemption:pos')}?receipt={redemption.pk}")


@require_POST
def pos_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("redemption:pos-login")
