"""Redemption at the counter: API tokens, holds, redemptions and the records that keep API writes idempotent.

Value never moves here: every change of a voucher's value is a ledger row written by ``vouchers.services``. A
``Redemption`` ties such a row to where and by whom it happened; a ``Hold`` reserves part of a balance for a few
minutes without touching the ledger.
"""

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Location, Merchant
from vouchers.models import Voucher, VoucherTransaction

TOKEN_PREFIX = "vsk_"  # noqa: S105 - marks a string as our token for people and secret scanners
PREFIX_LENGTH = 12


class Scope(models.TextChoices):
    VOUCHERS_READ = "vouchers:read", _("Read vouchers")
    REDEMPTIONS_WRITE = "redemptions:write", _("Redeem, hold and reverse")


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256. Tokens carry 256 random bits, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A till's or partner system's key to one merchant (optionally one location), limited to its scopes."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("merchant")
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
        help_text=_("Empty: the token may act at every location of the merchant."),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 'Till 2, front desk'."))
    scopes = models.JSONField(_("scopes"), default=list)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["merchant", "name"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class HoldStatus(models.TextChoices):
    LIVE = "live", _("Live")
    CAPTURED = "captured", _("Captured")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")


class Hold(models.Model):
    """Part of a balance reserved while a till finishes a sale. Live means status live and not yet expired: an
    expired hold frees its amount by the clock alone; the cleanup task only records it."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant"))
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="holds", verbose_name=_("voucher"))
    amount = models.PositiveBigIntegerField(_("amount"))
    status = models.CharField(_("status"), max_length=20, choices=HoldStatus.choices, default=HoldStatus.LIVE)
    expires_at = models.DateTimeField(_("expires"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("location")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    api_token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, null=True, blank=True, related_name="holds")
    reference = models.CharField(_("reference"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive")]
        indexes = [models.Index(fields=["voucher", "status", "expires_at"], name="hold_live_lookup")]

    def __str__(self) -> str:
        return f"hold {self.pk} ({self.amount}, {self.status})"

    def is_live(self, now: datetime | None = None) -> bool:
        return self.status == HoldStatus.LIVE and self.expires_at > (now or timezone.now())


class Redemption(models.Model):
    """One redemption at the counter: the ledger row that took the value, and where, by whom and for what."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant"))
    voucher = models.ForeignKey(
        Voucher, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("voucher")
    )
    transaction = models.OneToOneField(
        VoucherTransaction, on_delete=models.PROTECT, related_name="redemption", verbose_name=_("ledger entry")
    )
    amount = models.PositiveBigIntegerField(_("amount"), help_text=_("Minor units, or items."))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("location")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cashier"),
    )
    api_token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, null=True, blank=True, related_name="redemptions")
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="redemption")
    reference = models.CharField(_("reference"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)
    reversal = models.OneToOneField(
        VoucherTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_redemption",
        verbose_name=_("reversing ledger entry"),
    )
    reversal_reason = models.CharField(
        _("reason for the reversal"),
        max_length=255,
        blank=True,
        help_text=_("Required after the reversal window, when only a manager or owner may reverse."),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        indexes = [models.Index(fields=["merchant", "location", "created_at"], name="redemption_recent")]

    def __str__(self) -> str:
        return f"redemption {self.pk} ({self.amount})"


class IdempotencyState(models.TextChoices):
    IN_FLIGHT = "in_flight", _("In flight")
    DONE = "done", _("Done")


class IdempotencyRecord(models.Model):
    """The first response to an API write with an ``Idempotency-Key``, per token, replayed for retries."""

    api_token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=IdempotencyState.choices, default=IdempotencyState.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_token", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class ThrottleEvent(models.Model):
    """An audit entry: a caller was stopped after too many failed code lookups."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    identity = models.CharField(_("who"), max_length=200, help_text=_("token:<id>, user:<id> or ip:<address>."))
    api_token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    failures = models.PositiveIntegerField(_("failed lookups"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("throttled lookup")
        verbose_name_plural = _("throttled lookups")

    def __str__(self) -> str:
        return f"{self.identity} at {self.created_at:%Y-%m-%d %H:%M}"
