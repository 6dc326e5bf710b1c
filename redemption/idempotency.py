"""Idempotent API writes: the first response to an ``Idempotency-Key`` (per token) is stored and replayed.

The record is created, and committed, before the work starts; a second request with the key finds it: in
flight -> 409 ``idempotency_key_in_use``; done with the same request -> the stored status and body; done with a
different request -> 422 ``idempotency_key_reused``.

Only what the operation executed is stored (as Stripe does): its result, or the conflict with the voucher's state it
ran into (409, 404, 403). Answers given before the operation could run are not, so that a retry with the same key
runs again: a throttled request (429, to be retried after Retry-After), a body that does not parse or validate
(400, 413, 415, 422: the client fixes it and may reuse the key), and server errors. A concurrent duplicate's 409
never touches the first request's record.

On PostgreSQL the record's own commits do not wait for the disk (``synchronous_commit`` off for those
transactions only): they are visible to other requests at once, and the write-ahead log is flushed in order, so
the synchronous commit of the redemption that follows makes the new record durable too. Only the final "done"
may be lost in a crash of the database within a fraction of a second; the record then stays in flight (409) until
it is purged as stale, and the ledger's own key still prevents a second redemption. The record's INSERT and UPDATE
are written as SQL in ``redemption.sql``.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from redemption import sql
from redemption.api_errors import error_body
from redemption.models import ApiToken, IdempotencyRecord, IdempotencyState

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Answers given before the operation ran: never stored under the key (see the module's docstring).
NOT_STORED = frozenset(
    {
        status.HTTP_400_BAD_REQUEST,
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        status.HTTP_422_UNPROCESSABLE_ENTITY,
        status.HTTP_429_TOO_MANY_REQUESTS,
    }
)


def is_stored(response: Response) -> bool:
    """Whether ``response`` is kept under its Idempotency-Key and replayed to retries."""
    return response.status_code < 500 and response.status_code not in NOT_STORED


def request_fingerprint(request: Request) -> str:
    """Method, path and body; the body as canonical JSON when it parses, so that spacing does not matter. The API
    reads at most ``redemption.apis.MAX_BODY_BYTES`` of body, so this costs little whatever was sent."""
    raw = request._request.body
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to walk: the bytes as they came
        body = raw
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0" + request.path.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def idempotent(request: Request, token: ApiToken, run: Callable[[], Response]) -> Response:
    """Run ``run`` once per (token, key); without the header it simply runs."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return run()
    if len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        return Response(
            error_body(
                "invalid",
                "The Idempotency-Key header is invalid.",
                errors={HEADER: [f"At most {MAX_KEY_LENGTH} printable ASCII characters."]},
            ),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    fingerprint = request_fingerprint(request)
    try:
        record_id = sql.idempotency_record_insert(
            token_id=token.pk,
            key=key,
            fingerprint=fingerprint,
            state=IdempotencyState.IN_FLIGHT.value,
            now=timezone.now(),
        )
    except IntegrityError:
        return _answer_existing(token, key, fingerprint)
    try:
        response = run()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record_id).delete()
        raise
    if not is_stored(response):
        IdempotencyRecord.objects.filter(pk=record_id).delete()
        return response
    sql.idempotency_record_finish(
        record_id=record_id,
        state=IdempotencyState.DONE.value,
        status_code=response.status_code,
        response_body=response.data,
    )
    return response


def _answer_existing(token: ApiToken, key: str, fingerprint: str) -> Response:
    existing = IdempotencyRecord.objects.filter(api_token=token, key=key).first()
    if existing is None:
        # The first request failed and let go of the key between our insert and this read: let the client retry.
        return _in_use()
    if existing.fingerprint != fingerprint:
        return Response(
            error_body("idempotency_key_reused", "This Idempotency-Key was used for a different request."),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if existing.state != IdempotencyState.DONE or existing.status_code is None:
        return _in_use()
    return Response(existing.response_body, status=existing.status_code, headers={"Idempotent-Replayed": "true"})


def _in_use() -> Response:
    return Response(
        error_body("idempotency_key_in_use", "A request with this Idempotency-Key is still in progress."),
        status=status.HTTP_409_CONFLICT,
    )
