"""Rows written and read without the ORM's query building are the rows the ORM would write and read."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from core.rows import ModelColumns, insert_row, update_row
from redemption.models import ApiToken, IdempotencyRecord, IdempotencyState
from redemption.services import api_token_create
from tests.factories import MerchantFactory
from vouchers.models import Voucher
from vouchers.services import voucher_issue

pytestmark = pytest.mark.django_db


def test_insert_row_writes_defaults_auto_now_add_and_json_as_save_would() -> None:
    merchant = MerchantFactory()
    token, _secret = api_token_create(merchant_id=merchant.pk, name="Till")
    before = timezone.now()
    record = IdempotencyRecord(api_token=token, key="k-1", fingerprint="f" * 64, response_body={"a": [1, "ü"]})

    insert_row(record)

    assert record.pk is not None
    assert not record._state.adding
    stored = IdempotencyRecord.objects.get(pk=record.pk)
    assert (stored.api_token_id, stored.key, stored.state) == (token.pk, "k-1", IdempotencyState.IN_FLIGHT)
    assert stored.response_body == {"a": [1, "ü"]}
    assert before <= stored.created_at <= timezone.now()
    assert record.created_at == stored.created_at


def test_update_row_writes_only_the_named_columns_and_moves_auto_now() -> None:
    voucher = voucher_issue(merchant_id=MerchantFactory().pk, value=5000)
    stale = Voucher.objects.get(pk=voucher.pk)
    voucher.balance = 4000
    voucher.recipient_name = "not saved"
    voucher.updated_at = timezone.now() - timedelta(days=1)

    update_row(voucher, ["balance", "updated_at"])

    stored = Voucher.objects.get(pk=voucher.pk)
    assert stored.balance == 4000
    assert stored.recipient_name == stale.recipient_name
    assert stored.updated_at > stale.updated_at


def test_update_row_of_a_row_that_is_gone_is_an_error_as_with_save() -> None:
    voucher = voucher_issue(merchant_id=MerchantFactory().pk, value=5000)
    voucher.pk = voucher.pk + 1000
    with pytest.raises(DatabaseError, match="changed 0 rows"):
        update_row(voucher, ["balance"])


def test_model_columns_refuse_unknown_or_no_fields() -> None:
    with pytest.raises(ValueError, match="no fields"):
        ModelColumns(ApiToken, "t", ["id", "secret"])
    with pytest.raises(ValueError, match="at least one"):
        ModelColumns(ApiToken, "t", [])
