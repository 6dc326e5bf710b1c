"""Vouchers and their ledger.

A voucher's value is the sum of its insert-only ledger rows (``VoucherTransaction``); ``Voucher.balance`` is that
sum cached, updated in the same transaction as the row that changes it, and guarded by database constraints.
Only ``vouchers.services`` writes either table.
"""

import secrets
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from merchants.models import Location, Merchant
from vouchers.codes import format_code


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class VoucherKind(models.TextChoices):
    MONETARY = "monetary", _("Value")
    ITEM = "item", _("Item")


class VoucherStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SPENT = "spent", _("Spent")
    EXPIRED = "expired", _("Expired")
    VOID = "void", _("Void")
    FROZEN = "frozen", _("Frozen")


class Voucher(models.Model):
    """A voucher of a merchant. For monetary vouchers values are minor units of ``currency``; for item vouchers
    they count items of ``item_label``."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("merchant")
    )
    code = models.CharField(
        _("code"), max_length=32, editable=False, help_text=_("Canonical form: upper case, no separators.")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=VoucherKind.choices, default=VoucherKind.MONETARY)
    currency = models.CharField(_("currency"), max_length=3)
    initial_value = models.PositiveBigIntegerField(_("initial value"))
    balance = models.BigIntegerField(_("balance"))
    item_label = models.CharField(_("item"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=VoucherStatus.choices, default=VoucherStatus.ACTIVE)
    valid_from = models.DateTimeField(_("valid from"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    is_promotional = models.BooleanField(_("promotional"), default=False)
    terms = models.TextField(_("terms"), blank=True)
    allowed_locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="+",
        verbose_name=_("redeemable at"),
        help_text=_("Empty: at every location."),
    )
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    recipient_email = models.EmailField(_("recipient email"), blank=True)
    message = models.TextField(_("message"), blank=True)
    order_line = models.ForeignKey(
        # By name: the shop sits above vouchers, which must not import it.
        "shop.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouchers",
        verbose_name=_("order line"),
    )
    # Makes issuing idempotent: the same key (e.g. an order line and unit) never issues a second voucher.
    issue_key = models.CharField(max_length=100, null=True, blank=True, editable=False)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="voucher_unique_code"),
            models.UniqueConstraint(fields=["merchant", "issue_key"], name="voucher_unique_issue_key"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="voucher_balance_not_negative"),
            models.CheckConstraint(condition=Q(balance__lte=F("initial_value")), name="voucher_balance_within_initial"),
            models.CheckConstraint(condition=Q(initial_value__gt=0), name="voucher_initial_value_positive"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="voucher_status_expiry")]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        return format_code(self.code)


class TransactionKind(models.TextChoices):
    ISSUE = "issue", _("Issued")
    REDEEM = "redeem", _("Redeemed")
    REVERSE = "reverse", _("Redemption reversed")
    REFUND = "refund", _("Refunded")
    VOID = "void", _("Voided")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    FREEZE = "freeze", _("Frozen")
    UNFREEZE = "unfreeze", _("Unfrozen")


class ActorType(models.TextChoices):
    USER = "user", _("Staff member")
    API_TOKEN = "api_token", _("API token")
    SYSTEM = "system", _("System")


class LedgerQuerySet(models.QuerySet["VoucherTransaction"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("Ledger rows are insert-only; write a correcting row instead.")

    def delete(self) -> NoReturn:
        raise TypeError("Ledger rows are insert-only; write a correcting row instead.")


class VoucherTransaction(models.Model):
    """One change of a voucher's value (or state): insert-only. ``amount`` is signed, in the voucher's unit."""

    voucher = models.ForeignKey(
        Voucher, on_delete=models.PROTECT, related_name="transactions", verbose_name=_("voucher")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TransactionKind.choices)
    amount = models.BigIntegerField(_("amount"))
    balance_after = models.BigIntegerField(_("balance after"))
    actor_type = models.CharField(_("by"), max_length=20, choices=ActorType.choices, default=ActorType.SYSTEM)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    actor_label = models.CharField(
        _("actor"),
        max_length=200,
        blank=True,
        help_text=_("Who, for people: an email, an API token's name, or 'system'."),
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("location")
    )
    reference = models.CharField(
        _("reference"), max_length=255, blank=True, help_text=_("A receipt number, a reason, an order.")
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name=_("reverses")
    )
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # What the key was used for, so that the same key for a different change is refused rather than replayed.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        constraints = [
            models.UniqueConstraint(fields=["voucher", "idempotency_key"], name="ledger_unique_idempotency_key"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(
                name="ledger_amount_sign_per_kind",
                condition=(
                    Q(kind="issue", amount__gt=0)
                    | Q(kind="redeem", amount__lt=0)
                    | Q(kind="reverse", amount__gt=0)
                    | Q(kind__in=["refund", "void", "expire"], amount__lte=0)
                    | (Q(kind="adjust") & ~Q(amount=0))
                    | Q(kind__in=["freeze", "unfreeze"], amount=0)
                ),
            ),
            models.CheckConstraint(
                name="ledger_reverse_points_at_its_row",
                condition=Q(kind="reverse", reverses__isnull=False) | (~Q(kind="reverse") & Q(reverses__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Ledger rows are insert-only; write a correcting row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Ledger rows are insert-only; write a correcting row instead.")
