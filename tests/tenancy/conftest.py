"""A world of two merchants with a row of every kind each, users holding different roles at the two, and a
fingerprint of the database to prove that a refused request changed nothing."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice

from delivery.models import Delivery
from merchants.models import Location, Merchant, Role, StaffMembership
from merchants.services import two_factor_enrolment_start
from payments.models import Payment, StripeEvent
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


def _side(slug: str, name: str, capture: Any) -> Side:
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


@pytest.fixture
def world(db, settings, django_capture_on_commit_callbacks) -> World:
    # Demo payments: no Stripe key, events signed with this secret and fed to the webhook's own code.
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    cache.clear()
    alpha = _side("alpha", "Alpha", django_capture_on_commit_callbacks)
    beta = _side("beta", "Beta", django_capture_on_commit_callbacks)
    platform_user = UserFactory(username="platform@example.com", is_staff=True, is_superuser=True)
    attempt = {"user_agent": "test", "ip_address": "10.9.9.9", "username": "x@example.com", "http_accept": "*/*"}
    platform: dict[str, models.Model] = {
        "auth.user": platform_user,
        "auth.group": Group.objects.create(name="Support"),
        "payments.stripeevent": StripeEvent.objects.order_by("pk").first(),
        "otp_totp.totpdevice": two_factor_enrolment_start(user_id=platform_user.pk),
        "otp_static.staticdevice": StaticDevice.objects.create(user=platform_user, name="Backup codes"),
        "axes.accessattempt": AccessAttempt.objects.create(
            **attempt, path_info="/admin/login/", get_data="", post_data="", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(**attempt, path_info="/admin/login/"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**attempt, path_info="/admin/login/"),
    }
    yield World(alpha=alpha, beta=beta, platform=platform)
    cache.clear()


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
