"""Deliveries: one row per email owed for a voucher, and the timeline of what happened to it.

The row is the truth about what is owed; Celery messages only wake a worker up. ``delivery.services`` is the only
writer of both tables.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from vouchers.models import Voucher


class Purpose(models.TextChoices):
    RECIPIENT = "recipient", _("To the recipient")
    BUYER_COPY = "buyer_copy", _("Copy to the buyer")


class DeliveryStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    FAILED = "failed", _("Failed")


# States after which nothing more is owed (unless someone asks for a resend).
FINAL_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.BOUNCED)


class Delivery(models.Model):
    """One email of one voucher: to its recipient, or the buyer's copy."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("voucher"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    to_email = models.EmailField(_("to"))
    to_name = models.CharField(_("name"), max_length=200, blank=True)
    buyer_name = models.CharField(_("buyer name"), max_length=200, blank=True)
    message = models.TextField(_("personal message"), blank=True)
    locale = models.CharField(_("language"), max_length=10, default="en")
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.SCHEDULED
    )
    send_at = models.DateTimeField(_("send on"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Retries stop RETRY_FOR after this: the first try since the row was scheduled or last resent (not the send
    # date, which an outage may have left far behind).
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    # When the row last entered "queued" or "sending": a row that stays there much longer lost its message or
    # its worker, and the sweeper takes it back.
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    provider_message_id = models.CharField(_("message ID"), max_length=255, blank=True, db_index=True)
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    merchant_notified_at = models.DateTimeField(_("merchant told"), null=True, blank=True)
    # The merchant's alert about bad news on this row is owed while this is set, and due when it has passed. A
    # worker that claims the alert moves it forward by SENDING_STUCK_AFTER, so one whose worker died falls due again.
    alert_next_attempt_at = models.DateTimeField(_("next merchant alert"), null=True, blank=True, db_index=True)
    alert_attempts = models.PositiveIntegerField(_("merchant alert attempts"), default=0)
    # When the alert was last queued or claimed by a worker; like ``claimed_at``, for the sweeper to take it back.
    alert_claimed_at = models.DateTimeField(_("merchant alert claimed"), null=True, blank=True)
    # Retries of the alert stop RETRY_FOR after its first try, as for the voucher email.
    alert_first_attempt_at = models.DateTimeField(_("first merchant alert attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["voucher", "purpose"], name="delivery_unique_purpose")]
        indexes = [
            models.Index(fields=["status", "send_at"], name="delivery_status_send_at"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_next_attempt"),
            models.Index(fields=["status", "claimed_at"], name="delivery_status_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.to_email}"


class EventKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Queued")
    REQUEUED = "requeued", _("Taken back from a lost worker")
    SENT = "sent", _("Sent")
    TEMPORARY_FAILURE = "temporary_failure", _("Failed, will retry")
    PERMANENT_FAILURE = "permanent_failure", _("Failed for good")
    RESEND = "resend", _("Resend requested")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Marked as spam")
    MERCHANT_NOTIFIED = "merchant_notified", _("Merchant told")
    MERCHANT_ALERT_FAILED = "merchant_alert_failed", _("Telling the merchant failed, will retry")
    MERCHANT_ALERT_GAVE_UP = "merchant_alert_gave_up", _("Gave up telling the merchant")
    MERCHANT_ALERT_CANCELLED = "merchant_alert_cancelled", _("Merchant alert no longer needed")


class DeliveryAttempt(models.Model):
    """One entry in a delivery's timeline: a send attempt and its outcome, or a tracking event."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.PROTECT, related_name="attempts_log", verbose_name=_("delivery")
    )
    kind = models.CharField(_("event"), max_length=30, choices=EventKind.choices)
    attempt_number = models.PositiveIntegerField(_("attempt"), null=True, blank=True)
    to_email = models.EmailField(_("to"), blank=True)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["delivery", "created_at", "pk"]
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery timeline")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"
