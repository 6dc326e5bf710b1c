"""Admin for payments and Stripe events: read-only records, scoped to the staff user's merchants."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from payments.errors import PaymentError
from payments.models import Payment, StripeEvent
from payments.services import refund_create
from shop.tenancy import OWNER_ONLY, MerchantScopedAdmin


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
    actions = ("refund_in_full",)

    @admin.action(description=_("Refund the rest of the selected payments"))
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        # Money leaves the shop: owners only, and each payment of the user's own merchants (the queryset is scoped).
        if not self._allowed(request, OWNER_ONLY, None):
            self.message_user(request, _("Only owners can refund."), level=messages.ERROR)
            return
        for payment in queryset:
            if not self._allowed(request, OWNER_ONLY, payment):
                continue
            try:
                refund_create(order_id=payment.order_id)
            except PaymentError as error:
                self.message_user(request, f"{payment}: {error.message}", level=messages.WARNING)
            else:
                self.message_user(request, _("Refund requested for order #%(order)s.") % {"order": payment.order_id})


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Raw events span merchants: platform superusers only."""

    list_display = ("stripe_id", "type", "account", "received_at", "processed_at", "outcome", "attempts")
    list_filter = ("type",)
    search_fields = ("stripe_id", "account", "outcome")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser
