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
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-1")
    # Key order and spacing do not make a different request.
    second = api.post(f"vouchers/{voucher.code}/redeem", raw='{ "currency" : "EUR", "amount" : 1500 }', key="k-1")
    assert first.status == second.status == 201
    assert second.body == first.body
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert Redemption.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.balance == 3500


def test_same_key_with_another_body_is_422_and_changes_nothing(api, shop):
    voucher = issue(shop, 5000)
    api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-1")
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1600, "currency": "EUR"}, key="k-1")
    assert response.status == 422
    assert response.body["code"] == "idempotency_key_reused"
    other_path = api.post(f"vouchers/{voucher.code}/holds", {"amount": 1500, "currency": "EUR"}, key="k-1")
    assert other_path.status == 422
    voucher.refresh_from_db()
    assert voucher.balance == 3500


def test_key_still_in_flight_is_409(api, shop):
    voucher = issue(shop, 5000)
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-busy")
    # Put the record back in the state the first request leaves while it is still running.
    IdempotencyRecord.objects.filter(key="k-busy").update(
        state=IdempotencyState.IN_FLIGHT, status_code=None, response_body=None
    )
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-busy")
    assert first.status == 201
    assert response.status == 409
    assert response.body["code"] == "idempotency_key_in_use"
    assert Redemption.objects.count() == 1


def test_errors_are_replayed_too(api, shop):
    voucher = issue(shop, 1000)
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 2000, "currency": "EUR"}, key="k-2")
    assert first.status == 409
    again = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 2000, "currency": "EUR"}, key="k-2")
    assert (again.status, again.body) == (first.status, first.body)
    assert IdempotencyRecord.objects.get(key="k-2").state == IdempotencyState.DONE


def test_keys_are_scoped_to_the_token(api, shop):
    voucher = issue(shop, 5000)
    other = Api(Client(), token_for(shop))
    assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR"}, key="same").status == 201
    assert other.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR"}, key="same").status == 201
    assert Redemption.objects.count() == 2


def test_every_write_replays(api, shop):
    voucher = issue(shop, 5000)
    hold = api.post(f"vouchers/{voucher.code}/holds", {"amount": 1000, "currency": "EUR"}, key="h")
    assert api.post(f"vouchers/{voucher.code}/holds", {"amount": 1000, "currency": "EUR"}, key="h").body == hold.body
    hold_id = hold.body["hold"]["id"]
    capture = api.post(f"holds/{hold_id}/capture", {}, key="c")
    assert api.post(f"holds/{hold_id}/capture", {}, key="c").body == capture.body
    redemption_id = capture.body["redemption"]["id"]
    reverse = api.post(f"redemptions/{redemption_id}/reverse", key="r")
    replay = api.post(f"redemptions/{redemption_id}/reverse", key="r")
    assert (replay.status, replay.body) == (200, reverse.body)
    hold_2 = api.post(f"vouchers/{voucher.code}/holds", {"amount": 10, "currency": "EUR"}).body["hold"]["id"]
    assert api.delete(f"holds/{hold_2}", key="d").status == 204
    assert api.delete(f"holds/{hold_2}", key="d").status == 204
    assert VoucherTransaction.objects.filter(voucher=voucher).count() == 3  # issue, redeem, reverse


def test_overlong_key_is_422(api, shop):
    voucher = issue(shop, 5000)
    response = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1, "currency": "EUR"}, key="k" * 256)
    assert response.status == 422
    assert Redemption.objects.count() == 0


def test_records_are_kept_a_day_and_purged_later(api, shop):
    voucher = issue(shop, 5000)
    api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR"}, key="old")
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert idempotency_records_purge() == 0
        replay = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1000, "currency": "EUR"}, key="old")
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
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 700, "currency": "EUR"}, key="k-durable")
    replay = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 700, "currency": "EUR"}, key="k-durable")

    assert first.status == replay.status == 201
    assert replay.body == first.body
    record = IdempotencyRecord.objects.get(key="k-durable")
    assert (record.state, record.status_code, record.response_body) == (IdempotencyState.DONE, 201, first.body)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


# -- only what the operation executed is stored -------------------------------------------------------------------

UNKNOWN = "0000-0000-0000-0000"


def test_a_throttled_write_is_not_stored_so_the_retry_after_the_wait_runs(api, shop):
    voucher = issue(shop, 5000)
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        assert [api.get(f"vouchers/{UNKNOWN}").status for _ in range(10)] == [404] * 10
        throttled = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="till-7")
        assert throttled.status == 429
        wait = int(throttled.headers["Retry-After"])
    assert not IdempotencyRecord.objects.filter(key="till-7").exists()
    with time_machine.travel(start + timedelta(seconds=wait + 1), tick=False):
        retry = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="till-7")
    assert retry.status == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert Redemption.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.balance == 3500


@pytest.mark.parametrize(
    "bad",
    [
        {"raw": '{"amount": 15'},  # does not parse: 400
        {"body": {"amount": "lots"}},  # does not validate: 422
        {"body": {"amount": 0}},
        {"body": {"amount": 1500, "location": "nowhere"}},  # no such location: 422
    ],
)
def test_a_request_that_does_not_parse_or_validate_is_not_stored_and_the_key_stays_usable(api, shop, bad):
    voucher = issue(shop, 5000)
    first = api.post(f"vouchers/{voucher.code}/redeem", bad.get("body"), raw=bad.get("raw"), key="receipt-9")
    assert first.status in (400, 422)
    again = api.post(f"vouchers/{voucher.code}/redeem", bad.get("body"), raw=bad.get("raw"), key="receipt-9")
    assert (again.status, again.body) == (first.status, first.body)
    assert "Idempotent-Replayed" not in again.headers
    assert not IdempotencyRecord.objects.filter(key="receipt-9").exists()
    # The till corrects the request and sends it with the same key: it runs, once.
    fixed = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="receipt-9")
    assert fixed.status == 201
    replay = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="receipt-9")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert Redemption.objects.count() == 1


def test_the_in_flight_answer_leaves_the_first_requests_record_alone(api, shop):
    voucher = issue(shop, 5000)
    first = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-busy")
    IdempotencyRecord.objects.filter(key="k-busy").update(
        state=IdempotencyState.IN_FLIGHT, status_code=None, response_body=None
    )
    assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-busy").status == 409
    record = IdempotencyRecord.objects.get(key="k-busy")
    assert (record.state, record.status_code, record.response_body) == (IdempotencyState.IN_FLIGHT, None, None)
    # The first request finishes: its answer, not the 409, is what retries get.
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyState.DONE, status_code=first.status, response_body=first.body
    )
    replay = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1500, "currency": "EUR"}, key="k-busy")
    assert (replay.status, replay.body) == (201, first.body)
