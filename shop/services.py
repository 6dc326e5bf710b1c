"""The shop's verbs: set up products, and move orders through their states.

Order states: ``pending → paid → fulfilled``, ``pending → expired|cancelled``, ``paid|fulfilled → refunded|disputed``
and back from ``disputed`` when the dispute closes. Every transition locks the order row first, checks the state
again inside the lock, is logged as an OrderStatusChange with its cause, and is idempotent: asking for the state an
order is already in returns it unchanged.

Each service takes ids and plain values, runs in one transaction, returns what it made, and raises a
`shop.errors` error (or Django's ValidationError for a bad field) instead of writing half a change.
"""

import calendar
import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.headers import unprintable_characters
from merchants.models import Merchant
from shop.errors import (
    InvalidOrderInput,
    InvalidOrderTransition,
    OrderNotFound,
    UnknownProduct,
)
from shop.models import Order, OrderLine, OrderStatus, OrderStatusChange, ProductKind, VoucherProduct
from vouchers.models import TransactionKind, Voucher, VoucherKind, VoucherStatus
from vouchers.services import voucher_freeze, voucher_issue, voucher_refund, voucher_unfreeze, voucher_void

logger = logging.getLogger(__name__)

MAX_VOUCHERS_PER_ORDER = 10
MAX_MESSAGE_LENGTH = 300
MAX_SEND_AHEAD_DAYS = 365
# Scheduled emails go out in the morning of the chosen day, in the merchant's time zone.
SEND_HOUR = 9


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a buyer's or recipient's name, or None when it can. Names go into email headers,
    where a line break would start a new header, and other control characters are invisible or reorder text."""
    if unprintable_characters(name):
        return _("Remove the line break or other invisible character from the name.")
    return None


@transaction.atomic
def voucher_product_ensure(*, merchant_id: int, name: str, **fields: Any) -> tuple[VoucherProduct, bool]:
    """Return the merchant's product called ``name``, creating it with ``fields`` if it is missing.

    Raises ValidationError when the new product's fields do not make a sellable voucher.
    """
    product = VoucherProduct.objects.filter(merchant_id=merchant_id, name=name).first()
    if product is not None:
        return product, False
    product = VoucherProduct(merchant_id=merchant_id, name=name, **fields)
    product.full_clean()
    product.save()
    return product, True


# ---------------------------------------------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinePrice:
    unit_amount: int
    voucher_value: int


def product_line_price(*, product: VoucherProduct, amount: int | None) -> LinePrice:
    """What one voucher of ``product`` costs and is worth; ``amount`` is the chosen value of a monetary voucher.

    Raises InvalidOrderInput (field "amount") when the amount is missing or not offered by the product.
    """
    if product.kind == ProductKind.ITEM:
        if not product.item_price:
            raise InvalidOrderInput(_("This voucher has no price yet."), field="product")
        return LinePrice(unit_amount=product.item_price, voucher_value=product.item_quantity)
    if amount is None:
        raise InvalidOrderInput(_("Enter an amount."), field="amount")
    fixed = set(product.fixed_amounts or [])
    low, high = product.custom_amount_min, product.custom_amount_max
    in_range = low is not None and high is not None and low <= amount <= high
    if amount not in fixed and not in_range:
        raise InvalidOrderInput(_("This amount is not offered for this voucher."), field="amount", amount=amount)
    return LinePrice(unit_amount=amount, voucher_value=amount)


def send_at_for(*, merchant: Merchant, send_date: date | None, today: date | None = None) -> datetime | None:
    """When to send a voucher chosen for ``send_date``: None (right after payment) for today or no date,
    else that morning in the merchant's time zone. Raises InvalidOrderInput (field "send_date") for a date in the
    past or more than a year ahead."""
    tz = zoneinfo.ZoneInfo(merchant.time_zone)
    today = today or timezone.now().astimezone(tz).date()
    if send_date is None or send_date == today:
        return None
    if send_date < today:
        raise InvalidOrderInput(_("Choose today or a later date."), field="send_date", reason="past")
    if send_date > today + timedelta(days=MAX_SEND_AHEAD_DAYS):
        raise InvalidOrderInput(_("Choose a date within a year."), field="send_date", reason="ahead")
    return datetime.combine(send_date, time(SEND_HOUR), tzinfo=tz)


def _log(order: Order, *, from_status: str, cause: str) -> None:
    OrderStatusChange.objects.create(order=order, from_status=from_status, to_status=order.status, cause=cause[:255])


def _lock_order(order_id: int) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist as error:
        raise OrderNotFound(_("No order %(order_id)s.") % {"order_id": order_id}, order_id=order_id) from error


def _flag(order: Order, reason: str) -> None:
    """Mark the order for the merchant's attention; the same reason is recorded once."""
    if reason in order.attention_reason.splitlines():
        return
    order.needs_attention = True
    order.attention_reason = "\n".join(filter(None, [order.attention_reason, reason]))
    order.save(update_fields=["needs_attention", "attention_reason", "updated_at"])


@transaction.atomic
def order_create(
    *,
    merchant_id: int,
    product_id: int,
    buyer_name: str,
    buyer_email: str,
    amount: int | None = None,
    quantity: int = 1,
    recipient_name: str = "",
    recipient_email: str = "",
    message: str = "",
    send_date: date | None = None,
    locale: str = "en",
) -> Order:
    """Create a pending order of ``quantity`` vouchers of one product, in the merchant's currency.

    Raises UnknownProduct (not this merchant's, or not on sale) and InvalidOrderInput (with the ``field`` at fault)
    for an amount not offered, a bad quantity, a too long message, a name with a line break or another control
    character, an invalid email address, or a send date outside today..a year ahead. Nothing is written when it
    raises.
    """
    merchant = Merchant.objects.filter(pk=merchant_id, is_active=True).first()
    product = VoucherProduct.objects.filter(pk=product_id, merchant_id=merchant_id, is_active=True).first()
    if merchant is None or product is None:
        raise UnknownProduct(_("This voucher is not on sale here."), product_id=product_id)
    if not 1 <= quantity <= MAX_VOUCHERS_PER_ORDER:
        raise InvalidOrderInput(
            _("Choose 1 to %(limit)d vouchers.") % {"limit": MAX_VOUCHERS_PER_ORDER}, field="quantity"
        )
    if len(message) > MAX_MESSAGE_LENGTH:
        raise InvalidOrderInput(
            _("Keep the message to %(limit)d characters.") % {"limit": MAX_MESSAGE_LENGTH}, field="message"
        )
    if bool(recipient_name) != bool(recipient_email):
        raise InvalidOrderInput(_("Enter the recipient's name and email."), field="recipient_email")
    for field, name in (("buyer_name", buyer_name), ("recipient_name", recipient_name)):
        problem = name_problem(name)
        if problem is not None:
            raise InvalidOrderInput(problem, field=field)
    for field, address in (("buyer_email", buyer_email), ("recipient_email", recipient_email)):
        if address or field == "buyer_email":
            try:
                validate_email(address.strip())
            except ValidationError as error:
                raise InvalidOrderInput(
                    _("Enter a valid email address, e.g. name@example.com."), field=field
                ) from error
    price = product_line_price(product=product, amount=amount)
    send_at = send_at_for(merchant=merchant, send_date=send_date)
    order = Order.objects.create(
        merchant=merchant,
        currency=merchant.currency,
        total=price.unit_amount * quantity,
        buyer_name=buyer_name,
        buyer_email=buyer_email.strip(),
        locale=locale,
    )
    OrderLine.objects.create(
        order=order,
        product=product,
        kind=product.kind,
        unit_amount=price.unit_amount,
        quantity=quantity,
        voucher_value=price.voucher_value,
        item_label=product.item_label if product.kind == ProductKind.ITEM else "",
        recipient_name=recipient_name,
        recipient_email=recipient_email.strip(),
        message=message,
        send_at=send_at,
    )
    _log(order, from_status="", cause="order placed in the shop")
    return order


@transaction.atomic
def order_mark_paid(*, order_id: int, amount: int, currency: str, cause: str) -> Order:
    """Record that the order was paid ``amount`` minor units of ``currency``.

    Idempotent: an order already paid (or further along) is returned unchanged. A payment that does not match the
    order's total and currency, or arrives for an order no longer pending, is flagged via ``needs_attention`` and
    the order is not moved (nor fulfilled). Raises OrderNotFound.
    """
    order = _lock_order(order_id)
    if order.status in (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.REFUNDED, OrderStatus.DISPUTED):
        return order
    if order.status != OrderStatus.PENDING:
        _flag(order, f"Payment received for an order that is {order.status}; refund it ({cause}).")
        return order
    if amount != order.total or currency.upper() != order.currency:
        _flag(
            order,
            f"Paid {amount} {currency.upper()} but the order is {order.total} {order.currency}; not fulfilled.",
        )
        return order
    order.status = OrderStatus.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=["status", "paid_at", "updated_at"])
    _log(order, from_status=OrderStatus.PENDING, cause=cause)
    return order


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _voucher_expiry(product: VoucherProduct, merchant: Merchant, issued_at: datetime) -> datetime | None:
    tz = zoneinfo.ZoneInfo(merchant.time_zone)
    if product.valid_until is not None:
        # Valid through the whole last day, in the merchant's time zone.
        return datetime.combine(product.valid_until + timedelta(days=1), time(0), tzinfo=tz)
    if product.validity_months:
        # Valid through the whole day the period ends on, so a voucher never expires in the middle of a day.
        end = _add_months(issued_at.astimezone(tz), product.validity_months)
        return datetime.combine(end.date() + timedelta(days=1), time(0), tzinfo=tz)
    return None


@transaction.atomic
def order_fulfil(*, order_id: int, cause: str = "payment received") -> Order:
    """Issue one voucher per unit of each line of a paid order and schedule their emails, in one transaction.

    Idempotent: vouchers are issued with the key ``orderline:<line>:<n>`` and emails are scheduled once per
    voucher and purpose, so running it again (e.g. from the sweeper) issues nothing twice; a fulfilled order is
    returned unchanged. Raises OrderNotFound, and InvalidOrderTransition for an order that is not paid.
    """
    from delivery.services import delivery_schedule  # delivery sits beside vouchers, below the shop

    order = _lock_order(order_id)
    if order.status == OrderStatus.FULFILLED:
        return order
    if order.status != OrderStatus.PAID:
        raise InvalidOrderTransition(
            _("Only paid orders are fulfilled; this one is %(status)s.") % {"status": order.get_status_display()},
            order_id=order_id,
        )
    merchant = order.merchant
    now = timezone.now()
    for line in order.lines.select_related("product"):
        product = line.product
        other_recipient = bool(line.recipient_email) and line.recipient_email.lower() != order.buyer_email.lower()
        for n in range(line.quantity):
            voucher = voucher_issue(
                merchant_id=merchant.pk,
                value=line.voucher_value,
                kind=VoucherKind.ITEM if line.kind == ProductKind.ITEM else VoucherKind.MONETARY,
                currency=order.currency,
                item_label=line.item_label,
                expires_at=_voucher_expiry(product, merchant, now),
                order_line_id=line.pk,
                recipient_name=line.recipient_name or order.buyer_name,
                recipient_email=line.recipient_email or order.buyer_email,
                message=line.message,
                is_promotional=product.is_promotional,
                terms=product.terms,
                issue_key=f"orderline:{line.pk}:{n}",
                reference=f"order {order.pk}",
            )
            delivery_schedule(
                voucher_id=voucher.pk,
                purpose="recipient",
                to_email=line.recipient_email if other_recipient else order.buyer_email,
                to_name=(line.recipient_name if other_recipient else order.buyer_name),
                locale=order.locale,
                send_at=line.send_at,
                buyer_name=order.buyer_name,
                message=line.message,
            )
            if other_recipient:
                delivery_schedule(
                    voucher_id=voucher.pk,
                    purpose="buyer_copy",
                    to_email=order.buyer_email,
                    to_name=order.buyer_name,
                    locale=order.locale,
                    send_at=None,
                    buyer_name=order.buyer_name,
                    message=line.message,
                )
    order.status = OrderStatus.FULFILLED
    order.fulfilled_at = now
    order.save(update_fields=["status", "fulfilled_at", "updated_at"])
    _log(order, from_status=OrderStatus.PAID, cause=cause)
    return order


@transaction.atomic
def order_expire(*, order_id: int, cause: str) -> Order:
    """Close a pending order whose checkout ran out. Idempotent for an expired order.

    Raises OrderNotFound, and InvalidOrderTransition for an order that is no longer pending (e.g. already paid:
    an ``expired`` notice arriving late must not undo a payment).
    """
    order = _lock_order(order_id)
    if order.status == OrderStatus.EXPIRED:
        return order
    if order.status != OrderStatus.PENDING:
        raise InvalidOrderTransition(
            _("Only pending orders expire; this one is %(status)s.") % {"status": order.get_status_display()},
            order_id=order_id,
        )
    order.status = OrderStatus.EXPIRED
    order.save(update_fields=["status", "updated_at"])
    _log(order, from_status=OrderStatus.PENDING, cause=cause)
    return order


@transaction.atomic
def order_cancel(*, order_id: int, cause: str) -> Order:
    """Cancel a pending order (the buyer gave up, or the payment failed). Idempotent for a cancelled order.

    Raises OrderNotFound, and InvalidOrderTransition for an order that is not pending.
    """
    order = _lock_order(order_id)
    if order.status == OrderStatus.CANCELLED:
        return order
    if order.status != OrderStatus.PENDING:
        raise InvalidOrderTransition(
            _("Only pending orders can be cancelled; this one is %(status)s.") % {"status": order.get_status_display()},
            order_id=order_id,
        )
    order.status = OrderStatus.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    _log(order, from_status=OrderStatus.PENDING, cause=cause)
    return order


def _order_vouchers(order: Order, *, lock: bool = False) -> list[Voucher]:
    # A fixed order (by id) so concurrent refunds and disputes lock vouchers in the same sequence.
    vouchers = Voucher.objects.filter(order_line__order=order).order_by("pk")
    return list(vouchers.select_for_update(of=("self",)) if lock else vouchers)


def _redeemed(voucher: Voucher) -> int:
    total = voucher.transactions.filter(kind__in=[TransactionKind.REDEEM, TransactionKind.REVERSE]).aggregate(
        s=Sum("amount")
    )["s"]
    return -(total or 0)


@transaction.atomic
def order_refund(*, order_id: int, amount_refunded: int, cause: str) -> Order:
    """Apply a refund: ``amount_refunded`` is the total refunded so far (minor units), as the payment provider
    reports it, so the same report twice changes nothing.

    The money went back to the buyer, so the vouchers lose value whether they were used or not: a full refund
    takes what is left of every voucher of the order (each becomes void, so neither a redemption nor the
    reversal of an earlier one can spend it) and moves the order to refunded; a partial refund takes the refunded
    value off the remaining value of the monetary vouchers, newest first. Every change is a ledger row. The
    vouchers are locked before their values are read, so a redemption waits for the refund or comes before it.
    The order is flagged when vouchers had been used (the buyer got back more than was left) or when part of a
    refund could not be taken off any voucher. Raises OrderNotFound, InvalidOrderTransition (an order never paid)
    and InvalidOrderInput (more than the total).
    """
    order = _lock_order(order_id)
    if order.status not in (
        OrderStatus.PAID,
        OrderStatus.FULFILLED,
        OrderStatus.DISPUTED,
        OrderStatus.REFUNDED,
    ):
        raise InvalidOrderTransition(
            _("Only paid orders can be refunded; this one is %(status)s.") % {"status": order.get_status_display()}
        )
    if amount_refunded > order.total:
        raise InvalidOrderInput(_("Refund larger than the order."), field="amount", amount=amount_refunded)
    if amount_refunded <= order.amount_refunded:
        return order
    delta = amount_refunded - order.amount_refunded
    reason = f"order {order.pk} refunded ({cause})"
    full = amount_refunded == order.total
    vouchers = _order_vouchers(order, lock=True)
    used = [voucher for voucher in vouchers if _redeemed(voucher) > 0]
    if used:
        codes = ", ".join(voucher.display_code for voucher in used)
        _flag(order, f"Refund of {amount_refunded} {order.currency}: vouchers already used: {codes}.")
    if full:
        for voucher in vouchers:
            if voucher.status not in (VoucherStatus.VOID, VoucherStatus.EXPIRED):
                voucher_refund(voucher_id=voucher.pk, reason=reason)
    else:
        remaining = delta
        for voucher in reversed(vouchers):
            usable = voucher.kind == VoucherKind.MONETARY and voucher.status in (
                VoucherStatus.ACTIVE,
                VoucherStatus.FROZEN,
            )
            if remaining <= 0 or not usable or voucher.balance <= 0:
                continue
            take = min(remaining, voucher.balance)
            voucher_refund(voucher_id=voucher.pk, amount=take, reason=reason)
            remaining -= take
        if remaining > 0:
            _flag(order, f"Partial refund: {remaining} {order.currency} could not be taken off the vouchers.")
    before = order.status
    order.amount_refunded = amount_refunded
    if full:
        order.status = OrderStatus.REFUNDED
    order.save(update_fields=["amount_refunded", "status", "updated_at"])
    _log(order, from_status=before, cause=f"{'full' if full else 'partial'} refund of {delta}: {cause}")
    return order


@transaction.atomic
def order_note_add(*, order_id: int, note: str) -> Order:
    """Write ``note`` into the order's log (e.g. who asked for a refund, and why), without changing its status.

    Raises OrderNotFound.
    """
    order = _lock_order(order_id)
    _log(order, from_status=order.status, cause=note)
    return order


@transaction.atomic
def order_dispute_open(*, order_id: int, cause: str) -> Order:
    """The buyer disputed the payment: freeze the remaining value of the order's vouchers until it is decided.

    Idempotent for a disputed order. Raises OrderNotFound and InvalidOrderTransition (an order never paid).
    """
    order = _lock_order(order_id)
    if order.status == OrderStatus.DISPUTED:
        return order
    if order.status not in (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.REFUNDED):
        raise InvalidOrderTransition(
            _("Only paid orders can be disputed; this one is %(status)s.") % {"status": order.get_status_display()}
        )
    for voucher in _order_vouchers(order):
        if voucher.status == VoucherStatus.ACTIVE:
            voucher_freeze(voucher_id=voucher.pk, reason=f"payment disputed: {cause}")
    before = order.status
    order.status = OrderStatus.DISPUTED
    order.save(update_fields=["status", "updated_at"])
    _log(order, from_status=before, cause=cause)
    _flag(order, "The payment is disputed; the vouchers are frozen until the dispute is decided.")
    return order


@transaction.atomic
def order_dispute_close(*, order_id: int, won: bool, cause: str) -> Order:
    """The dispute is decided: ``won`` unfreezes the vouchers and restores the order's earlier status; lost voids
    what is left of them and moves the order to refunded. A closed dispute is not closed twice.

    Raises OrderNotFound and InvalidOrderTransition (no dispute was opened).
    """
    order = _lock_order(order_id)
    opened = order.status_changes.filter(to_status=OrderStatus.DISPUTED).order_by("-created_at", "-pk").first()
    if opened is None:
        raise InvalidOrderTransition(_("This order has no dispute."), order_id=order_id)
    if order.status != OrderStatus.DISPUTED:
        return order
    for voucher in _order_vouchers(order):
        if won:
            voucher_unfreeze(voucher_id=voucher.pk, reason=f"dispute won: {cause}")
        elif voucher.status not in (VoucherStatus.VOID, VoucherStatus.EXPIRED):
            voucher_void(voucher_id=voucher.pk, reason=f"dispute lost: {cause}")
    order.status = opened.from_status if won else OrderStatus.REFUNDED
    order.save(update_fields=["status", "updated_at"])
    _log(order, from_status=OrderStatus.DISPUTED, cause=f"dispute {'won' if won else 'lost'}: {cause}")
    return order
