"""Reads for delivery's pages and admin: what the public voucher page shows, and a voucher's delivery timeline."""

import zoneinfo
from typing import Any

from babel.dates import format_date
from django.db.models import QuerySet
from django.utils import timezone

from delivery.branding import merchant_colours
from delivery.models import DeliveryAttempt
from vouchers.models import Voucher, VoucherKind
from vouchers.selectors import format_value, voucher_state


def voucher_page_context(voucher: Voucher, language: str) -> dict[str, Any]:
    """What the public page shows: value or item, balance line, expiry and the merchant."""
    language = (language or "en")[:2]
    merchant = voucher.merchant
    expires = ""
    if voucher.expires_at is not None:
        local = timezone.localtime(voucher.expires_at, zoneinfo.ZoneInfo(merchant.time_zone or "UTC"))
        expires = str(format_date(local.date(), format="long", locale=language))
    state = voucher_state(voucher, locale=language)
    return {
        "voucher": voucher,
        "merchant": merchant,
        "value": format_value(voucher, voucher.initial_value, language),
        "is_item": voucher.kind == VoucherKind.ITEM,
        "state": state,
        "expires": expires,
        "display_code": voucher.display_code,
        "colours": merchant_colours(merchant),
    }


def delivery_timeline(*, voucher_id: int) -> QuerySet[DeliveryAttempt]:
    """Every event of every delivery of the voucher, oldest first."""
    return (
        DeliveryAttempt.objects.filter(delivery__voucher_id=voucher_id)
        .select_related("delivery")
        .order_by("created_at", "pk")
    )
