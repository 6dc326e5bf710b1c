"""Admin for merchants, locations and staff: each merchant's staff see and edit only their own rows."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyInline
from delivery.models import Delivery
from shop.errors import ShopError
from shop.models import Location, Merchant, Order, OrderLine, OrderStatusChange, StaffMembership, VoucherProduct
from shop.services import order_cancel, staff_add
from shop.templatetags.shop_money import safe_colour
from shop.tenancy import MANAGING_ROLES, OWNER_ONLY, MerchantScopedAdmin
from vouchers.money import format_money

admin.site.site_header = _("Voucher Shop")
admin.site.site_title = _("Voucher Shop admin")
admin.site.index_title = _("Your shop")


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


def _money(amount: int | None, currency: str) -> str:
    return "" if amount is None else format_money(amount, currency)


@admin.register(VoucherProduct)
class VoucherProductAdmin(MerchantScopedAdmin):
    list_display = ("name", "merchant", "kind", "offer", "is_active", "sort_order")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    ordering = ("merchant", "sort_order", "name")
    fieldsets = (
        (None, {"fields": ("merchant", "name", "description", "image", "kind", "is_active", "sort_order")}),
        (_("Value vouchers"), {"fields": ("fixed_amounts", "custom_amount_min", "custom_amount_max")}),
        (_("Item vouchers"), {"fields": ("item_label", "item_quantity", "item_price")}),
        (_("Validity and terms"), {"fields": ("validity_months", "valid_until", "is_promotional", "terms")}),
    )

    @admin.display(description=_("offer"))
    def offer(self, obj: VoucherProduct) -> str:
        currency = obj.merchant.currency
        if obj.kind == "item":
            return f"{obj.item_quantity} × {obj.item_label}, {_money(obj.item_price, currency)}"
        parts = [_money(a, currency) for a in obj.fixed_amounts or []]
        if obj.custom_amount_min is not None:
            parts.append(f"{_money(obj.custom_amount_min, currency)}–{_money(obj.custom_amount_max, currency)}")
        return ", ".join(parts)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("product", "quantity", "unit_amount", "voucher_value", "recipient_name", "recipient_email", "send_at")
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = ("created_at", "from_status", "to_status", "cause")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(MerchantScopedAdmin):
    """Orders are read-only here: their status moves only through the services (payments, refunds, actions)."""

    list_display = ("pk", "created_at", "merchant", "buyer_email", "total_shown", "status", "needs_attention")
    list_filter = ("status", "needs_attention")
    search_fields = ("buyer_email", "buyer_name", "public_token")
    date_hierarchy = "created_at"
    inlines = (OrderLineInline, OrderStatusChangeInline)
    actions = ("cancel_orders",)
    fields = (
        "merchant",
        "status",
        "total_shown",
        "refunded_shown",
        "buyer_name",
        "buyer_email",
        "locale",
        "needs_attention",
        "attention_reason",
        "created_at",
        "paid_at",
        "fulfilled_at",
        "order_page",
        "deliveries",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Viewing goes through has_view_permission; nothing on an order is edited by hand.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("total"), ordering="total")
    def total_shown(self, obj: Order) -> str:
        return _money(obj.total, obj.currency)

    @admin.display(description=_("refunded"))
    def refunded_shown(self, obj: Order) -> str:
        return _money(obj.amount_refunded, obj.currency)

    @admin.display(description=_("emails"))
    def deliveries(self, obj: Order) -> str:
        rows = (
            Delivery.objects.filter(voucher__order_line__order=obj)
            .select_related("voucher")
            .order_by("voucher_id", "purpose")
        )
        if not rows:
            return str(_("No emails yet."))
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("voucher"),
            _("to"),
            _("status"),
            _("attempts"),
            _("last error"),
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                (
                    (
                        reverse("admin:delivery_delivery_change", args=[row.pk]),
                        row.voucher.display_code,
                        row.to_email,
                        row.get_status_display(),
                        row.attempts,
                        row.last_error,
                    )
                    for row in rows
                ),
            ),
        )

    @admin.display(description=_("order page"))
    def order_page(self, obj: Order) -> str:
        url = reverse("shop:order", args=[obj.public_token])
        return format_html('<a href="{}">{}</a>', url, _("open"))

    @admin.action(description=_("Cancel selected pending orders"))
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        cancelled = 0
        for order_id in queryset.values_list("pk", flat=True):
            try:
                order_cancel(order_id=order_id, cause=f"cancelled in the admin by {request.user}")
                cancelled += 1
            except ShopError as error:
                self.message_user(request, f"#{order_id}: {error.message}", level=messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d order cancelled.", "%(count)d orders cancelled.", cancelled) % {"count": cancelled},
        )
