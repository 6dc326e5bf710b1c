"""Admin for payments and Stripe events: read-only records, scoped to the staff user's merchants."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from merchants.tenancy import OWNER_ONLY, MerchantScopedAdmin, action_roles
from payments.errors import PaymentError
from payments.models import Payment, StripeEvent
from payments.services import refund_create
from shop.models import OrderStatus
from shop.selectors import order_unused_value
from vouchers.money import format_money


class RefundForm(forms.Form):
    """How much of a payment to refund: the unused value unless the owner gives a reason for more."""

    amount = forms.IntegerField(label=_("Amount (in cents)"), min_value=1)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        help_text=_("Required to refund more than the unused value (vouchers were used)."),
    )

    def __init__(self, *args: Any, unused: int, remaining: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unused = unused
        amount = self.fields["amount"]
        amount.validators.append(MaxValueValidator(remaining))
        amount.widget.attrs["max"] = remaining
        amount.initial = unused

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        amount = cleaned.get("amount")
        if amount is not None and amount > self.unused and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Give a reason to refund more than the unused value."))
        return cleaned


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    merchant_path = "order__merchant"
    list_display = ("session_id", "order", "status", "payment_status", "amount", "currency", "created_at")
    list_filter = ("status", "payment_status", "is_demo")
    search_fields = ("session_id", "payment_intent_id")
    actions = ("refund_in_full",)
    readonly_fields = ("refund_link",)

    @admin.display(description=_("refund"))
    def refund_link(self, obj: Payment) -> str:
        url = reverse("admin:payments_payment_refund", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Refund…"))

    def get_urls(self) -> list[URLPattern]:
        refund = path(
            "<int:payment_id>/refund/", self.admin_site.admin_view(self.refund_view), name="payments_payment_refund"
        )
        return [refund, *super().get_urls()]

    def refund_view(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        """Refund one payment: the unused value is offered; more only with a reason, recorded in the order's log."""
        payment = self.get_object(request, str(payment_id))
        if not self._allowed(request, OWNER_ONLY, payment):
            raise PermissionDenied
        order = payment.order
        unused = order_unused_value(order=order)
        remaining = order.total - order.amount_refunded
        refundable = order.status in (OrderStatus.PAID, OrderStatus.FULFILLED) and remaining > 0
        form = RefundForm(request.POST or None, unused=unused, remaining=remaining)
        if request.method == "POST" and refundable and form.is_valid():
            try:
                refund_create(
                    order_id=order.pk,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    requested_by=str(request.user),
                )
            except PaymentError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, _("Refund requested for order #%(order)s.") % {"order": order.pk})
                return HttpResponseRedirect(reverse("admin:payments_payment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Refund order #%(order)s") % {"order": order.pk},
            "opts": self.opts,
            "payment": payment,
            "order": order,
            "form": form,
            "refundable": refundable,
            "unused_shown": format_money(unused, order.currency),
            "remaining_shown": format_money(remaining, order.currency),
            "total_shown": format_money(order.total, order.currency),
        }
        status = 400 if form.is_bound and (form.errors or not refundable) else 200
        return TemplateResponse(request, "admin/payments/payment/refund.html", context, status=status)

    @admin.action(description=_("Refund the rest of the selected payments"))
    @action_roles(*OWNER_ONLY)
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        # Money leaves the shop: owners only, of every selected payment's merchant (MerchantScopedAdmin checks).
        # "The rest" is what the vouchers have left; more goes through the refund page, with a reason.
        for payment in queryset:
            try:
                refund_create(order_id=payment.order_id, requested_by=str(request.user))
            except PaymentError as error:
                self.message_user(request, f"{payment}: {error.message}", level=messages.WARNING)
            else:
                self.message_user(request, _("Refund requested for order #%(order)s.") % {"order": payment.order_id})


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Raw events span merchants: platform superusers only."""

    list_display = ("stripe_id", "type", "account", "received_at", "processed_at", "outcome", "attempts")
    list_filter = ("type",)
    search_fields = ("stripe_id", "account", "outcome")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser
