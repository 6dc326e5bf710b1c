"""API input: bounded bodies, JSON that cannot crash a worker, strict integers, and a currency with every amount."""

import json

import pytest

from redemption.apis import MAX_BODY_BYTES
from redemption.models import Hold, IdempotencyRecord
from tests.redemption.conftest import issue
from vouchers.models import VoucherKind, VoucherTransaction

pytestmark = pytest.mark.django_db


def ledger_rows() -> int:
    return VoucherTransaction.objects.count()


def writes(api, shop) -> list[str]:
    """A path of every API write that reads a body."""
    voucher = issue(shop, 5000)
    hold = api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}).body["hold"]["id"]
    return [f"vouchers/{voucher.code}/redeem", f"vouchers/{voucher.code}/holds", f"holds/{hold}/capture"]


# ---- the body ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "k-deep"])
def test_deeply_nested_json_is_a_json_400_on_every_write(api, shop, key):
    paths = writes(api, shop)
    rows, holds = ledger_rows(), Hold.objects.count()
    deep_list = "[" * 8000 + "]" * 8000
    deep_object = '{"amount":' + '{"a":' * 2500 + "1" + "}" * 2501
    for path in paths:
        for raw in (deep_list, deep_object):
            assert len(raw) <= MAX_BODY_BYTES
            response = api.post(path, raw=raw, key=key)
            assert response.status == 400, (path, response.status)
            assert response.body["code"] == "malformed_json"
            assert response.headers["Content-Type"] == "application/json"
    assert (ledger_rows(), Hold.objects.count()) == (rows, holds)
    assert not IdempotencyRecord.objects.filter(key="k-deep").exists()


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * 1024 * 1024])
@pytest.mark.parametrize("key", [None, "k-big"])
def test_a_body_over_the_limit_is_a_json_413(api, shop, size, key):
    paths = writes(api, shop)
    rows = ledger_rows()
    body = json.dumps({"amount": 100, "currency": "EUR", "reference": "r"})
    raw = body[:-1] + " " * (size - len(body)) + "}"  # valid JSON, only padded
    assert len(raw) == size
    for path in paths:
        response = api.post(path, raw=raw, key=key)
        assert response.status == 413, (path, response.status)
        assert response.headers["Content-Type"] == "application/json"
        assert response.body["code"] == "request_too_large"
        assert response.body["message"]
    assert ledger_rows() == rows
    assert not IdempotencyRecord.objects.filter(key="k-big").exists()


def test_a_body_at_the_limit_is_read(api, shop):
    voucher = issue(shop, 5000)
    body = json.dumps({"amount": 100, "currency": "EUR"})
    raw = body[:-1] + " " * (MAX_BODY_BYTES - len(body)) + "}"
    assert len(raw) == MAX_BODY_BYTES
    assert api.post(f"vouchers/{voucher.code}/redeem", raw=raw).status == 201


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_malformed(api, shop, constant):
    voucher = issue(shop, 5000)
    response = api.post(f"vouchers/{voucher.code}/redeem", raw=f'{{"amount": {constant}, "currency": "EUR"}}')
    assert (response.status, response.body["code"]) == (400, "malformed_json")


# ---- integers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["100", 100.0, 10.0, True, False, "1e2", "", None, [100], {"value": 100}])
def test_amounts_are_json_integers_and_nothing_else(api, shop, value):
    voucher = issue(shop, 5000)
    items = issue(shop, 3, kind=VoucherKind.ITEM, item_label="Coffee")
    hold = api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}).body["hold"]["id"]
    rows, holds = ledger_rows(), Hold.objects.count()
    for path, field in [
        (f"vouchers/{voucher.code}/redeem", "amount"),
        (f"vouchers/{voucher.code}/holds", "amount"),
        (f"holds/{hold}/capture", "amount"),
    ]:
        response = api.post(path, {field: value, "currency": "EUR"})
        assert response.status == 422, (path, value, response.body)
        assert response.body["code"] == "invalid"
        assert field in response.body["errors"]
    response = api.post(f"vouchers/{items.code}/redeem", {"quantity": value})
    assert response.status == 422
    assert "quantity" in response.body["errors"]
    ttl = api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR", "ttl_seconds": value})
    assert ttl.status == 422
    assert "ttl_seconds" in ttl.body["errors"]
    assert (ledger_rows(), Hold.objects.count()) == (rows, holds)


# ---- currency ---------------------------------------------------------------------------------------------------


def test_an_amount_of_money_needs_its_currency(api, shop):
    voucher = issue(shop, 5000)
    hold = api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}).body["hold"]["id"]
    rows, holds = ledger_rows(), Hold.objects.count()
    for path in (f"vouchers/{voucher.code}/redeem", f"vouchers/{voucher.code}/holds", f"holds/{hold}/capture"):
        response = api.post(path, {"amount": 100})
        assert response.status == 422, path
        assert response.body["code"] == "currency_required"
        assert set(response.body) == {"code", "message", "errors"}
        assert "currency" in response.body["errors"]
    assert (ledger_rows(), Hold.objects.count()) == (rows, holds)
    # Capturing all of a hold names no amount, so no currency either.
    assert api.post(f"holds/{hold}/capture", {}).status == 201
    # Lower case is the same currency.
    assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "eur"}).status == 201


def test_a_currency_other_than_the_vouchers_is_refused(api, shop):
    voucher = issue(shop, 5000)
    hold = api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}).body["hold"]["id"]
    rows, holds = ledger_rows(), Hold.objects.count()
    for path, body in [
        (f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "USD"}),
        (f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "USD"}),
        (f"holds/{hold}/capture", {"amount": 100, "currency": "USD"}),
        (f"holds/{hold}/capture", {"currency": "USD"}),
    ]:
        response = api.post(path, body)
        assert response.status == 422, (path, body)
        assert response.body["code"] == "currency_mismatch"
        assert "currency" in response.body["errors"]
    assert (ledger_rows(), Hold.objects.count()) == (rows, holds)


def test_item_vouchers_count_items_and_need_no_currency(api, shop):
    items = issue(shop, 3, kind=VoucherKind.ITEM, item_label="Coffee")
    assert api.post(f"vouchers/{items.code}/redeem", {"quantity": 1}).status == 201
    hold = api.post(f"vouchers/{items.code}/holds", {"amount": 1})
    assert hold.status == 201
    assert api.post(f"holds/{hold.body['hold']['id']}/capture", {"amount": 1}).status == 201
