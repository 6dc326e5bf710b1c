"""Reads of vouchers: lookup by code, the validation view a cashier or till sees, and the history."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date
from django.db.models import QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vouchers.codes import MalformedCode, normalize_code
from vouchers.errors import VoucherNotFound
from vouchers.models import Voucher, VoucherKind, VoucherTransaction
from vouchers.money import format_money
from vouchers.services import not_redeemable_reason


def voucher_get_by_code(*, merchant_id: int, code: str) -> Voucher:
    """The merchant's voucher with this code (any case, spaces, dashes, look-alikes). Raises VoucherNotFound for
    unknown, malformed and other merchants' codes alike, so the answer tells a guesser nothing."""
    try:
        canonical = normalize_code(code)
    except MalformedCode as error:
        raise VoucherNotFound from error
    voucher = Voucher.objects.filter(merchant_id=merchant_id, code=canonical).select_related("merchant").first()
    if voucher is None:
        raise VoucherNotFound
    return voucher


def voucher_code_by_public_token(*, merchant_id: int, public_token: str) -> str | None:
    """The code of the merchant's voucher whose public page is ``/v/<public_token>/``, or None."""
    return (
        Voucher.objects.filter(merchant_id=merchant_id, public_token=public_token)
        .values_list("code", flat=True)
        .first()
    )


@dataclass(frozen=True)
class VoucherState:
    """What a cashier or till needs to decide: can it be used here now, for how much, and why not."""

    voucher: Voucher
    is_redeemable: bool
    not_redeemable_reason: str
    redeemable_amount: int
    held_amount: int
    display: str


def format_value(voucher: Voucher, amount: int, locale: str) -> str:
    if voucher.kind == VoucherKind.ITEM:
        return f"{amount} × {voucher.item_label}"
    return format_money(amount, voucher.currency, locale)


def _display(voucher: Voucher, reason: str, available: int, locale: str) -> str:
    def long_date(moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = timezone.localtime(moment, zoneinfo.ZoneInfo(voucher.merchant.time_zone or "UTC"))
        return str(format_date(local.date(), format="long", locale=locale))

    with translation.override(locale):
        if reason == "void":
            return _("Void: this voucher can no longer be used")
        if reason == "expired":
            return _("Expired on %(date)s") % {"date": long_date(voucher.expires_at)}
        if reason == "spent":
            return _("Fully used")
        if reason == "frozen":
            return _("On hold: please ask the shop")
        if reason == "not_yet_valid":
            return _("Valid from %(date)s") % {"date": long_date(voucher.valid_from)}
        if reason == "wrong_location":
            return _("Not valid at this location")
        if voucher.kind == VoucherKind.ITEM:
            return _("%(left)s of %(initial)s × %(item)s left") % {
                "left": available,
                "initial": voucher.initial_value,
                "item": voucher.item_label,
            }
        return _("%(left)s of %(initial)s left") % {
            "left": format_money(available, voucher.currency, locale),
            "initial": format_money(voucher.initial_value, voucher.currency, locale),
        }


def voucher_state(
    voucher: Voucher,
    *,
    location_id: int | None = None,
    held_amount: int = 0,
    now: datetime | None = None,
    locale: str | None = None,
) -> VoucherState:
    """The validation view of ``voucher``: always answers, even for a voucher that cannot be used now.
    ``held_amount`` is value reserved by live holds, not redeemable by anyone else."""
    reason = not_redeemable_reason(voucher, location_id=location_id, now=now)
    available = 0 if reason else max(voucher.balance - held_amount, 0)
    locale = locale or translation.get_language() or voucher.merchant.locale
    return VoucherState(
        voucher=voucher,
        is_redeemable=not reason and available > 0,
        not_redeemable_reason=reason,
        redeemable_amount=available,
        held_amount=held_amount,
        display=_display(voucher, reason, available if not reason else voucher.balance, locale[:2]),
    )


def voucher_history(*, voucher_id: int) -> QuerySet[VoucherTransaction]:
    """The voucher's ledger, newest first."""
    return (
        VoucherTransaction.objects.filter(voucher_id=voucher_id)
        .select_related("location")
        .order_by("-created_at", "-pk")
    )


def ledger_sum(voucher_id: int) -> int:
    """The balance as the ledger says it, for checks against the cached ``Voucher.balance``."""
    return VoucherTransaction.objects.filter(voucher_id=voucher_id).aggregate(total=Sum("amount"))["total"] or 0
