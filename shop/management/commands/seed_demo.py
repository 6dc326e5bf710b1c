"""manage.py seed_demo: the demo merchant, its location, logins and products. Safe to run again.

It sets the demo logins' published passwords, so production settings refuse it unless SEED_DEMO_ALLOWED=true.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from merchants.models import Merchant, Role
from merchants.services import location_ensure, merchant_create, staff_add
from shop.services import voucher_product_ensure

DEMO_PRODUCTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "Gift voucher",
        {
            "description": "Good for everything on our menu and in the spa.",
            "fixed_amounts": [2500, 5000, 10000],
            "custom_amount_min": 1000,
            "custom_amount_max": 50000,
            "sort_order": 1,
        },
    ),
    (
        "Massage 60 min",
        {
            "kind": "item",
            "description": "One relaxing full-body massage.",
            "item_label": "Massage 60 min",
            "item_quantity": 1,
            "item_price": 6900,
            "sort_order": 2,
        },
    ),
    (
        "Coffee card",
        {
            "kind": "item",
            "description": "Ten coffees of your choice.",
            "item_label": "Coffee",
            "item_quantity": 10,
            "item_price": 2500,
            "validity_months": 12,
            "sort_order": 3,
        },
    ),
)

DEMO_LOGINS = (
    ("owner@demo.example", Role.OWNER, "demo-owner-pass"),
    ("cashier@demo.example", Role.CASHIER, "demo-counter-pass"),
)


class Command(BaseCommand):
    help = "Create (or refresh) the demo merchant 'demo' with location 'main', products, an owner and a cashier login."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SEED_DEMO_ALLOWED:
            raise CommandError(
                "seed_demo gives the demo logins passwords that are printed in the README, so it does not run "
                "under production settings. On a demonstration site, set SEED_DEMO_ALLOWED=true."
            )
        merchant = Merchant.objects.filter(slug="demo").first()
        if merchant is None:
            merchant, _ = merchant_create(slug="demo", name="Demo Spa & Café", currency="EUR", locale="de")
            merchant.contact_email = "hello@demo.example"
            merchant.address = "Hauptstraße 1\n10115 Berlin"
            merchant.country = "DE"
            merchant.terms = "Not exchangeable for cash. Partial redemption possible."
            merchant.save()
        location_ensure(merchant_id=merchant.pk, slug="main", name="Main counter")
        for name, fields in DEMO_PRODUCTS:
            voucher_product_ensure(merchant_id=merchant.pk, name=name, **fields)
        for email, role, password in DEMO_LOGINS:
            staff_add(merchant_id=merchant.pk, email=email, role=role, password=password)
        self.stdout.write(f"Demo merchant ready: {merchant.slug} ({merchant.name})")
        for email, role, password in DEMO_LOGINS:
            self.stdout.write(f"  {role:8} {email} / {password}")
