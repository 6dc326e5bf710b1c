"""Tenancy: merchants, their locations (shops, counters) and the staff who act for them.

The tables keep the names they had when these models lived in the shop app (``shop_merchant``, ...): moving the
models changed no database row.
"""

import re
import zoneinfo

from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_BRAND_COLOUR = "#1F6F5C"

hex_colour = RegexValidator(HEX_COLOUR.pattern, _("Enter a colour as #RRGGBB, e.g. #1F6F5C."))


def safe_colour(value: object, default: str = DEFAULT_BRAND_COLOUR) -> str:
    """``value`` if it is a #RRGGBB colour, else ``default``: a row saved around the model's validator must not
    put arbitrary CSS into a page."""
    text = str(value or "")
    return text if HEX_COLOUR.match(text) else default


def validate_currency(value: str) -> None:
    if value not in list_currencies():
        raise ValidationError(_("%(value)s is not an ISO 4217 currency code."), params={"value": value})


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone, e.g. Europe/Berlin."), params={"value": value})


class CodeFormat(models.TextChoices):
    ALPHANUMERIC = "alphanumeric", _("Letters and digits (XXXX-XXXX-XXXX-XXXX)")
    NUMERIC = "numeric", _("Digits only, for tills that take digits")


class Merchant(models.Model):
    """A business that sells vouchers: the tenant every other row belongs to."""

    slug = models.SlugField(
        _("shop address"), max_length=50, unique=True, help_text=_("Used in the shop link, e.g. /s/<slug>/.")
    )
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="EUR", validators=[validate_currency])
    locale = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(_("active"), default=True)
    require_two_factor_for_managers = models.BooleanField(
        _("require two-factor login for owners and managers"),
        default=False,
        help_text=_("Owners and managers then confirm each login with a code from an authenticator app."),
    )

    # Contact and legal details printed on vouchers and in emails.
    contact_email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.TextField(_("address"), blank=True, help_text=_("Street, postcode and city, as printed."))
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. DE."))
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    vat_id = models.CharField(_("VAT ID"), max_length=50, blank=True)
    terms = models.TextField(
        _("voucher terms"), blank=True, help_text=_("Printed on every voucher, e.g. 'Not exchangeable for cash'.")
    )

    # Branding.
    logo = models.ImageField(_("logo"), upload_to="merchants/logos/", blank=True)
    primary_colour = models.CharField(_("primary colour"), max_length=7, default="#1F6F5C", validators=[hex_colour])
    accent_colour = models.CharField(_("accent colour"), max_length=7, default="#E9B44C", validators=[hex_colour])

    code_format = models.CharField(
        _("voucher code format"), max_length=20, choices=CodeFormat.choices, default=CodeFormat.ALPHANUMERIC
    )
    # Stripe Connect: payments go to the merchant's own Stripe account when set, else to the platform's.
    stripe_account = models.CharField(
        _("Stripe account"),
        max_length=255,
        null=True,
        blank=True,
        help_text=_("Connected account id (acct_...). Leave empty to be paid through the platform account."),
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "shop_merchant"
        ordering = ["name"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """A place where a merchant's vouchers are redeemed: a shop, a counter, a till."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="locations", verbose_name=_("merchant")
    )
    slug = models.SlugField(_("short name"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "shop_location"
        ordering = ["merchant", "name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [models.UniqueConstraint(fields=["merchant", "slug"], name="location_unique_slug")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    CASHIER = "cashier", _("Cashier")


class StaffMembership(models.Model):
    """A user acting for a merchant in a role, optionally only at some of its locations."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("merchant")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="memberships",
        verbose_name=_("locations"),
        help_text=_("Leave empty to allow every location."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "shop_staffmembership"
        ordering = ["merchant", "user__username"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.merchant})"
