"""Idempotent API writes: the first response to an ``Idempotency-Key`` (per token) is stored and replayed.

The record is created, and committed, before the work starts; a second request with the key finds it: in
flight -> 409 ``idempotency_key_in_use``; done with the same request -> the stored status and body; done with a
different request -> 422 ``idempotency_key_reused``. Server errors are not stored, so a retry runs again.

On PostgreSQL the record's own commits do not wait for the disk (``synchronous_commit`` off for those
transactions only): they are visible to other requests at once, and the write-ahead log is flushed in order, so
the synchronous commit of the redemption that follows makes the new record durable too. Only the final "done"
may be lost in a crash of the database within a fraction of a second; the record then stays in flight (409) until
it is purged as stale, and the ledger's own key still prevents a second redemption.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from redemption.api_errors import error_body
from redemption.models import ApiToken, IdempotencyRecord, IdempotencyState

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_fingerprint(request: Request) -> str:
    """Method, path and body; the body as canonical JSON when it parses, so that spacing does not matter."""
    raw = request._request.body
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0" + request.path.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


@contextmanager
def _record_transaction() -> Iterator[None]:
    """A transaction for the record alone; on PostgreSQL its commit does not wait for the disk."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


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
        with _record_transaction():
            record = IdempotencyRecord.objects.create(api_token=token, key=key, fingerprint=fingerprint)
    except IntegrityError:
        return _answer_existing(token, key, fingerprint)
    try:
        response = run()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return response
    with _record_transaction():
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyState.DONE, status_code=response.status_code, response_body=response.data
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
