"""Payments: one Stripe Checkout Session per order, and every Stripe event received, stored by its id."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from shop.models import Order


class Payment(models.Model):
    """The Checkout Session that pays one order: its id, state and what Stripe says was paid."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETE = "complete", _("Complete")
        EXPIRED = "expired", _("Expired")

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="payment", verbose_name=_("order"))
    session_id = models.CharField(_("checkout session"), max_length=255, unique=True)
    checkout_url = models.URLField(_("checkout URL"), max_length=2000, blank=True)
    stripe_account = models.CharField(_("Stripe account"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(_("payment status"), max_length=30, default="unpaid")
    payment_intent_id = models.CharField(_("payment intent"), max_length=255, blank=True, db_index=True)
    amount = models.PositiveBigIntegerField(_("amount"), help_text=_("In minor units."))
    currency = models.CharField(_("currency"), max_length=3)
    is_demo = models.BooleanField(_("demo"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return self.session_id


class StripeEvent(models.Model):
    """A Stripe event as received (raw payload), stored once by its id; ``processed_at`` says it was applied."""

    stripe_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100, db_index=True)
    account = models.CharField(_("connected account"), max_length=255, blank=True)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        indexes = [models.Index(fields=["processed_at", "received_at"], name="stripeevent_pending")]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"
