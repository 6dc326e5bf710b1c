"""Admin for payments and Stripe events: read-only records, scoped to the staff user's merchants."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from payments.models import Payment, StripeEvent
from shop.tenancy import MerchantScopedAdmin


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, MerchantScopedAdmin):
    merchant_path = "order__merchant"
    list_display = ("session_id", "order", "status", "payment_status", "amount", "currency", "created_at")
    list_filter = ("status", "payment_status", "is_demo")
    search_fields = ("session_id", "payment_intent_id")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Raw events span merchants: platform superusers only."""

    list_display = ("stripe_id", "type", "received_at", "processed_at", "outcome", "attempts")
    list_filter = ("type",)
    search_fields = ("stripe_id",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser
