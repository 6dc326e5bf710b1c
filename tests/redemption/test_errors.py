"""Redemption's domain errors: the API answers with each error's own status and code, and their messages are
translated like the vouchers ones."""

import pytest
from django.utils import translation
from rest_framework.response import Response

from core.errors import DomainError
from redemption import errors
from redemption.api_errors import exception_handler
from vouchers import errors as voucher_errors

# The statuses the API has always answered each domain error with (the contract of docs/api).
STATUS = {
    voucher_errors.VoucherNotFound: 404,
    voucher_errors.LedgerEntryNotFound: 404,
    errors.RedemptionNotFound: 404,
    errors.HoldNotFound: 404,
    errors.LocationForbidden: 403,
    errors.ReversalWindowClosed: 403,
    errors.ReasonRequired: 422,
    errors.InvalidTtl: 422,
    errors.LocationNotFound: 422,
    errors.CurrencyRequired: 422,
    voucher_errors.InvalidAmount: 422,
    voucher_errors.CurrencyMismatch: 422,
    voucher_errors.IdempotencyConflict: 422,
    voucher_errors.InsufficientBalance: 409,
    voucher_errors.AlreadyReversed: 409,
    voucher_errors.NotReversible: 409,
    voucher_errors.InvalidTransition: 409,
    errors.HoldExpired: 409,
    errors.HoldNotLive: 409,
}
FIELD = {
    errors.ReasonRequired: "reason",
    errors.InvalidTtl: "ttl_seconds",
    errors.LocationNotFound: "location",
    errors.CurrencyRequired: "currency",
    voucher_errors.InvalidAmount: "amount",
    voucher_errors.CurrencyMismatch: "currency",
}


@pytest.mark.parametrize(("cls", "status"), STATUS.items(), ids=lambda value: getattr(value, "__name__", str(value)))
def test_the_api_answers_each_error_with_its_status_code_and_field(cls, status):
    answer = exception_handler(cls(), {})
    assert isinstance(answer, Response)
    assert answer.status_code == status
    assert answer.data["code"] == cls.code
    if cls in FIELD:
        assert answer.data["errors"] == {FIELD[cls]: [answer.data["message"]]}
    else:
        assert "errors" not in answer.data


def test_the_status_comes_from_the_error_itself():
    class Teapot(DomainError):
        code = "teapot"
        status = 418
        field = "pot"
        default_message = "Short and stout."

    answer = exception_handler(Teapot(), {})
    assert answer is not None
    assert (answer.status_code, answer.data) == (
        418,
        {"code": "teapot", "message": "Short and stout.", "errors": {"pot": ["Short and stout."]}},
    )


def test_throttled_and_not_redeemable_keep_their_extras():
    throttled = exception_handler(errors.CodeGuessingThrottled(retry_after=30), {})
    assert throttled is not None
    assert (throttled.status_code, throttled.headers["Retry-After"], throttled.data["code"]) == (429, "30", "throttled")
    refused = exception_handler(voucher_errors.NotRedeemable("expired"), {})
    assert refused is not None
    assert (refused.status_code, refused.data["reason"]) == (409, "expired")


@pytest.mark.parametrize(
    ("cls", "german"),
    [
        (errors.HoldNotFound, "Diese Reservierung gibt es nicht."),
        (errors.LocationForbidden, "Dieser Token oder diese Anmeldung ist für diesen Standort nicht berechtigt."),
        (errors.InvalidTtl, "Eine Reservierung dauert zwischen 1 Sekunde und 60 Minuten."),
        (errors.CodeGuessingThrottled, None),
        (errors.ReasonRequired, None),
        (errors.ReversalWindowClosed, None),
        (errors.CurrencyRequired, None),
        (errors.HoldExpired, None),
        (errors.HoldNotLive, None),
        (errors.InvalidScope, None),
        (errors.LocationNotFound, None),
        (errors.RedemptionError, None),
        (errors.RedemptionNotFound, None),
    ],
    ids=lambda value: getattr(value, "__name__", "-"),
)
def test_redemption_error_messages_are_translated(cls, german):
    kwargs = {"retry_after": 5} if cls is errors.CodeGuessingThrottled else {}
    with translation.override("de"):
        in_german = cls(**kwargs).message
    with translation.override("en"):
        in_english = cls(**kwargs).message
        assert in_english == str(cls.default_message)
    assert in_german != in_english
    if german:
        assert in_german == german


@pytest.mark.django_db
def test_the_api_answers_in_the_clients_language_with_the_same_code_and_status(api):
    english = api.delete("holds/424242", key="k-en")
    german = api.client.delete(
        "/api/v1/holds/424242", headers={"authorization": f"Bearer {api.secret}", "accept-language": "de"}
    )
    assert (english.status, english.body["code"]) == (german.status_code, german.json()["code"]) == (404, "not_found")
    assert english.body["message"] == "No such hold."
    assert german.json()["message"] == "Diese Reservierung gibt es nicht."
