"""``manage.py issue_vouchers``: issue vouchers by hand (a merchant's gift, a promotion) and print their codes.

Stdout carries the codes only, one per line in display form, so the output can be piped into a file or a printer;
everything said to the operator goes to stderr. The batch is all or nothing.
"""

import zoneinfo
from datetime import date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from merchants.models import Merchant
from vouchers.errors import VoucherError
from vouchers.models import VoucherKind
from vouchers.money import format_money
from vouchers.services import Actor, voucher_issue

MAX_COUNT = 10_000


def _expiry(text: str, merchant: Merchant) -> datetime:
    """The end of the given day in the merchant's time zone: a voucher "valid until 31 March" works all that day."""
    try:
        day = date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(_("--expires must be a date as YYYY-MM-DD, not %(text)r.") % {"text": text}) from error
    zone = zoneinfo.ZoneInfo(merchant.time_zone or "UTC")
    expires_at = datetime.combine(day, time.max, tzinfo=zone)
    if expires_at <= timezone.now():
        raise CommandError(_("--expires must be a day in the future."))
    return expires_at


class Command(BaseCommand):
    help = "Issue vouchers by hand and print their codes, one per line (nothing else on stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", required=True, help="The merchant's slug.")
        parser.add_argument("--amount", type=int, help="Value of each voucher in minor units (cents).")
        parser.add_argument("--count", type=int, default=1, help=f"How many vouchers (1 to {MAX_COUNT}).")
        parser.add_argument("--expires", help="Last day the vouchers can be used, YYYY-MM-DD.")
        parser.add_argument("--item", help='Issue item vouchers for this item, e.g. "Massage 60 min".')
        parser.add_argument("--quantity", type=int, help="Items per item voucher (with --item).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            merchant = Merchant.objects.get(slug=options["merchant"])
        except Merchant.DoesNotExist as error:
            raise CommandError(_("No merchant with the slug %(slug)r.") % {"slug": options["merchant"]}) from error
        if not merchant.is_active:
            raise CommandError(_("The merchant %(slug)r is not active.") % {"slug": merchant.slug})

        amount, item, quantity, count = options["amount"], options["item"], options["quantity"], options["count"]
        if item is not None:
            if amount is not None:
                raise CommandError(_("Give --amount for value vouchers or --item with --quantity, not both."))
            if not item.strip():
                raise CommandError(_("--item needs a label."))
            kind, value = VoucherKind.ITEM, 1 if quantity is None else quantity
        else:
            if amount is None:
                raise CommandError(_("Give --amount in minor units (e.g. 5000 for 50.00), or --item."))
            if quantity is not None:
                raise CommandError(_("--quantity goes with --item."))
            kind, value = VoucherKind.MONETARY, amount
        if value <= 0:
            raise CommandError(_("The amount or quantity must be a positive whole number."))
        if not 1 <= count <= MAX_COUNT:
            raise CommandError(_("--count must be between 1 and %(max)d.") % {"max": MAX_COUNT})
        expires_at = _expiry(options["expires"], merchant) if options["expires"] else None

        actor = Actor(label="manage.py issue_vouchers")
        try:
            with transaction.atomic():
                vouchers = [
                    voucher_issue(
                        merchant_id=merchant.pk,
                        value=value,
                        kind=kind,
                        item_label=(item or "").strip(),
                        expires_at=expires_at,
                        actor=actor,
                        reference="issued by hand",
                    )
                    for _index in range(count)
                ]
        except VoucherError as error:
            raise CommandError(error.message) from error

        for voucher in vouchers:
            self.stdout.write(voucher.display_code)
        worth = f"{value} × {item}" if kind == VoucherKind.ITEM else format_money(value, merchant.currency)
        self.stderr.write(
            ngettext(
                "Issued %(count)d voucher of %(worth)s for %(merchant)s.",
                "Issued %(count)d vouchers of %(worth)s for %(merchant)s.",
                count,
            )
            % {"count": count, "worth": worth, "merchant": merchant.name}
        )
