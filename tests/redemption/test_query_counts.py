"""Queries per API request on the hot paths, pinned so that they cannot creep back up."""

import pytest
from django.test import Client

from redemption.apis import RedemptionOutputSerializer, VoucherOutputSerializer, redemption_data, voucher_data
from redemption.models import ApiToken, Redemption
from redemption.services import voucher_state_now
from tests.redemption.conftest import Api, Shop, issue, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def warm_api(shop: Shop) -> Api:
    """An API client whose token was used a moment ago, so last_used_at needs no write."""
    api = Api(Client(), token_for(shop))
    assert api.get(f"vouchers/{issue(shop).code}").status == 200
    return api


def test_validate_is_two_queries(warm_api, shop, django_assert_max_num_queries):
    voucher = issue(shop)
    # The token; the voucher with its merchant and the sum of its live holds.
    with django_assert_max_num_queries(2):
        answer = warm_api.get(f"vouchers/{voucher.code}")
    assert answer.status == 200
    assert answer.body["balance"] == voucher.balance


def test_validate_at_a_location_adds_the_location_checks(warm_api, shop, django_assert_max_num_queries):
    voucher = issue(shop)
    with django_assert_max_num_queries(4):
        answer = warm_api.get(f"vouchers/{voucher.code}?location=front")
    assert answer.status == 200
    assert answer.body["is_redeemable"] is True


def test_the_first_request_of_a_minute_writes_last_used_once(shop, django_assert_max_num_queries):
    api = Api(Client(), token_for(shop))
    voucher = issue(shop)
    with django_assert_max_num_queries(3):
        assert api.get(f"vouchers/{voucher.code}").status == 200
    used = ApiToken.objects.get().last_used_at
    assert used is not None
    with django_assert_max_num_queries(2):
        assert api.get(f"vouchers/{voucher.code}").status == 200
    assert ApiToken.objects.get().last_used_at == used


def test_redeem_with_an_idempotency_key(warm_api, shop, django_assert_max_num_queries):
    voucher = issue(shop, 5000)
    # Token; idempotency record insert (one statement; here a savepoint around it, as the test runs in a
    # transaction); the voucher found and locked; live holds; the ledger's replay check, balance update and row;
    # the redemption; the idempotency record's answer (one statement and its savepoint). Outside a test's
    # transaction the savepoints are BEGIN and COMMIT of the redemption only: 11 statements.
    with django_assert_max_num_queries(16):
        answer = warm_api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-1")
    assert answer.status == 201
    assert answer.body["voucher"]["balance"] == 3500
    assert answer.body["voucher"]["redeemable_amount"] == 3500
    assert answer.body["redemption"]["amount"] == 1500


def test_redeem_without_an_idempotency_key(warm_api, shop, django_assert_max_num_queries):
    voucher = issue(shop, 5000)
    with django_assert_max_num_queries(8):
        answer = warm_api.post(f"vouchers/{voucher.code}/redeem", {"amount": 5000, "currency": "EUR"})
    assert answer.status == 201
    assert answer.body["voucher"]["balance"] == 0
    assert answer.body["voucher"]["status"] == "spent"
    assert answer.body["voucher"]["not_redeemable_reason"] == "spent"


def test_redeem_answer_counts_holds_and_replay_answers_the_same(warm_api, shop):
    voucher = issue(shop, 5000)
    assert warm_api.post(f"vouchers/{voucher.code}/holds", {"amount": 1000, "currency": "EUR"}, key="h-1").status == 201
    first = warm_api.post(f"vouchers/{voucher.code}/redeem", {"amount": 500, "currency": "EUR"}, key="r-1")
    assert first.status == 201
    assert first.body["voucher"]["balance"] == 4500
    assert first.body["voucher"]["redeemable_amount"] == 3500
    again = warm_api.post(f"vouchers/{voucher.code}/redeem", {"amount": 500, "currency": "EUR"}, key="r-1")
    assert (again.status, again.body) == (first.status, first.body)


def test_reverse_answers_with_the_restored_balance(warm_api, shop, django_assert_max_num_queries):
    voucher = issue(shop, 5000)
    redeemed = warm_api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1200, "currency": "EUR"}, key="r-2")
    rid = redeemed.body["redemption"]["id"]
    with django_assert_max_num_queries(23):
        answer = warm_api.post(f"redemptions/{rid}/reverse", key="v-1")
    assert answer.status == 200
    assert answer.body["voucher"]["balance"] == 5000
    assert answer.body["redemption"]["reversed_at"] is not None


def test_answers_match_their_serializers(warm_api, shop):
    """The answers are built as dicts; the serializers that document them in the schema must agree."""
    for voucher in (issue(shop, 5000), issue(shop, 3, kind="item", item_label="Coffee")):
        unit = "quantity" if voucher.kind == "item" else "amount"
        answer = warm_api.post(
            f"vouchers/{voucher.code}/redeem",
            {unit: 1, "currency": "EUR", "location": "front", "reference": "r"},
            key=f"m-{voucher.pk}",
        )
        assert answer.status == 201, answer.body
        redemption = Redemption.objects.get(pk=answer.body["redemption"]["id"])
        state = voucher_state_now(voucher_id=voucher.pk, location_id=shop.front.pk)
        assert voucher_data(state) == VoucherOutputSerializer(voucher_data(state)).data
        assert redemption_data(redemption) == RedemptionOutputSerializer(redemption_data(redemption)).data
        assert answer.body["voucher"] == voucher_data(state)
        assert answer.body["redemption"] == redemption_data(redemption)
