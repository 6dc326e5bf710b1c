"""Idempotency-Key on API writes: replay, conflict, in flight, scope per token, and the keeping time."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from redemption.models import IdempotencyRecord, IdempotencyState, Redemption
from redemption.services import idempotency_records_purge
from tests.redemption.conftest import Api, issue, token_for
from vouchers.models import VoucherTransaction

pytestmark = pytest.mark.django_db


def test_same_key_and_body_replays_the_first_response(api, shop):
    voucher = issue(shop, 5000)
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500}, key="k-1")
    # Key order and spacing do not make a different request.
    second = api.post(f"vouchers/{voucher.code}/redeem", raw='{ "amount" : 1500 }', key="k-1")
    assert first.status == second.status == 201
    assert second.body == first.body
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert Redemption.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.balance == 3500


def test_same_key_with_another_body_is_422_and_changes_nothing(api, shop):
    voucher = issue(shop, 5000)
    api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500}, key="k-1")
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1600}, key="k-1")
    assert response.status == 422
    assert response.body["code"] == "idempotency_key_reused"
    other_path = api.post(f"vouchers/{voucher.code}/holds", {"amount": 1500}, key="k-1")
    assert other_path.status == 422
    voucher.refresh_from_db()
    assert voucher.balance == 3500


def test_key_still_in_flight_is_409(api, shop):
    voucher = issue(shop, 5000)
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500}, key="k-busy")
    # Put the record back in the state the first request leaves while it is still running.
    IdempotencyRecord.objects.filter(key="k-busy").update(
        state=IdempotencyState.IN_FLIGHT, status_code=None, response_body=None
    )
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500}, key="k-busy")
    assert first.status == 201
    assert response.status == 409
    assert response.body["code"] == "idempotency_key_in_use"
    assert Redemption.objects.count() == 1


def test_errors_are_replayed_too(api, shop):
    voucher = issue(shop, 1000)
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 2000}, key="k-2")
    assert first.status == 409
    again = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 2000}, key="k-2")
    assert (again.status, again.body) == (first.status, first.body)
    assert IdempotencyRecord.objects.get(key="k-2").state == IdempotencyState.DONE


def test_keys_are_scoped_to_the_token(api, shop):
    voucher = issue(shop, 5000)
    other = Api(Client(), token_for(shop))
    assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000}, key="same").status == 201
    assert other.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000}, key="same").status == 201
    assert Redemption.objects.count() == 2


def test_every_write_replays(api, shop):
    voucher = issue(shop, 5000)
    hold = api.post(f"vouchers/{voucher.code}/holds", {"amount": 1000}, key="h")
    assert api.post(f"vouchers/{voucher.code}/holds", {"amount": 1000}, key="h").body == hold.body
    hold_id = hold.body["hold"]["id"]
    capture = api.post(f"holds/{hold_id}/capture", {}, key="c")
    assert api.post(f"holds/{hold_id}/capture", {}, key="c").body == capture.body
    redemption_id = capture.body["redemption"]["id"]
    reverse = api.post(f"redemptions/{redemption_id}/reverse", key="r")
    replay = api.post(f"redemptions/{redemption_id}/reverse", key="r")
    assert (replay.status, replay.body) == (200, reverse.body)
    hold_2 = api.post(f"vouchers/{voucher.code}/holds", {"amount": 10}).body["hold"]["id"]
    assert api.delete(f"holds/{hold_2}", key="d").status == 204
    assert api.delete(f"holds/{hold_2}", key="d").status == 204
    assert VoucherTransaction.objects.filter(voucher=voucher).count() == 3  # issue, redeem, reverse


def test_overlong_key_is_422(api, shop):
    voucher = issue(shop, 5000)
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1}, key="k" * 256)
    assert response.status == 422
    assert Redemption.objects.count() == 0


def test_records_are_kept_a_day_and_purged_later(api, shop):
    voucher = issue(shop, 5000)
    api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000}, key="old")
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert idempotency_records_purge() == 0
        replay = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000}, key="old")
        assert replay.headers.get("Idempotent-Replayed") == "true"
    with time_machine.travel(timezone.now() + timedelta(hours=49), tick=False):
        assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_records_commit_on_their_own_and_leave_the_connection_waiting_for_the_disk(shop):
    """Outside a transaction the record's statements commit by themselves, without waiting for the disk; that
    setting must end with them, or every later commit on the persistent connection would be at risk."""
    from django.db import connection

    api = Api(Client(), token_for(shop))
    voucher = issue(shop, 5000)
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 700}, key="k-durable")
    replay = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 700}, key="k-durable")

    assert first.status == replay.status == 201
    assert replay.body == first.body
    record = IdempotencyRecord.objects.get(key="k-durable")
    assert (record.state, record.status_code, record.response_body) == (IdempotencyState.DONE, 201, first.body)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
