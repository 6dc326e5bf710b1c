"""manage.py seed_demo: the demo merchant, its location, logins and products. Safe to run again."""

from typing import Any

from django.core.management.base import BaseCommand

from shop.models import Merchant, Role
from shop.services import location_ensure, merchant_create, staff_add

DEMO_LOGINS = (
    ("owner@demo.example", Role.OWNER, "demo-owner-pass"),
    ("cashier@demo.example", Role.CASHIER, "demo-cashier-pass"),
)


class Command(BaseCommand):
    help = "Create (or refresh) the demo merchant 'demo' with location 'main', an owner and a cashier login."

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = Merchant.objects.filter(slug="demo").first()
        if merchant is None:
            merchant, _ = merchant_create(slug="demo", name="Demo Spa & Café", currency="EUR", locale="de")
            merchant.contact_email = "hello@demo.example"
            merchant.address = "Hauptstraße 1\n10115 Berlin"
            merchant.country = "DE"
            merchant.terms = "Not exchangeable for cash. Partial redemption possible."
            merchant.save()
        location_ensure(merchant_id=merchant.pk, slug="main", name="Main counter")
        for email, role, password in DEMO_LOGINS:
            staff_add(merchant_id=merchant.pk, email=email, role=role, password=password)
        self.stdout.write(f"Demo merchant ready: {merchant.slug} ({merchant.name})")
        for email, role, password in DEMO_LOGINS:
            self.stdout.write(f"  {role:8} {email} / {password}")
