"""Admin for merchants (their settings), locations and staff: each merchant's staff see and edit only their own
rows; the owner changes the merchant's settings and its staff."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from merchants.models import Location, Merchant, StaffMembership, safe_colour
from merchants.services import staff_add
from merchants.tenancy import MANAGING_ROLES, OWNER_ONLY, MerchantScopedAdmin


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin):
    merchant_path = "pk"
    change_roles = OWNER_ONLY
    list_display = ("name", "slug", "currency", "locale", "is_active")
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "currency", "locale", "time_zone", "is_active")}),
        (
            _("Contact and legal details"),
            {"fields": ("contact_email", "phone", "website", "address", "country", "legal_name", "vat_id", "terms")},
        ),
        (_("Branding"), {"fields": ("logo", "primary_colour", "accent_colour", "code_format")}),
        (_("Payments"), {"fields": ("stripe_account",)}),
        (_("Security"), {"fields": ("require_two_factor_for_managers",)}),
        (_("Shop link for your website"), {"fields": ("shop_link", "embed_snippet")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The address and currency are contracts with customers and other systems: platform staff change them;
        # so is the account payments go to.
        if obj is not None and not request.user.is_superuser:
            return ("slug", "currency", "is_active", "stripe_account", "shop_link", "embed_snippet")
        return ("shop_link", "embed_snippet")

    @admin.display(description=_("shop link"))
    def shop_link(self, obj: Merchant) -> str:
        if obj.pk is None:
            return "–"
        url = settings.BASE_URL + reverse("shop:storefront", args=[obj.slug])
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description=_("'Buy a voucher' button"))
    def embed_snippet(self, obj: Merchant) -> str:
        if obj.pk is None:
            return "–"
        return format_html(
            '<textarea readonly rows="4" cols="80" aria-label="{}" onclick="this.select()">{}</textarea>'
            '<p class="help">{}</p>',
            _("HTML to copy"),
            merchant_embed_snippet(obj),
            _("Paste this HTML into your website where the button should appear."),
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(Location)
class LocationAdmin(MerchantScopedAdmin):
    change_roles = MANAGING_ROLES
    list_display = ("name", "slug", "merchant", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")


class StaffAddForm(forms.ModelForm):
    email = forms.EmailField(label=_("Email (login)"))

    class Meta:
        model = StaffMembership
        fields = ("merchant", "email", "role", "locations")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        merchant = cleaned.get("merchant")
        foreign = [loc for loc in cleaned.get("locations", []) if merchant and loc.merchant_id != merchant.pk]
        if foreign:
            self.add_error("locations", _("Choose locations of the selected merchant only."))
        return cleaned


@admin.register(StaffMembership)
class StaffMembershipAdmin(MerchantScopedAdmin):
    view_roles = MANAGING_ROLES
    change_roles = OWNER_ONLY
    list_display = ("user", "merchant", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email")
    filter_horizontal = ("locations",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = StaffAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("merchant", "email", "role", "locations")
        return ("user", "merchant", "role", "locations")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("user", "merchant") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        added = staff_add(
            merchant_id=form.cleaned_data["merchant"].pk,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            location_slugs=tuple(location.slug for location in form.cleaned_data["locations"]),
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved membership.
        obj.pk, obj.user = added.membership.pk, added.membership.user
        if added.generated_password:
            self.message_user(
                request,
                _("Login %(email)s created. One-time password (shown once): %(password)s")
                % {"email": obj.user.username, "password": added.generated_password},
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)


def merchant_embed_snippet(merchant: Merchant) -> str:
    """The HTML of a 'Buy a voucher' button linking to the merchant's storefront, styled inline so it works on
    any website without our stylesheet."""
    url = settings.BASE_URL + reverse("shop:storefront", args=[merchant.slug])
    return str(
        format_html(
            '<a href="{}" target="_blank" rel="noopener" style="display:inline-block;padding:.7em 1.2em;'
            "background:{};color:#fff;border-radius:.4em;font:600 1rem system-ui,sans-serif;"
            'text-decoration:none">{}</a>',
            url,
            safe_colour(merchant.primary_colour),
            _("Buy a voucher"),
        )
    )
