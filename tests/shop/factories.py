"""Factories for the shop's sale models, and a helper that places an order through the real service."""

from typing import Any

import factory

from shop.models import Order, ProductKind, VoucherProduct
from shop.services import order_create
from tests.factories import MerchantFactory


class VoucherProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VoucherProduct

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Voucher {n}")
    kind = ProductKind.MONETARY
    fixed_amounts = factory.LazyFunction(lambda: [2500, 5000, 10000])
    custom_amount_min = 1000
    custom_amount_max = 50000


class ItemProductFactory(VoucherProductFactory):
    kind = ProductKind.ITEM
    fixed_amounts = factory.LazyFunction(list)
    custom_amount_min = None
    custom_amount_max = None
    item_label = "Massage 60 min"
    item_quantity = 1
    item_price = 6900


def place_order(product: VoucherProduct | None = None, **overrides: Any) -> Order:
    """A pending order placed through ``shop.services.order_create`` (5 000 minor units, one voucher)."""
    product = product or VoucherProductFactory()
    values: dict[str, Any] = {
        "merchant_id": product.merchant_id,
        "product_id": product.pk,
        "amount": 5000 if product.kind == ProductKind.MONETARY else None,
        "quantity": 1,
        "buyer_name": "Berta Buyer",
        "buyer_email": "berta@example.com",
        "locale": "en",
    }
    values.update(overrides)
    return order_create(**values)
