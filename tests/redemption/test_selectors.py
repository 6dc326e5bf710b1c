"""The SQL reads on every API request load what the ORM would, on SQLite and PostgreSQL alike."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from redemption.models import ApiToken, Hold, HoldStatus
from redemption.selectors import api_token_by_secret, counter_voucher
from redemption.services import api_token_create, api_token_revoke
from tests.redemption.conftest import Shop, issue
from vouchers.codes import format_code, generate_code
from vouchers.models import Voucher, VoucherKind

pytestmark = pytest.mark.django_db


def _fields(instance: object, model: type) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in model._meta.concrete_fields}


def test_a_token_loads_as_the_orm_loads_it(shop: Shop) -> None:
    token, secret = api_token_create(merchant_id=shop.merchant.pk, name="Till", location_id=shop.front.pk)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    stored = ApiToken.objects.get(pk=token.pk)

    found = api_token_by_secret(secret)

    assert found is not None
    for name in ("id", "merchant_id", "location_id", "name", "prefix", "scopes", "last_used_at"):
        assert getattr(found, name) == getattr(stored, name), name
    assert isinstance(found.scopes, list)
    assert found.has_scope("vouchers:read")


def test_no_token_for_a_wrong_secret_a_revoked_token_or_an_inactive_merchant(shop: Shop) -> None:
    token, secret = api_token_create(merchant_id=shop.merchant.pk, name="Till")
    assert api_token_by_secret(secret + "x") is None
    assert api_token_by_secret("") is None

    shop.merchant.is_active = False
    shop.merchant.save()
    assert api_token_by_secret(secret) is None

    shop.merchant.is_active = True
    shop.merchant.save()
    assert api_token_by_secret(secret) is not None
    api_token_revoke(merchant_id=shop.merchant.pk, token_id=token.pk)
    assert api_token_by_secret(secret) is None


def test_a_voucher_loads_as_the_orm_loads_it_in_one_query(shop: Shop) -> None:
    voucher = issue(
        shop,
        value=3,
        kind=VoucherKind.ITEM,
        item_label="Massage",
        expires_at=timezone.now() + timedelta(days=30),
        recipient_name="Ada",
    )
    stored = Voucher.objects.select_related("merchant").get(pk=voucher.pk)

    with CaptureQueriesContext(connection) as queries:
        found = counter_voucher(merchant_id=shop.merchant.pk, code=format_code(voucher.code).lower())

    assert len(queries) == 1
    assert found is not None
    loaded, held = found
    assert _fields(loaded, Voucher) == _fields(stored, Voucher)
    assert loaded.merchant.time_zone == stored.merchant.time_zone
    assert loaded.merchant.locale == stored.merchant.locale
    assert held == 0


def test_only_live_unexpired_holds_count(shop: Shop) -> None:
    voucher = issue(shop, value=5000)
    other = issue(shop, value=5000)
    now = timezone.now()
    common = {"merchant": shop.merchant, "voucher": voucher}
    Hold.objects.create(**common, amount=700, expires_at=now + timedelta(minutes=5))
    Hold.objects.create(**common, amount=300, expires_at=now + timedelta(minutes=1))
    Hold.objects.create(**common, amount=1000, expires_at=now - timedelta(seconds=1))
    Hold.objects.create(**common, amount=2000, expires_at=now + timedelta(minutes=5), status=HoldStatus.RELEASED)
    Hold.objects.create(merchant=shop.merchant, voucher=other, amount=50, expires_at=now + timedelta(minutes=5))

    found = counter_voucher(merchant_id=shop.merchant.pk, code=voucher.code)

    assert found is not None
    assert found[1] == 1000


def test_unknown_malformed_and_foreign_codes_find_nothing(shop: Shop, foreign_shop: Shop) -> None:
    voucher = issue(shop)
    assert counter_voucher(merchant_id=foreign_shop.merchant.pk, code=voucher.code) is None
    assert counter_voucher(merchant_id=shop.merchant.pk, code="not a code") is None
    assert counter_voucher(merchant_id=shop.merchant.pk, code=generate_code()) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_locking_read_locks_the_voucher_row_until_the_transaction_ends(shop: Shop) -> None:
    voucher = issue(shop)
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=True,
    )
    lock = "SELECT id FROM vouchers_voucher WHERE id = %s FOR UPDATE NOWAIT"
    try:
        with transaction.atomic():
            assert counter_voucher(merchant_id=shop.merchant.pk, code=voucher.code, lock=True) is not None
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(lock, [voucher.pk])
        assert other.execute(lock, [voucher.pk]).fetchone() == (voucher.pk,)
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_the_locking_read_refuses_to_run_outside_a_transaction(shop: Shop) -> None:
    voucher = issue(shop)
    with pytest.raises(TransactionManagementError):
        counter_voucher(merchant_id=shop.merchant.pk, code=voucher.code, lock=True)
