"""Helpers of the mixed-roles suite: a side (one merchant with a row of every kind), users holding different roles
at two merchants, and a fingerprint of the database to prove that a refused request changed nothing."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone

from delivery.models import Delivery
from merchants.models import Location, Merchant, Role, StaffMembership
from payments.models import Payment
from payments.services import checkout_start, demo_pay
from redemption.models import ApiToken, Hold, Redemption, Scope, ThrottleEvent
from redemption.services import Caller, api_token_create, hold_create, redemption_create
from shop.models import Order, VoucherProduct
from tests.factories import LocationFactory, MerchantFactory, StaffMembershipFactory, UserFactory
from tests.shop.factories import VoucherProductFactory, place_order
from vouchers.models import Voucher, VoucherTransaction
from vouchers.services import Actor

WEBHOOK_SECRET = "whsec_tenancy_suite"


@dataclass
class Side:
    """One merchant and one row of each of its kinds."""

    merchant: Merchant
    location: Location
    staff: StaffMembership  # a cashier of this merchant, as a row of the staff list
    product: VoucherProduct
    paid_order: Order
    pending_order: Order
    payment: Payment
    voucher: Voucher
    entry: VoucherTransaction
    delivery: Delivery
    token: ApiToken
    secret: str
    redemption: Redemption
    hold: Hold
    throttle: ThrottleEvent

    def row(self, label: str) -> models.Model:
        """This merchant's row of the admin model ``label``."""
        return {
            "merchants.merchant": self.merchant,
            "merchants.location": self.location,
            "merchants.staffmembership": self.staff,
            "shop.voucherproduct": self.product,
            "shop.order": self.paid_order,
            "vouchers.voucher": self.voucher,
            "vouchers.vouchertransaction": self.entry,
            "payments.payment": self.payment,
            "delivery.delivery": self.delivery,
            "redemption.apitoken": self.token,
            "redemption.redemption": self.redemption,
            "redemption.hold": self.hold,
            "redemption.throttleevent": self.throttle,
        }[label]


@dataclass
class World:
    alpha: Side
    beta: Side
    platform: dict[str, models.Model] = field(default_factory=dict)


def make_side(slug: str, name: str, capture: Any) -> Side:
    merchant = MerchantFactory(slug=slug, name=name)
    location = LocationFactory(merchant=merchant, slug=f"{slug}-front", name=f"{name} front")
    product = VoucherProductFactory(merchant=merchant, name=f"{name} voucher")
    # Paid through the demo checkout, the real webhook path; the emails are due in a month, so nothing is sent.
    paid_order = place_order(product, buyer_name=f"{name} Buyer", send_date=timezone.localdate() + timedelta(days=30))
    checkout_start(order_id=paid_order.pk)
    with capture(execute=True):
        demo_pay(session_id=Payment.objects.get(order=paid_order).session_id)
    paid_order.refresh_from_db()
    voucher = Voucher.objects.get(order_line__order=paid_order)
    staff = StaffMembershipFactory(merchant=merchant, role=Role.CASHIER, user=UserFactory())
    actor = Actor.staff(staff.user_id, staff.user.username)
    caller = Caller(merchant_id=merchant.pk, actor=actor, bound_location_id=location.pk, user_id=staff.user_id)
    redeemed = redemption_create(
        caller=caller,
        code=voucher.code,
        amount=1000,
        location_id=location.pk,
        currency=voucher.currency,
        reference=f"{slug}-sale",
    )
    hold = hold_create(caller=caller, code=voucher.code, amount=500, location_id=location.pk)
    token, secret = api_token_create(
        merchant_id=merchant.pk, name=f"{name} till", scopes=(Scope.VOUCHERS_READ, Scope.REDEMPTIONS_WRITE)
    )
    voucher.refresh_from_db()
    return Side(
        merchant=merchant,
        location=location,
        staff=staff,
        product=product,
        paid_order=paid_order,
        pending_order=place_order(product, buyer_name=f"{name} Pending"),
        payment=Payment.objects.get(order=paid_order),
        voucher=voucher,
        entry=voucher.transactions.order_by("pk").first(),
        delivery=Delivery.objects.get(voucher=voucher, purpose="recipient"),
        token=token,
        secret=secret,
        redemption=redeemed.redemption,
        hold=hold,
        throttle=ThrottleEvent.objects.create(merchant=merchant, identity=f"ip:10.0.0.{merchant.pk}", failures=20),
    )


def user_with(*roles: tuple[Merchant, str]):
    """A login holding each (merchant, role); its staff flag follows from the memberships."""
    user = UserFactory()
    for merchant, role in roles:
        StaffMembershipFactory(user=user, merchant=merchant, role=role)
    user.refresh_from_db()
    return user


# Rows that a read may write (sessions, login and throttle records, a token's last use) or that only record what
# was asked; every other table must be exactly as it was after a refused request.
NOT_FINGERPRINTED = {
    "sessions.session",
    "admin.logentry",
    "redemption.throttleevent",
    "redemption.idempotencyrecord",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "axes.accessattemptexpiration",
}
VOLATILE_FIELDS = {"last_login", "last_used_at"}


def fingerprint() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (bar those above), as plain values."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in NOT_FINGERPRINTED or not model._meta.managed:
            continue
        rows = list(model._default_manager.order_by("pk").values())
        tables[label] = [{k: v for k, v in row.items() if k not in VOLATILE_FIELDS} for row in rows]
    return tables


def changed_tables(before: dict[str, list[dict[str, Any]]]) -> list[str]:
    after = fingerprint()
    return sorted(label for label in after if after[label] != before.get(label))
