"""Reads of the shop: storefront products and what an order page shows."""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from shop.models import Merchant, Order, OrderStatus, VoucherProduct
from vouchers.models import Voucher

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
