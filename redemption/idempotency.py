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
it is purged as stale, and the ledger's own key still prevents a second redemption.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

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


def _write_record(statement: Callable[[], Any]) -> Any:
    """Run the record's INSERT or UPDATE as a transaction of its own.

    Outside a transaction the statement commits by itself, and on PostgreSQL without waiting for the disk:
    ``set_config(..., true)`` in the statement applies to its own implicit transaction, so the commit costs no extra
    round trips. Inside a caller's transaction (a test's, say) it runs in a savepoint instead, so that a duplicate
    key does not break that transaction, and the caller's commit is left as it is.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            return statement()
    return statement()


def _async_commit() -> str:
    """A FROM item that turns off waiting for the disk for the statement's own transaction, on PostgreSQL."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
    return ""


def _names(*attnames: str) -> list[str]:
    """The quoted table and columns of IdempotencyRecord."""
    quote = connection.ops.quote_name
    meta = IdempotencyRecord._meta
    columns = {field.attname: str(field.column) for field in meta.concrete_fields}
    return [quote(str(meta.db_table)), *(quote(columns[name]) for name in attnames)]


def _insert_record(token: ApiToken, key: str, fingerprint: str) -> int:
    table, *columns = _names("api_token_id", "key", "fingerprint", "state", "created_at", "id")
    *inserted, pk = columns

    def insert() -> int:
        returning = connection.features.can_return_columns_from_insert  # SQLite before 3.35 cannot
        sql = f"INSERT INTO {table} ({', '.join(inserted)}) SELECT %s, %s, %s, %s, %s{_async_commit()}" + (
            f" RETURNING {pk}" if returning else ""
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [token.pk, key, fingerprint, IdempotencyState.IN_FLIGHT.value, now])
            return int(cursor.fetchone()[0] if returning else cursor.lastrowid)

    return int(_write_record(insert))


def _finish_record(record_id: int, response: Response) -> None:
    table, state, status_code, response_body, pk = _names("state", "status_code", "response_body", "id")
    body = IdempotencyRecord._meta.get_field("response_body").get_db_prep_save(  # JSON, as the ORM writes it
        response.data, connection
    )

    def update() -> None:
        sql = (
            f"UPDATE {table} SET {state} = %s, {status_code} = %s, {response_body} = %s"  # noqa: S608 (no input)
            f"{_async_commit()} WHERE {table}.{pk} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [IdempotencyState.DONE.value, response.status_code, body, record_id])

    _write_record(update)


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
        record_id = _insert_record(token, key, fingerprint)
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
    _finish_record(record_id, response)
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
