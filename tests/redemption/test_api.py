"""The redemption API: answers, errors, tenant and location walls, scopes, holds and reversals."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from redemption.models import Hold, HoldStatus, Redemption, Scope
from redemption.services import api_token_revoke
from tests.redemption.conftest import Api, issue, token_for
from vouchers.models import VoucherKind, VoucherStatus, VoucherTransaction
from vouchers.selectors import ledger_sum
from vouchers.services import voucher_void

pytestmark = pytest.mark.django_db


def ledger_rows() -> int:
    return VoucherTransaction.objects.count()


# ---- validate -------------------------------------------------------------------------------------------------


def test_validate_answers_with_every_field(api, shop):
    voucher = issue(shop, 5000)
    response = api.get(f"vouchers/{voucher.code.lower()}")
    assert response.status == 200
    assert response.body == {
        "code": voucher.display_code,
        "kind": "monetary",
        "currency": "EUR",
        "initial_value": 5000,
        "balance": 5000,
        "initial_quantity": None,
        "remaining_quantity": None,
        "status": "active",
        "is_redeemable": True,
        "redeemable_amount": 5000,
        "not_redeemable_reason": None,
        "valid_from": response.body["valid_from"],
        "expires_at": None,
        "display": "€50.00 of €50.00 left",
    }


def test_validate_answers_for_a_void_voucher_with_the_reason(api, shop):
    voucher = issue(shop, 5000)
    voucher_void(voucher_id=voucher.pk, reason="test")
    response = api.get(f"vouchers/{voucher.display_code}")
    assert response.status == 200
    assert response.body["is_redeemable"] is False
    assert response.body["not_redeemable_reason"] == "void"
    assert response.body["redeemable_amount"] == 0


def test_validate_item_voucher_counts_quantities(api, shop):
    voucher = issue(shop, 3, kind=VoucherKind.ITEM, item_label="Massage")
    body = api.get(f"vouchers/{voucher.code}").body
    assert (body["initial_value"], body["balance"]) == (None, None)
    assert (body["initial_quantity"], body["remaining_quantity"]) == (3, 3)


def test_unknown_malformed_and_foreign_codes_get_the_same_answer(api, foreign_shop):
    foreign = issue(foreign_shop)
    answers = [api.get(f"vouchers/{code}") for code in (foreign.code, "ABCD-EFGH-JKMN-PQRS", "not-a-code", "0")]
    assert {answer.status for answer in answers} == {404}
    assert len({str(answer.body) for answer in answers}) == 1
    assert answers[0].body["code"] == "not_found"


def test_validate_wrong_location_says_so(api, shop):
    voucher = issue(shop, 5000, location_ids=[shop.front.pk])
    body = api.get(f"vouchers/{voucher.code}?location=back").body
    assert body["not_redeemable_reason"] == "wrong_location"
    assert api.get(f"vouchers/{voucher.code}?location=front").body["is_redeemable"] is True


# ---- auth and scopes ------------------------------------------------------------------------------------------


def test_missing_bad_and_revoked_tokens_are_401(shop):
    voucher = issue(shop)
    assert Api(Client(), None).get(f"vouchers/{voucher.code}").status == 401
    assert Api(Client(), "vsk_nonsense").get(f"vouchers/{voucher.code}").status == 401
    response = Api(Client(), None).get(f"vouchers/{voucher.code}", headers={"authorization": "Token abc"})
    assert response.status == 401
    assert response.body["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    from redemption.models import ApiToken

    secret = token_for(shop)
    token = ApiToken.objects.get(prefix=secret[:12])
    api_token_revoke(merchant_id=shop.merchant.pk, token_id=token.pk)
    assert Api(Client(), secret).get(f"vouchers/{voucher.code}").status == 401


def test_missing_scope_is_403_and_changes_nothing(shop):
    voucher = issue(shop)
    read_only = Api(Client(), token_for(shop, scopes=[Scope.VOUCHERS_READ]))
    write_only = Api(Client(), token_for(shop, scopes=[Scope.REDEMPTIONS_WRITE]))
    rows = ledger_rows()
    response = read_only.post(f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "EUR"})
    assert response.status == 403
    assert response.body["code"] == "forbidden"
    assert read_only.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}).status == 403
    assert write_only.get(f"vouchers/{voucher.code}").status == 403
    assert write_only.get(f"vouchers/{voucher.code}/transactions").status == 403
    assert ledger_rows() == rows
    assert not Hold.objects.exists()


# ---- tenant walls: every endpoint with another merchant's token -> 404, nothing changed ---------------------------


def test_every_endpoint_with_another_merchants_token_is_404_and_changes_nothing(api, shop, foreign_api):
    voucher = issue(shop, 5000)
    redemption_id = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR"}).body["redemption"][
        "id"
    ]
    hold_id = api.post(f"vouchers/{voucher.code}/holds", {"amount": 500, "currency": "EUR"}).body["hold"]["id"]
    rows, balance = ledger_rows(), 4000

    calls = [
        foreign_api.get(f"vouchers/{voucher.code}"),
        foreign_api.get(f"vouchers/{voucher.code}/transactions"),
        foreign_api.post(f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "EUR"}),
        foreign_api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}),
        foreign_api.post(f"redemptions/{redemption_id}/reverse"),
        foreign_api.post(f"holds/{hold_id}/capture"),
        foreign_api.delete(f"holds/{hold_id}"),
    ]

    assert [call.status for call in calls] == [404] * 7
    assert {call.body["code"] for call in calls} == {"not_found"}
    voucher.refresh_from_db()
    assert voucher.balance == balance
    assert ledger_rows() == rows
    assert Redemption.objects.get().reversed_at is None
    assert Hold.objects.get().status == HoldStatus.LIVE


# ---- location-bound tokens ------------------------------------------------------------------------------------


def test_location_bound_token_is_403_at_another_location(shop):
    voucher = issue(shop, 5000)
    front = Api(Client(), token_for(shop, location=shop.front))
    back = Api(Client(), token_for(shop, location=shop.back))
    rows = ledger_rows()

    assert (
        front.post(f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "EUR", "location": "back"}).status
        == 403
    )
    assert (
        front.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR", "location": "back"}).status
        == 403
    )
    forbidden = front.get(f"vouchers/{voucher.code}?location=back")
    assert forbidden.status == 403
    assert forbidden.body["code"] == "location_forbidden"
    assert ledger_rows() == rows

    # A row made at the back counter is out of the front token's reach, too.
    redemption_id = back.post(f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "EUR"}).body["redemption"][
        "id"
    ]
    hold_id = back.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}).body["hold"]["id"]
    rows = ledger_rows()
    assert front.post(f"redemptions/{redemption_id}/reverse").status == 403
    assert front.post(f"holds/{hold_id}/capture").status == 403
    assert front.delete(f"holds/{hold_id}").status == 403
    assert ledger_rows() == rows
    assert Redemption.objects.get().location == shop.back


def test_location_bound_token_redeems_at_its_location_by_default(shop):
    voucher = issue(shop, 5000)
    front = Api(Client(), token_for(shop, location=shop.front))
    response = front.post(f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "EUR"})
    assert response.status == 201
    assert response.body["redemption"]["location"] == "front"


# ---- redeem ---------------------------------------------------------------------------------------------------


def test_redeem_part_then_reverse_restores_exactly(api, shop):
    voucher = issue(shop, 5000)
    response = api.post(
        f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR", "reference": "R-1", "location": "front"}
    )
    assert response.status == 201
    redemption = response.body["redemption"]
    assert redemption["amount"] == 1500
    assert redemption["quantity"] is None
    assert redemption["location"] == "front"
    assert redemption["reference"] == "R-1"
    assert redemption["reversed_at"] is None
    assert response.body["voucher"]["balance"] == 3500

    reversed_ = api.post(f"redemptions/{redemption['id']}/reverse")
    assert reversed_.status == 200
    assert reversed_.body["redemption"]["reversed_at"] is not None
    assert reversed_.body["voucher"]["balance"] == 5000
    voucher.refresh_from_db()
    assert voucher.balance == ledger_sum(voucher.pk) == 5000


def test_reverse_twice_is_409_and_restores_once(api, shop):
    voucher = issue(shop, 5000)
    redemption_id = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}).body["redemption"][
        "id"
    ]
    assert api.post(f"redemptions/{redemption_id}/reverse").status == 200
    again = api.post(f"redemptions/{redemption_id}/reverse")
    assert again.status == 409
    assert again.body["code"] == "already_reversed"
    voucher.refresh_from_db()
    assert voucher.balance == 5000


def test_redeem_more_than_the_balance_is_409_insufficient_balance(api, shop):
    voucher = issue(shop, 1000)
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1001, "currency": "EUR"})
    assert response.status == 409
    assert response.body["code"] == "insufficient_balance"
    assert response.body["available"] == 1000
    voucher.refresh_from_db()
    assert voucher.balance == 1000


def test_redeem_spent_voucher_is_409_not_redeemable_with_reason(api, shop):
    voucher = issue(shop, 1000)
    assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR"}).status == 201
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1, "currency": "EUR"})
    assert response.status == 409
    assert (response.body["code"], response.body["reason"]) == ("not_redeemable", "spent")


def test_redeem_item_voucher_by_quantity_and_refuses_an_amount(api, shop):
    voucher = issue(shop, 3, kind=VoucherKind.ITEM, item_label="Massage")
    wrong = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1, "currency": "EUR"})
    assert wrong.status == 422
    response = api.post(f"vouchers/{voucher.code}/redeem", {"quantity": 1})
    assert response.status == 201
    assert (response.body["redemption"]["quantity"], response.body["redemption"]["amount"]) == (1, None)
    assert response.body["voucher"]["remaining_quantity"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": 10, "quantity": 1}, "amount"),
        ({"amount": 10**30}, "amount"),
        ({"amount": 10, "reference": "x" * 300}, "reference"),
        ({"amount": 10, "location": "nowhere"}, "location"),
        ({"amount": 10, "currency": "USD"}, "currency"),
    ],
)
def test_invalid_fields_are_422_per_field_and_change_nothing(api, shop, body, field):
    voucher = issue(shop, 5000)
    rows = ledger_rows()
    response = api.post(f"vouchers/{voucher.code}/redeem", body)
    assert response.status == 422
    assert field in response.body["errors"]
    assert ledger_rows() == rows


@pytest.mark.parametrize("raw", ["{", "not json", '{"amount": 10,}', "\x00"])
def test_malformed_json_is_400(api, shop, raw):
    voucher = issue(shop, 5000)
    response = api.post(f"vouchers/{voucher.code}/redeem", raw=raw)
    assert response.status == 400
    assert response.body["code"] == "malformed_json"


@pytest.mark.parametrize("raw", ["[]", "1", '"amount"', "null"])
def test_json_that_is_not_an_object_is_422(api, shop, raw):
    voucher = issue(shop, 5000)
    assert api.post(f"vouchers/{voucher.code}/redeem", raw=raw).status == 422


@pytest.mark.parametrize("rid", ["0", "-1", "abc", str(2**70), "1e5"])
def test_odd_ids_are_404_not_500(api, rid):
    assert api.post(f"redemptions/{rid}/reverse").status == 404
    assert api.post(f"holds/{rid}/capture").status == 404
    assert api.delete(f"holds/{rid}").status == 404


def test_unknown_api_path_is_json_404(api):
    response = api.get("nothing/here")
    assert response.status == 404
    assert response.body["code"] == "not_found"


def test_writes_to_an_unknown_api_path_are_json_404_not_a_csrf_page(api):
    assert api.client.handler.enforce_csrf_checks
    for response in (api.post("nothing/here", {"amount": 1}), api.delete("nothing/here")):
        assert response.status == 404
        assert response.body["code"] == "not_found"


def test_transactions_newest_first(api, shop):
    voucher = issue(shop, 5000)
    api.post(
        f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR", "location": "front", "reference": "R-9"}
    )
    body = api.get(f"vouchers/{voucher.code}/transactions").body
    kinds = [row["kind"] for row in body["transactions"]]
    assert kinds == ["redeem", "issue"]
    first = body["transactions"][0]
    assert (first["amount"], first["balance_after"], first["location"], first["currency"]) == (
        -1000,
        4000,
        "front",
        "EUR",
    )


# ---- holds ----------------------------------------------------------------------------------------------------


def test_hold_reserves_value_from_other_redemptions(api, shop):
    voucher = issue(shop, 5000)
    response = api.post(f"vouchers/{voucher.code}/holds", {"amount": 4000, "currency": "EUR"})
    assert response.status == 201
    assert response.body["voucher"]["redeemable_amount"] == 1000
    assert set(response.body["hold"]) >= {"id", "amount", "expires_at"}
    blocked = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"})
    assert blocked.status == 409
    assert blocked.body["code"] == "insufficient_balance"
    assert api.post(f"vouchers/{voucher.code}/holds", {"amount": 1001, "currency": "EUR"}).status == 409
    assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR"}).status == 201


def test_hold_capture_less_frees_the_rest(api, shop):
    voucher = issue(shop, 5000)
    hold_id = api.post(f"vouchers/{voucher.code}/holds", {"amount": 3000, "currency": "EUR"}).body["hold"]["id"]
    too_much = api.post(f"holds/{hold_id}/capture", {"amount": 3001, "currency": "EUR"})
    assert too_much.status == 422
    captured = api.post(f"holds/{hold_id}/capture", {"amount": 2000, "currency": "EUR"})
    assert captured.status == 201
    assert captured.body["redemption"]["amount"] == 2000
    assert captured.body["voucher"]["balance"] == 3000
    assert captured.body["voucher"]["redeemable_amount"] == 3000
    again = api.post(f"holds/{hold_id}/capture")
    assert again.status == 409
    assert again.body["code"] == "hold_not_live"


def test_hold_release_frees_it_and_is_204(api, shop):
    voucher = issue(shop, 5000)
    hold_id = api.post(f"vouchers/{voucher.code}/holds", {"amount": 5000, "currency": "EUR"}).body["hold"]["id"]
    response = api.delete(f"holds/{hold_id}")
    assert response.status == 204
    assert response.body is None
    assert Hold.objects.get().status == HoldStatus.RELEASED
    assert api.get(f"vouchers/{voucher.code}").body["redeemable_amount"] == 5000
    assert api.post(f"holds/{hold_id}/capture").status == 409


def test_holds_expire_by_the_clock(api, shop):
    voucher = issue(shop, 5000)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        hold_id = api.post(
            f"vouchers/{voucher.code}/holds", {"amount": 5000, "currency": "EUR", "ttl_seconds": 60}
        ).body["hold"]["id"]
        assert api.get(f"vouchers/{voucher.code}").body["redeemable_amount"] == 0
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert api.get(f"vouchers/{voucher.code}").body["redeemable_amount"] == 5000
        late = api.post(f"holds/{hold_id}/capture")
        assert late.status == 409
        assert late.body["code"] == "hold_expired"
        assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 5000, "currency": "EUR"}).status == 201
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.SPENT


def test_hold_ttl_defaults_to_ten_minutes_and_is_at_most_an_hour(api, shop):
    voucher = issue(shop, 5000)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"})
    assert Hold.objects.get().expires_at == start + timedelta(minutes=10)
    too_long = api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR", "ttl_seconds": 3601})
    assert too_long.status == 422
    assert "ttl_seconds" in too_long.body["errors"]


# ---- docs -----------------------------------------------------------------------------------------------------


def test_schema_and_docs_are_served_without_a_token(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/vouchers/{code}/redeem" in paths
    assert "/api/v1/holds/{id}" in paths
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert "/api/v1/redemptions/{id}/reverse" in docs.content.decode()


@pytest.mark.parametrize("slug", ["\x00", "a\x00b", "ü" * 3, "x" * 300, "../etc"])
def test_odd_location_slugs_are_422_not_500(api, shop, slug):
    voucher = issue(shop, 5000)
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 10, "currency": "EUR", "location": slug})
    assert response.status == 422
    query = api.client.get(
        f"/api/v1/vouchers/{voucher.code}", {"location": slug}, headers={"authorization": f"Bearer {api.secret}"}
    )
    assert query.status_code == 422


def test_control_characters_in_the_idempotency_key_are_422(api, shop):
    voucher = issue(shop, 5000)
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 10, "currency": "EUR"}, key="bad\x00key")
    assert response.status == 422
    assert not Redemption.objects.exists()


def test_nul_in_the_reference_is_422(api, shop):
    voucher = issue(shop, 5000)
    assert (
        api.post(f"vouchers/{voucher.code}/redeem", {"amount": 10, "currency": "EUR", "reference": "a\x00b"}).status
        == 422
    )
