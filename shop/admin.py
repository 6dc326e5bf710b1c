"""Admin for voucher products and orders: each merchant's staff see and edit only their own rows."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyInline
from delivery.models import Delivery
from merchants.tenancy import MerchantScopedAdmin
from shop.errors import ShopError
from shop.models import Order, OrderLine, OrderStatusChange, VoucherProduct
from shop.services import order_cancel
from vouchers.money import format_money

admin.site.site_header = _("Voucher Shop")
admin.site.site_title = _("Voucher Shop admin")
admin.site.index_title = _("Your shop")


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
