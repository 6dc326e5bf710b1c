"""Reads of the shop: storefront products and what an order page shows."""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from merchants.models import Merchant
from shop.models import Order, OrderStatus, VoucherProduct
from vouchers.models import Voucher, VoucherKind, VoucherStatus

# Statuses after which nothing changes without a person acting: the order page stops refreshing.
SETTLED_STATUSES = (
    OrderStatus.FULFILLED,
    OrderStatus.EXPIRED,
    OrderStatus.CANCELLED,
    OrderStatus.REFUNDED,
    OrderStatus.DISPUTED,
)


def storefront_products(*, merchant: Merchant) -> QuerySet[VoucherProduct]:
    return VoucherProduct.objects.filter(merchant=merchant, is_active=True).order_by("sort_order", "name")


def order_by_token(*, public_token: str) -> Order | None:
    return (
        Order.objects.select_related("merchant")
        .prefetch_related("lines__product")
        .filter(public_token=public_token)
        .first()
    )


@dataclass
class VoucherState:
    voucher: Voucher
    emails: list[tuple[str, str]] = field(default_factory=list)  # (to, status label)


def order_vouchers(*, order: Order) -> list[VoucherState]:
    """The order's vouchers with the emails owed for each: whom they go to, and how far they got."""
    vouchers = list(Voucher.objects.filter(order_line__order=order).order_by("pk").prefetch_related("deliveries"))
    states = []
    for voucher in vouchers:
        emails = [(delivery.to_email, str(delivery.get_status_display())) for delivery in voucher.deliveries.all()]
        states.append(VoucherState(voucher=voucher, emails=emails))
    return states


def order_unused_value(*, order: Order) -> int:
    """What is still unused of the order, in minor units: what its vouchers have left (an item voucher's items at
    the price paid per item), or everything not refunded yet while no voucher is issued. Never more than the
    part of the payment not refunded yet."""
    not_refunded = order.total - order.amount_refunded
    vouchers = list(Voucher.objects.filter(order_line__order=order).select_related("order_line"))
    if not vouchers:
        return not_refunded
    unused = 0
    for voucher in vouchers:
        if voucher.status in (VoucherStatus.VOID, VoucherStatus.EXPIRED) or voucher.balance <= 0:
            continue
        line = voucher.order_line
        if line is None or voucher.kind == VoucherKind.MONETARY:
            unused += voucher.balance
        else:
            unused += voucher.balance * line.unit_amount // max(line.voucher_value, 1)
    return min(unused, not_refunded)
