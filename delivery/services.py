"""The only writer of deliveries: schedule the emails a voucher owes, send them, retry, sweep and track them.

The row says what is owed; Celery messages only wake a worker up. A send locks the row, claims it
(``sending`` + ``claimed_at``), commits, and talks to the mail server with no transaction or lock held; then it
records the outcome on the row only if the claim is still its own. The sweeper queues what is due and takes
back rows whose message or worker was lost; it claims rows with ``SKIP LOCKED`` and a state change, so any
number of sweepers at any time queue each row once.

Bad news on a row (a permanent failure, a bounce, a complaint) also owes the merchant an alert email. It is owed
while ``alert_next_attempt_at`` is set and due when that has passed; it is queued (``alert_claimed_at``), claimed,
sent and recorded like the voucher email, retried with the same delays for the same window, and swept by the same
beat task.
"""

import logging
import smtplib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from delivery.errors import DeliveryInFlight, InvalidName, InvalidRecipient, UnknownPurpose
from delivery.models import FINAL_STATUSES, Delivery, DeliveryAttempt, DeliveryStatus, EventKind, Purpose

logger = logging.getLogger(__name__)

# Temporary failures are retried with growing delays (1, 2, 4, ... minutes, at most 6 hours apart) for this long.
RETRY_FOR = timedelta(days=3)
FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
# A row queued this long lost its Celery message; one sending this long lost its worker. Both are longer than the
# task's hard time limit plus the SMTP timeout, so a live worker is never overtaken.
QUEUED_STUCK_AFTER = timedelta(minutes=5)
SENDING_STUCK_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 500


def _event(delivery: Delivery, kind: str, detail: str = "", *, attempt: int | None = None) -> None:
    DeliveryAttempt.objects.create(
        delivery=delivery, kind=kind, detail=detail[:4000], attempt_number=attempt, to_email=delivery.to_email
    )


def _enqueue_on_commit(delivery_id: int) -> None:
    from delivery.tasks import delivery_send_task

    transaction.on_commit(lambda: delivery_send_task.delay(delivery_id))


def _enqueue_alert_on_commit(delivery_id: int) -> None:
    from delivery.tasks import merchant_alert_task

    transaction.on_commit(lambda: merchant_alert_task.delay(delivery_id))


def _validate_address(to_email: str) -> None:
    try:
        validate_email(to_email)
    except ValidationError as error:
        raise InvalidRecipient(to_email=to_email) from error


def validate_name(name: str) -> None:
    """Raise InvalidName when ``name`` holds a control character (CR, LF, NUL, ...) or a line separator: such a
    name breaks the email headers it goes into."""
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in name):
        raise InvalidName(name=name)


def delivery_schedule(
    *,
    voucher_id: int,
    purpose: str,
    to_email: str,
    to_name: str,
    locale: str,
    send_at: datetime | None,
    buyer_name: str = "",
    message: str = "",
) -> Delivery:
    """Record that ``voucher_id`` owes an email for ``purpose``; send it now (after commit) or at ``send_at``.

    Idempotent per (voucher, purpose): calling again returns the existing row and changes nothing. Runs inside
    the caller's transaction. Raises UnknownPurpose and InvalidRecipient.
    """
    if purpose not in Purpose.values:
        raise UnknownPurpose(purpose=purpose)
    _validate_address(to_email)
    now = timezone.now()
    due = send_at is None or send_at <= now
    with transaction.atomic():
        delivery, created = Delivery.objects.get_or_create(
            voucher_id=voucher_id,
            purpose=purpose,
            defaults={
                "to_email": to_email,
                "to_name": to_name,
                "buyer_name": buyer_name,
                "message": message,
                "locale": (locale or "en")[:2],
                "send_at": send_at,
                "status": DeliveryStatus.QUEUED if due else DeliveryStatus.SCHEDULED,
                "claimed_at": now if due else None,
            },
        )
        if not created:
            return delivery
        if due:
            _event(delivery, EventKind.QUEUED)
            _enqueue_on_commit(delivery.pk)
        else:
            _event(delivery, EventKind.SCHEDULED, f"send_at={send_at:%Y-%m-%d %H:%M %Z}" if send_at else "")
    return delivery


@dataclass(frozen=True)
class SendFailure:
    """Why a send failed, and whether trying again can help."""

    permanent: bool
    detail: str


def classify_failure(error: BaseException) -> SendFailure:
    """Temporary: connection errors, timeouts, 4xx replies. Permanent: 5xx replies, refused or invalid addresses."""
    from anymail.exceptions import AnymailError, AnymailInvalidAddress, AnymailRecipientsRefused

    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return SendFailure(permanent=bool(codes) and all(code >= 500 for code in codes), detail=detail)
    if isinstance(error, smtplib.SMTPResponseException):
        return SendFailure(permanent=error.smtp_code >= 500, detail=detail)
    if isinstance(error, AnymailRecipientsRefused | AnymailInvalidAddress | InvalidRecipient):
        return SendFailure(permanent=True, detail=detail)
    if isinstance(error, AnymailError):
        status = getattr(error, "status_code", None)
        # A provider's 4xx (other than rate limits) says the request itself is wrong; retrying will not fix it.
        permanent = status is not None and 400 <= status < 500 and status != 429
        return SendFailure(permanent=permanent, detail=detail)
    if isinstance(error, ValueError):
        # Django raises ValueError for addresses it cannot encode.
        return SendFailure(permanent=True, detail=detail)
    return SendFailure(permanent=False, detail=detail)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: doubling from one minute, capped at six hours."""
    exponent = max(attempts - 1, 0)
    if exponent > 20:
        return MAX_RETRY_DELAY
    return min(FIRST_RETRY_DELAY * (2**exponent), MAX_RETRY_DELAY)


def _is_due(delivery: Delivery, now: datetime) -> bool:
    status = delivery.status
    if status in FINAL_STATUSES:
        return False
    if status == DeliveryStatus.SCHEDULED:
        return delivery.send_at is None or delivery.send_at <= now
    if status == DeliveryStatus.FAILED:
        return delivery.next_attempt_at is not None and delivery.next_attempt_at <= now
    if status == DeliveryStatus.SENDING:
        return delivery.claimed_at is None or delivery.claimed_at <= now - SENDING_STUCK_AFTER
    return status == DeliveryStatus.QUEUED


def _lock_delivery(delivery_id: int) -> Delivery | None:
    """The delivery row, locked for update, with its voucher and merchant; None (logged) when it is gone.

    Only the delivery row is locked: the voucher's lock belongs to the writes that move its value, and a send must
    not hold up a redemption at the counter.
    """
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("voucher", "voucher__merchant")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        logger.warning("delivery %s does not exist", delivery_id)
    return delivery


def _claim(delivery_id: int) -> Delivery | None:
    """Lock the row and move it to ``sending`` if something is owed and nobody else is sending it."""
    with transaction.atomic():
        delivery = _lock_delivery(delivery_id)
        if delivery is None:
            return None
        now = timezone.now()
        if not _is_due(delivery, now):
            return None
        delivery.status = DeliveryStatus.SENDING
        delivery.claimed_at = now
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.save(update_fields=["status", "claimed_at", "attempts", "first_attempt_at", "updated_at"])
        return delivery


def delivery_send(delivery_id: int) -> Delivery | None:
    """Send the email of ``delivery_id`` if it is owed now and not in flight elsewhere; record the outcome.

    Returns the row as recorded, or None when there was nothing to do. Never raises for a failed send: the
    failure is recorded on the row (temporary: retried later; permanent: the merchant is told).
    """
    from delivery.emails import build_delivery_email, send_email

    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    claimed_at = delivery.claimed_at
    attempt = delivery.attempts
    # Outside any transaction: rendering and SMTP may take seconds, and no lock may be held meanwhile.
    try:
        email = build_delivery_email(delivery)
        message_id = send_email(email)
    except Exception as error:
        logger.info("delivery %s attempt %s failed: %s", delivery_id, attempt, error)
        return _record_failure(delivery_id, claimed_at, attempt, classify_failure(error))
    return _record_sent(delivery_id, claimed_at, attempt, message_id, delivery.to_email)


def _owned_claim(delivery_id: int, claimed_at: datetime | None) -> Delivery | None:
    """The locked row if it is still in the claim this worker made; None if the sweeper or a resend took it."""
    delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.SENDING or delivery.claimed_at != claimed_at:
        return None
    return delivery


def _record_sent(
    delivery_id: int, claimed_at: datetime | None, attempt: int, message_id: str, to_email: str
) -> Delivery | None:
    with transaction.atomic():
        delivery = _owned_claim(delivery_id, claimed_at)
        if delivery is None:
            delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
            # The sweeper took the row back while this send was slow. If nobody is sending it now and the address
            # is unchanged, this email is the one owed: record it, so that the queued retry finds nothing to do.
            nobody_sending = delivery.status in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED)
            if not (nobody_sending and delivery.to_email == to_email):
                _event(delivery, EventKind.SENT, f"late result of attempt {attempt}; {message_id}", attempt=attempt)
                return delivery
        now = timezone.now()
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.provider_message_id = message_id[:255]
        delivery.next_attempt_at = None
        delivery.last_error = ""
        delivery.needs_attention = False
        # A late success after a permanent failure: the alert would tell the merchant something no longer true.
        _alert_cancel(delivery, "sent after all")
        delivery.save()
        _event(delivery, EventKind.SENT, message_id, attempt=attempt)
        return delivery


def _record_failure(
    delivery_id: int, claimed_at: datetime | None, attempt: int, failure: SendFailure
) -> Delivery | None:
    with transaction.atomic():
        delivery = _owned_claim(delivery_id, claimed_at)
        if delivery is None:
            stale = Delivery.objects.get(pk=delivery_id)
            _event(stale, EventKind.TEMPORARY_FAILURE, f"late result: {failure.detail}", attempt=attempt)
            return stale
        now = timezone.now()
        started = delivery.first_attempt_at or now
        next_attempt = now + retry_delay(delivery.attempts)
        permanent = failure.permanent or next_attempt > started + RETRY_FOR
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = failure.detail[:4000]
        delivery.next_attempt_at = None if permanent else next_attempt
        delivery.needs_attention = permanent
        if permanent:
            _alert_schedule(delivery, now)
        delivery.save()
        if permanent:
            _event(delivery, EventKind.PERMANENT_FAILURE, failure.detail, attempt=attempt)
        else:
            _event(
                delivery,
                EventKind.TEMPORARY_FAILURE,
                f"{failure.detail}; next try {next_attempt:%Y-%m-%d %H:%M}",
                attempt=attempt,
            )
        return delivery


def _alert_schedule(delivery: Delivery, now: datetime) -> None:
    """Owe the merchant an alert about ``delivery`` (locked, saved by the caller), queued for a worker after commit.

    A merchant without a contact address gets none: the admin badge (``needs_attention``) is the lasting record.
    An alert already owed stays as it is, so news arriving together makes one email, which reads the row as it
    is when sent.
    """
    if delivery.alert_next_attempt_at is not None or not delivery.voucher.merchant.contact_email:
        return
    delivery.alert_next_attempt_at = now
    delivery.alert_claimed_at = now
    delivery.alert_attempts = 0
    delivery.alert_first_attempt_at = None
    _enqueue_alert_on_commit(delivery.pk)


def _alert_cancel(delivery: Delivery, reason: str) -> None:
    """Drop an alert still owed for ``delivery`` (locked, saved by the caller). One in flight still goes out and is
    recorded, but is not retried."""
    if delivery.alert_next_attempt_at is None:
        return
    delivery.alert_next_attempt_at = None
    delivery.alert_claimed_at = None
    _event(delivery, EventKind.MERCHANT_ALERT_CANCELLED, reason)


def _claim_alert(delivery_id: int) -> Delivery | None:
    """Lock the row and claim its merchant alert if one is due and no worker is sending it."""
    with transaction.atomic():
        delivery = _lock_delivery(delivery_id)
        if delivery is None:
            return None
        now = timezone.now()
        if delivery.alert_next_attempt_at is None or delivery.alert_next_attempt_at > now:
            return None
        if not delivery.voucher.merchant.contact_email:
            _alert_cancel(delivery, "the merchant has no contact email")
            delivery.save(update_fields=["alert_next_attempt_at", "alert_claimed_at", "updated_at"])
            return None
        # Until this passes, a duplicate task or the sweeper finds the alert not due; after it, a dead worker's is.
        delivery.alert_next_attempt_at = now + SENDING_STUCK_AFTER
        delivery.alert_claimed_at = now
        delivery.alert_attempts += 1
        delivery.alert_first_attempt_at = delivery.alert_first_attempt_at or now
        delivery.save(
            update_fields=[
                "alert_next_attempt_at",
                "alert_claimed_at",
                "alert_attempts",
                "alert_first_attempt_at",
                "updated_at",
            ]
        )
        return delivery


def merchant_alert_send(delivery_id: int) -> Delivery | None:
    """Email the merchant that the voucher email of ``delivery_id`` failed for good or bounced, if that alert is
    owed now and no other worker is sending it; record the outcome.

    Returns the row as recorded, or None when there was nothing to do. Never raises for a failed send: a temporary
    failure is retried with ``retry_delay`` until ``RETRY_FOR`` after the first try, then given up.
    """
    from delivery.emails import build_merchant_alert, send_email

    delivery = _claim_alert(delivery_id)
    if delivery is None:
        return None
    claimed_at = delivery.alert_claimed_at
    attempt = delivery.alert_attempts
    to_email = delivery.voucher.merchant.contact_email
    # Outside any transaction, as for the voucher email: no lock is held while the mail server answers.
    try:
        send_email(build_merchant_alert(delivery))
    except Exception as error:
        logger.info("merchant alert of delivery %s attempt %s failed: %s", delivery_id, attempt, error)
        return _record_alert_failure(delivery_id, claimed_at, attempt, classify_failure(error))
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        delivery.merchant_notified_at = timezone.now()
        # The email went out, so it is recorded either way; but only this worker's own claim is finished here. A
        # resend may have cancelled it meanwhile, or the sweeper handed it on after the claim had passed.
        if _owns_alert(delivery, claimed_at):
            delivery.alert_next_attempt_at = None
            delivery.alert_claimed_at = None
        delivery.save(update_fields=["merchant_notified_at", "alert_next_attempt_at", "alert_claimed_at", "updated_at"])
        _event(delivery, EventKind.MERCHANT_NOTIFIED, to_email, attempt=attempt)
    return delivery


def _owns_alert(delivery: Delivery, claimed_at: datetime | None) -> bool:
    return delivery.alert_next_attempt_at is not None and delivery.alert_claimed_at == claimed_at


def _record_alert_failure(
    delivery_id: int, claimed_at: datetime | None, attempt: int, failure: SendFailure
) -> Delivery | None:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if not _owns_alert(delivery, claimed_at):
            _event(delivery, EventKind.MERCHANT_ALERT_FAILED, f"late result: {failure.detail}", attempt=attempt)
            return delivery
        now = timezone.now()
        started = delivery.alert_first_attempt_at or now
        next_attempt = now + retry_delay(delivery.alert_attempts)
        delivery.alert_claimed_at = None
        if failure.permanent or next_attempt > started + RETRY_FOR:
            delivery.alert_next_attempt_at = None
            _event(delivery, EventKind.MERCHANT_ALERT_GAVE_UP, failure.detail, attempt=attempt)
        else:
            delivery.alert_next_attempt_at = next_attempt
            _event(
                delivery,
                EventKind.MERCHANT_ALERT_FAILED,
                f"{failure.detail}; next try {next_attempt:%Y-%m-%d %H:%M}",
                attempt=attempt,
            )
        delivery.save(update_fields=["alert_next_attempt_at", "alert_claimed_at", "updated_at"])
        return delivery


def _due_filter(now: datetime) -> Q:
    return (
        Q(status=DeliveryStatus.SCHEDULED, send_at__lte=now)
        | Q(status=DeliveryStatus.SCHEDULED, send_at__isnull=True)
        | Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.QUEUED, claimed_at__lte=now - QUEUED_STUCK_AFTER)
        | Q(status=DeliveryStatus.QUEUED, claimed_at__isnull=True)
        | Q(status=DeliveryStatus.SENDING, claimed_at__lte=now - SENDING_STUCK_AFTER)
        | Q(status=DeliveryStatus.SENDING, claimed_at__isnull=True)
    )


def deliveries_sweep(now: datetime | None = None, *, batch_size: int = SWEEP_BATCH) -> list[int]:
    """Queue every delivery that is due (scheduled, awaiting retry) or stuck (queued or sending too long).

    Returns the ids queued. Safe to run any time, twice or concurrently: rows are claimed under
    ``SELECT ... FOR UPDATE SKIP LOCKED`` and leave the due set in the same transaction.
    """
    now = now or timezone.now()
    due = _due_filter(now)
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("pk")
            .values_list("pk", "status")[:batch_size]
        )
        if not rows:
            return []
        ids = [pk for pk, _status in rows]
        # Filtering on ``due`` again makes the claim a compare-and-set where SKIP LOCKED does not exist (SQLite).
        Delivery.objects.filter(due, pk__in=ids).update(
            status=DeliveryStatus.QUEUED, claimed_at=now, updated_at=timezone.now()
        )
        for delivery in Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED, claimed_at=now):
            previous = dict(rows)[delivery.pk]
            stuck = previous in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
            _event(delivery, EventKind.REQUEUED if stuck else EventKind.QUEUED, f"was {previous}")
            _enqueue_on_commit(delivery.pk)
    return ids


def _alert_due_filter(now: datetime) -> Q:
    # Due and not queued lately: awaiting its first try or a retry, its message lost, or its worker dead (the
    # claim a worker makes moves the due time past SENDING_STUCK_AFTER, which is longer than QUEUED_STUCK_AFTER).
    return Q(alert_next_attempt_at__lte=now) & (
        Q(alert_claimed_at__isnull=True) | Q(alert_claimed_at__lte=now - QUEUED_STUCK_AFTER)
    )


def merchant_alerts_sweep(now: datetime | None = None, *, batch_size: int = SWEEP_BATCH) -> list[int]:
    """Queue every merchant alert that is due: awaiting a retry, or stuck (its message or its worker lost).

    Returns the ids of the deliveries whose alert was queued. Safe to run any time, twice or concurrently: rows
    are claimed under ``SELECT ... FOR UPDATE SKIP LOCKED`` and leave the due set in the same transaction, and
    ``merchant_alert_send`` claims the alert again under the row lock, so a duplicate message sends nothing.
    """
    now = now or timezone.now()
    due = _alert_due_filter(now)
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return []
        # Filtering on ``due`` again makes the claim a compare-and-set where SKIP LOCKED does not exist (SQLite).
        Delivery.objects.filter(due, pk__in=ids).update(alert_claimed_at=now, updated_at=timezone.now())
        queued = list(Delivery.objects.filter(pk__in=ids, alert_claimed_at=now).values_list("pk", flat=True))
        for delivery_id in queued:
            _enqueue_alert_on_commit(delivery_id)
    return queued


def delivery_resend(
    delivery_id: int, to_email: str | None = None, to_name: str | None = None, buyer_name: str | None = None
) -> Delivery:
    """Send the email again, optionally to a corrected address, recipient name or buyer name; clears the attention
    flag and cancels a merchant alert still owed (whoever resends already knows). A corrected buyer name also
    corrects the recipient name where that was the buyer's (a copy to the buyer, a voucher for oneself), unless
    ``to_name`` is given.

    Raises Delivery.DoesNotExist, InvalidRecipient, InvalidName, and DeliveryInFlight when a worker is sending it
    right now.
    """
    if to_email is not None:
        _validate_address(to_email)
    for name in (to_name, buyer_name):
        if name is not None:
            validate_name(name)
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        now = timezone.now()
        in_flight = delivery.status == DeliveryStatus.SENDING and (
            delivery.claimed_at is not None and delivery.claimed_at > now - SENDING_STUCK_AFTER
        )
        if in_flight:
            raise DeliveryInFlight(delivery_id=delivery_id)
        changes = []
        if to_email is not None and to_email != delivery.to_email:
            changes.append(f"{delivery.to_email} → {to_email}")
            delivery.to_email = to_email
        if buyer_name is not None and buyer_name != delivery.buyer_name:
            changes.append(f"buyer name {delivery.buyer_name!r} → {buyer_name!r}")
            if to_name is None and delivery.to_name == delivery.buyer_name:
                to_name = buyer_name
            delivery.buyer_name = buyer_name
        if to_name is not None:
            delivery.to_name = to_name
        delivery.status = DeliveryStatus.QUEUED
        delivery.claimed_at = now
        delivery.send_at = now
        delivery.next_attempt_at = None
        delivery.first_attempt_at = None
        delivery.needs_attention = False
        delivery.last_error = ""
        _alert_cancel(delivery, "resend requested")
        delivery.save()
        _event(delivery, EventKind.RESEND, "; ".join(changes))
        _enqueue_on_commit(delivery.pk)
    return delivery


TRACKING_EVENTS = {
    "delivered": (DeliveryStatus.DELIVERED, EventKind.DELIVERED),
    "bounced": (DeliveryStatus.BOUNCED, EventKind.BOUNCED),
    "rejected": (DeliveryStatus.BOUNCED, EventKind.BOUNCED),
    "complained": (None, EventKind.COMPLAINED),
}


def delivery_track(*, message_id: str, event_type: str, description: str = "") -> Delivery | None:
    """Apply a provider's tracking event (delivered, bounced, rejected, complained) to the delivery it names.

    Unknown message ids and event types are ignored (returns None). A bounce or complaint flags the delivery for
    the merchant's attention and tells the merchant. The same event twice changes nothing the second time.
    """
    if event_type not in TRACKING_EVENTS or not message_id:
        return None
    status, kind = TRACKING_EVENTS[event_type]
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(provider_message_id=message_id).first()
        if delivery is None:
            return None
        if status is not None and delivery.status == status:
            return delivery
        if kind == EventKind.COMPLAINED and delivery.attempts_log.filter(kind=kind).exists():
            return delivery
        # A late "delivered" must not hide an earlier bounce.
        if status == DeliveryStatus.DELIVERED and delivery.status == DeliveryStatus.BOUNCED:
            return delivery
        bad_news = kind in (EventKind.BOUNCED, EventKind.COMPLAINED)
        if status is not None:
            delivery.status = status
        if bad_news:
            delivery.needs_attention = True
            delivery.last_error = description[:4000] or str(kind.label)
            _alert_schedule(delivery, timezone.now())
        delivery.save()
        _event(delivery, kind, description)
    return delivery


def voucher_url(public_token: str) -> str:
    """The voucher's public page, as printed in the QR code and linked from the email."""
    return f"{settings.BASE_URL}/v/{public_token}/"
