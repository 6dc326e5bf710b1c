"""The sale: the voucher products a merchant offers, and customers' orders of them."""

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class ProductKind(models.TextChoices):
    MONETARY = "monetary", _("Value (e.g. €50)")
    ITEM = "item", _("Item (e.g. 1 massage)")


class VoucherProduct(models.Model):
    """A voucher a merchant sells: fixed amounts and/or a custom amount, or an item at a price."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="products", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices, default=ProductKind.MONETARY)
    # Monetary vouchers: amounts in minor units of the merchant's currency.
    fixed_amounts = models.JSONField(
        _("fixed amounts"),
        default=list,
        blank=True,
        help_text=_("Amounts in cents offered as choices, e.g. [2500, 5000, 10000]."),
    )
    custom_amount_min = models.PositiveIntegerField(
        _("custom amount from"),
        null=True,
        blank=True,
        help_text=_("In cents. Leave empty to offer only fixed amounts."),
    )
    custom_amount_max = models.PositiveIntegerField(
        _("custom amount up to"), null=True, blank=True, help_text=_("In cents.")
    )
    # Item vouchers: what the voucher is good for, how many, and its price.
    item_label = models.CharField(_("item"), max_length=200, blank=True, help_text=_("e.g. 'Massage 60 min'."))
    item_quantity = models.PositiveIntegerField(_("items per voucher"), default=1)
    item_price = models.PositiveIntegerField(_("price"), null=True, blank=True, help_text=_("In cents."))
    # Validity: a number of months from purchase, or a fixed last day.
    validity_months = models.PositiveIntegerField(_("valid for (months)"), null=True, blank=True, default=36)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_promotional = models.BooleanField(_("promotional"), default=False)
    terms = models.TextField(_("terms"), blank=True, help_text=_("Printed on the voucher after the shop's terms."))
    is_active = models.BooleanField(_("on sale"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["merchant", "sort_order", "name"]
        verbose_name = _("voucher product")
        verbose_name_plural = _("voucher products")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind == ProductKind.MONETARY:
            amounts = self.fixed_amounts or []
            if not isinstance(amounts, list) or not all(isinstance(a, int) and a > 0 for a in amounts):
                errors["fixed_amounts"] = _("Enter a list of positive amounts in cents, e.g. [2500, 5000].")
            has_custom = self.custom_amount_min is not None or self.custom_amount_max is not None
            if has_custom and (
                not self.custom_amount_min
                or not self.custom_amount_max
                or self.custom_amount_min > self.custom_amount_max
            ):
                errors["custom_amount_max"] = _("Enter both limits, the lower one first.")
            if not amounts and not has_custom:
                errors["fixed_amounts"] = _("Offer at least one fixed amount or a custom amount range.")
        else:
            if not self.item_label:
                errors["item_label"] = _("Say what the voucher is good for.")
            if not self.item_price:
                errors["item_price"] = _("Enter the price of the item voucher.")
        if self.validity_months is not None and self.valid_until is not None:
            errors["valid_until"] = _("Choose months of validity or a fixed date, not both.")
        if errors:
            raise ValidationError(errors)


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FULFILLED = "fulfilled", _("Vouchers issued")
    EXPIRED = "expired", _("Expired unpaid")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    DISPUTED = "disputed", _("Disputed")


class Order(models.Model):
    """A customer's purchase of vouchers; its status moves only through `shop.services`."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="orders", verbose_name=_("merchant"))
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    currency = models.CharField(_("currency"), max_length=3)
    total = models.PositiveBigIntegerField(_("total"), help_text=_("In minor units (cents)."))
    amount_refunded = models.PositiveBigIntegerField(_("refunded"), default=0)
    buyer_name = models.CharField(_("buyer name"), max_length=200)
    buyer_email = models.EmailField(_("buyer email"))
    locale = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    attention_reason = models.TextField(_("why it needs attention"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("vouchers issued"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["status", "created_at"], name="order_status_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("total")), name="order_refund_within_total"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.buyer_email}"


class OrderLine(models.Model):
    """One product in an order: ``quantity`` vouchers of ``unit_amount`` each, for one recipient."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(
        VoucherProduct, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices)
    unit_amount = models.PositiveBigIntegerField(_("price per voucher"), help_text=_("In minor units (cents)."))
    quantity = models.PositiveIntegerField(_("number of vouchers"), default=1)
    # What each voucher is worth: its value in minor units, or its items.
    voucher_value = models.PositiveBigIntegerField(
        _("value per voucher"), help_text=_("Minor units, or the number of items.")
    )
    item_label = models.CharField(_("item"), max_length=200, blank=True)
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    recipient_email = models.EmailField(_("recipient email"), blank=True)
    message = models.TextField(_("personal message"), blank=True)
    send_at = models.DateTimeField(_("send on"), null=True, blank=True, help_text=_("Empty: right after payment."))

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orderline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"

    @property
    def line_total(self) -> int:
        return self.unit_amount * self.quantity


class OrderStatusChange(models.Model):
    """The log of an order's transitions: when, from what, to what, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    cause = models.CharField(_("cause"), max_length=255)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["order", "created_at", "pk"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.from_status or '–'} → {self.to_status}"
