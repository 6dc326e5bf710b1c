"""Moving Merchant, Location and StaffMembership from the shop app to the merchants app loses no row: a database
filled at the revision before the move (every table that points at a merchant or a location has a row) migrates
forward with every row, every link and every foreign key constraint in place, and the content types (so the
permissions and admin log entries that hang on them) follow the models."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery.models import Delivery
from merchants.models import Location, Merchant, Role, StaffMembership
from payments.models import Payment
from redemption.models import ApiToken, Hold, Redemption, ThrottleEvent
from shop.models import Order, OrderLine, OrderStatusChange, VoucherProduct
from vouchers.models import Voucher, VoucherTransaction

# The newest migration of each app before the move (merchants did not exist).
BEFORE = [
    ("shop", "0005_staff_flag_follows_memberships"),
    ("vouchers", "0002_ledger_insert_only"),
    ("redemption", "0002_redemption_reversal_reason"),
    ("payments", "0001_initial"),
    ("delivery", "0003_merchant_alert_retries"),
]
# Tables whose foreign keys must still point at the tenancy tables afterwards: (table, column) -> target table.
FOREIGN_KEYS = {
    ("shop_location", "merchant_id"): "shop_merchant",
    ("shop_staffmembership", "merchant_id"): "shop_merchant",
    ("shop_staffmembership_locations", "staffmembership_id"): "shop_staffmembership",
    ("shop_staffmembership_locations", "location_id"): "shop_location",
    ("shop_voucherproduct", "merchant_id"): "shop_merchant",
    ("shop_order", "merchant_id"): "shop_merchant",
    ("vouchers_voucher", "merchant_id"): "shop_merchant",
    ("vouchers_voucher_allowed_locations", "location_id"): "shop_location",
    ("vouchers_vouchertransaction", "location_id"): "shop_location",
    ("redemption_apitoken", "merchant_id"): "shop_merchant",
    ("redemption_apitoken", "location_id"): "shop_location",
    ("redemption_hold", "merchant_id"): "shop_merchant",
    ("redemption_hold", "location_id"): "shop_location",
    ("redemption_redemption", "merchant_id"): "shop_merchant",
    ("redemption_redemption", "location_id"): "shop_location",
    ("redemption_throttleevent", "merchant_id"): "shop_merchant",
}
MOVED = ("merchant", "location", "staffmembership")


def migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate the test database to ``targets`` and return the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([target for target in targets if target[1] is not None]).apps


def latest() -> list[tuple[str, str | None]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def previous_revision() -> list[tuple[str, str | None]]:
    """Every app at its newest migration except those the move touched, which stand where they stood before it."""
    touched = {app for app, _name in BEFORE} | {"merchants"}
    return [*(node for node in latest() if node[0] not in touched), *BEFORE, ("merchants", None)]


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            if table == "django_migrations":
                continue
            # The names come from the database itself, quoted.
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
        return counts


def foreign_keys() -> dict[tuple[str, str], str]:
    """(table, column) -> referenced table for every table, as the database itself records its foreign keys."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for constraint in connection.introspection.get_constraints(cursor, table).values():
                if constraint["foreign_key"]:
                    found[(table, constraint["columns"][0])] = constraint["foreign_key"][0]
    return found


def fill(old: Any) -> dict[str, Any]:
    """One row of every kind that points at a merchant or a location, written with the models of the time."""
    now = timezone.now()
    user_model = old.get_model(settings.AUTH_USER_MODEL)
    owner = user_model.objects.create(username="owner@spa.example", email="owner@spa.example", is_staff=True)
    cashier = user_model.objects.create(username="cashier@spa.example", email="cashier@spa.example")
    merchant = old.get_model("shop", "Merchant").objects.create(
        slug="spa",
        name="City Spa",
        currency="CHF",
        locale="de",
        time_zone="Europe/Zurich",
        stripe_account="acct_123",
        require_two_factor_for_managers=True,
        primary_colour="#112233",
        code_format="numeric",
        terms="Not exchangeable for cash.",
    )
    front = old.get_model("shop", "Location").objects.create(merchant=merchant, slug="front", name="Front desk")
    back = old.get_model("shop", "Location").objects.create(merchant=merchant, slug="back", name="Back office")
    memberships = old.get_model("shop", "StaffMembership")
    memberships.objects.create(user=owner, merchant=merchant, role="owner")
    cashier_membership = memberships.objects.create(user=cashier, merchant=merchant, role="cashier")
    cashier_membership.locations.set([front])
    product = old.get_model("shop", "VoucherProduct").objects.create(
        merchant=merchant, name="Gift voucher", fixed_amounts=[5000]
    )
    order = old.get_model("shop", "Order").objects.create(
        merchant=merchant,
        status="fulfilled",
        currency="CHF",
        total=5000,
        buyer_name="Bea Buyer",
        buyer_email="bea@example.com",
    )
    line = old.get_model("shop", "OrderLine").objects.create(
        order=order, product=product, kind="monetary", unit_amount=5000, quantity=1, voucher_value=5000
    )
    old.get_model("shop", "OrderStatusChange").objects.create(order=order, to_status="fulfilled", cause="paid")
    old.get_model("payments", "Payment").objects.create(
        order=order, session_id="cs_test_1", amount=5000, currency="CHF"
    )
    voucher = old.get_model("vouchers", "Voucher").objects.create(
        merchant=merchant,
        code="12345678901234567",
        currency="CHF",
        initial_value=5000,
        balance=3000,
        valid_from=now,
        order_line=line,
    )
    voucher.allowed_locations.set([front, back])
    ledger = old.get_model("vouchers", "VoucherTransaction")
    ledger.objects.create(voucher=voucher, kind="issue", amount=5000, balance_after=5000)
    redeemed = ledger.objects.create(
        voucher=voucher, kind="redeem", amount=-2000, balance_after=3000, location=front, user=cashier
    )
    old.get_model("delivery", "Delivery").objects.create(
        voucher=voucher, purpose="recipient", to_email="bea@example.com"
    )
    token = old.get_model("redemption", "ApiToken").objects.create(
        merchant=merchant, location=front, name="Till 1", prefix="abcd", secret_hash="0" * 64
    )
    hold = old.get_model("redemption", "Hold").objects.create(
        merchant=merchant, voucher=voucher, location=back, amount=500, expires_at=now + timedelta(minutes=5)
    )
    old.get_model("redemption", "Redemption").objects.create(
        merchant=merchant, voucher=voucher, transaction=redeemed, location=front, amount=2000, api_token=token
    )
    old.get_model("redemption", "ThrottleEvent").objects.create(
        merchant=merchant, identity="ip:203.0.113.7", failures=3
    )
    content_types = old.get_model("contenttypes", "ContentType")
    merchant_type = content_types.objects.get_or_create(app_label="shop", model="merchant")[0]
    for model in MOVED[1:]:
        content_types.objects.get_or_create(app_label="shop", model=model)
    permission = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=merchant_type, codename="change_merchant", defaults={"name": "Can change merchant"}
    )[0]
    old.get_model("admin", "LogEntry").objects.create(
        user=owner, content_type=merchant_type, object_id=str(merchant.pk), object_repr="City Spa", action_flag=2
    )
    return {
        "merchant": merchant.pk,
        "front": front.pk,
        "back": back.pk,
        "owner": owner.pk,
        "cashier": cashier.pk,
        "voucher": voucher.pk,
        "order": order.pk,
        "hold": hold.pk,
        "merchant_type": merchant_type.pk,
        "permission": permission.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_previous_revision_migrates_without_losing_a_row():
    newest = latest()
    try:
        # Given a database at the revision before the move, with rows in every table that points at the tenancy
        old = migrate(previous_revision())
        assert not any(app == "merchants" for app, _name in MigrationExecutor(connection).loader.applied_migrations)
        ids = fill(old)
        counts_before = row_counts()
        keys_before = foreign_keys()
        assert FOREIGN_KEYS.items() <= keys_before.items()

        # When it migrates to the newest revision
        migrate(newest)
    finally:
        migrate(newest)

    # Then no table lost or gained a row, and every foreign key constraint still points where it did
    assert row_counts() == counts_before
    assert foreign_keys() == keys_before

    # And the rows read back through the merchants app's models, with every link
    merchant = Merchant.objects.get(pk=ids["merchant"])
    assert (merchant.slug, merchant.name, merchant.currency, merchant.locale, merchant.time_zone) == (
        "spa",
        "City Spa",
        "CHF",
        "de",
        "Europe/Zurich",
    )
    assert (merchant.stripe_account, merchant.require_two_factor_for_managers, merchant.code_format) == (
        "acct_123",
        True,
        "numeric",
    )
    assert set(merchant.locations.values_list("slug", flat=True)) == {"front", "back"}
    roles = dict(StaffMembership.objects.filter(merchant=merchant).values_list("user_id", "role"))
    assert roles == {ids["owner"]: Role.OWNER, ids["cashier"]: Role.CASHIER}
    cashier = StaffMembership.objects.get(user_id=ids["cashier"])
    assert list(cashier.locations.values_list("pk", flat=True)) == [ids["front"]]
    assert VoucherProduct.objects.get().merchant == merchant
    order = Order.objects.get(pk=ids["order"])
    assert order.merchant == merchant
    assert OrderLine.objects.get().order == order
    assert OrderStatusChange.objects.get().order == order
    assert Payment.objects.get().order == order
    voucher = Voucher.objects.get(pk=ids["voucher"])
    assert voucher.merchant == merchant
    assert voucher.order_line == OrderLine.objects.get()
    assert set(voucher.allowed_locations.values_list("pk", flat=True)) == {ids["front"], ids["back"]}
    assert voucher.balance == 3000
    assert sum(voucher.transactions.values_list("amount", flat=True)) == voucher.balance
    assert VoucherTransaction.objects.get(kind="redeem").location_id == ids["front"]
    assert Delivery.objects.get().voucher == voucher
    token = ApiToken.objects.get()
    assert (token.merchant, token.location_id) == (merchant, ids["front"])
    hold = Hold.objects.get(pk=ids["hold"])
    assert (hold.merchant, hold.location_id) == (merchant, ids["back"])
    redemption = Redemption.objects.get()
    assert (redemption.merchant, redemption.location_id, redemption.api_token) == (merchant, ids["front"], token)
    assert ThrottleEvent.objects.get().merchant == merchant

    # And the content types moved with the models: same rows, so permissions and the admin history stay attached
    merchant_type = ContentType.objects.get_for_model(Merchant)
    assert merchant_type.pk == ids["merchant_type"]
    assert not ContentType.objects.filter(app_label="shop", model__in=MOVED).exists()
    assert Permission.objects.get(pk=ids["permission"]).content_type == merchant_type
    assert LogEntry.objects.get().get_edited_object() == merchant
    assert ContentType.objects.get_for_model(Location).app_label == "merchants"


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_undone_without_losing_a_row():
    # Given a populated database at the newest revision
    newest = latest()
    merchant = Merchant.objects.create(slug="spa", name="City Spa")
    Location.objects.create(merchant=merchant, slug="front", name="Front desk")
    ContentType.objects.get_for_model(Merchant)
    counts = row_counts()
    try:
        # When the move is migrated back
        old = migrate(previous_revision())
        # Then the shop app's models of the time read the same rows, and the content type went back too
        assert old.get_model("shop", "Merchant").objects.get().slug == "spa"
        assert old.get_model("shop", "Location").objects.get().merchant_id == merchant.pk
        assert row_counts() == counts
        assert ContentType.objects.filter(app_label="shop", model="merchant").exists()
    finally:
        migrate(newest)
    assert Location.objects.get().merchant == merchant
    assert ContentType.objects.get_for_model(Merchant).app_label == "merchants"
