"""Admin for deliveries: where each email stands, its timeline, and resending (to a corrected address).

Staff see only their merchants' deliveries (``MerchantScopedAdmin``). ``DeliveryInline`` shows a voucher's
deliveries on the voucher's admin page.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyInline
from delivery.errors import DeliveryError
from delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from delivery.services import delivery_resend, validate_name
from merchants.tenancy import MerchantScopedAdmin
from vouchers.models import Voucher

ATTENTION_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)


def attention_badge(delivery: Delivery) -> str:
    if delivery.needs_attention or (delivery.status == DeliveryStatus.BOUNCED):
        return format_html(
            '<span class="delivery-attention" style="background:#ba2121;color:#fff;padding:2px 6px;'
            'border-radius:3px;font-weight:bold;">{}</span>',
            _("Needs attention"),
        )
    return format_html("<span>{}</span>", delivery.get_status_display())


def timeline_html(delivery: Delivery) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                f"{event.created_at:%Y-%m-%d %H:%M:%S}",
                event.get_kind_display(),
                event.attempt_number or "",
                event.to_email,
                event.detail,
            )
            for event in delivery.attempts_log.all()
        ),
    )
    return format_html('<table class="delivery-timeline"><tbody>{}</tbody></table>', rows)


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Needs attention"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(needs_attention=True)
        return queryset


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("created_at", "kind", "attempt_number", "to_email", "detail")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    verbose_name_plural = _("Timeline")


class DeliveryInline(ReadOnlyInline):
    """A voucher's deliveries with their status and timeline, read-only; for the voucher admin."""

    model = Delivery
    fields = ("purpose", "to_email", "status_badge", "attempts", "send_at", "sent_at", "timeline")
    readonly_fields = fields
    show_change_link = True

    @admin.display(description=_("status"))
    def status_badge(self, obj: Delivery) -> str:
        return attention_badge(obj)

    @admin.display(description=_("Timeline"))
    def timeline(self, obj: Delivery) -> str:
        return timeline_html(obj)


def _checked_name(value: str) -> str:
    try:
        validate_name(value)
    except DeliveryError as error:
        raise forms.ValidationError(error.message, code="invalid_name") from error
    return value


class BuyerNameForm(forms.Form):
    buyer_name = forms.CharField(
        label=_("Buyer name"),
        max_length=200,
        strip=False,
        help_text=_("As it appears in the email and on the voucher, e.g. 'Anna Schmidt'."),
    )

    def clean_buyer_name(self) -> str:
        return _checked_name(self.cleaned_data["buyer_name"]).strip()


class RecipientForm(forms.Form):
    to_email = forms.EmailField(label=_("New recipient email"))
    to_name = forms.CharField(label=_("Recipient name"), max_length=200, required=False, strip=False)
    buyer_name = forms.CharField(label=_("Buyer name"), max_length=200, required=False, strip=False)

    def clean_to_name(self) -> str:
        return _checked_name(self.cleaned_data["to_name"]).strip()

    def clean_buyer_name(self) -> str:
        return _checked_name(self.cleaned_data["buyer_name"]).strip()


@admin.register(Delivery)
class DeliveryAdmin(MerchantScopedAdmin):
    merchant_path = "voucher__merchant"
    list_display = ("voucher", "purpose", "to_email", "status_badge", "attempts", "send_at", "sent_at", "created_at")
    list_filter = ("status", NeedsAttentionFilter, "purpose")
    search_fields = ("to_email", "to_name", "buyer_name", "voucher__code", "provider_message_id")
    list_select_related = ("voucher", "voucher__merchant")
    ordering = ("-created_at", "-pk")
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    actions = ["resend", "change_recipient_and_resend", "correct_buyer_name_and_resend"]
    fields = (
        "voucher",
        "purpose",
        "status",
        "to_email",
        "to_name",
        "buyer_name",
        "message",
        "locale",
        "send_at",
        "attempts",
        "next_attempt_at",
        "first_attempt_at",
        "last_error",
        "needs_attention",
        "merchant_notified_at",
        "alert_next_attempt_at",
        "alert_attempts",
        "sent_at",
        "provider_message_id",
        "claimed_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Deliveries are created by a sale (delivery_schedule), never by hand.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Delivery) -> str:
        return attention_badge(obj)

    def _resend_all(self, request: HttpRequest, queryset: QuerySet[Delivery], **changes: str) -> int:
        done = 0
        in_flight = 0
        for delivery_id in queryset.values_list("pk", flat=True):
            try:
                delivery_resend(delivery_id, **changes)
            except DeliveryError as error:
                in_flight += 1
                self.message_user(request, str(error.message), messages.WARNING)
                continue
            done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d email queued again.", "%(count)d emails queued again.", done) % {"count": done},
                messages.SUCCESS,
            )
        return done

    @admin.action(description=_("Resend the email"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        self._resend_all(request, queryset)

    @admin.action(description=_("Change recipient and resend"), permissions=["change"])
    def change_recipient_and_resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one delivery to change its recipient."), messages.ERROR)
            return None
        delivery = queryset.get()
        if "apply" in request.POST:
            form = RecipientForm(request.POST)
            if form.is_valid():
                done = self._resend_all(
                    request,
                    queryset,
                    to_email=form.cleaned_data["to_email"],
                    to_name=form.cleaned_data["to_name"],
                    buyer_name=form.cleaned_data["buyer_name"],
                )
                if done:
                    return None
        else:
            form = RecipientForm(
                initial={"to_email": delivery.to_email, "to_name": delivery.to_name, "buyer_name": delivery.buyer_name}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change the recipient and resend"),
            "opts": self.model._meta,
            "delivery": delivery,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "delivery/admin/change_recipient.html", context)

    @admin.action(description=_("Correct the buyer name and resend"), permissions=["change"])
    def correct_buyer_name_and_resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> HttpResponse | None:
        # A buyer name with a line break fails every email of the order for good: select them all (search for the
        # buyer), type the name once, and each goes out again.
        form = BuyerNameForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._resend_all(request, queryset, buyer_name=form.cleaned_data["buyer_name"])
            return None
        deliveries = list(queryset.select_related("voucher"))
        if not form.is_bound:
            names = {delivery.buyer_name for delivery in deliveries}
            form = BuyerNameForm(initial={"buyer_name": names.pop() if len(names) == 1 else ""})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Correct the buyer name and resend"),
            "opts": self.model._meta,
            "deliveries": deliveries,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "delivery/admin/correct_buyer_name.html", context)


# Each voucher's admin page shows its emails. Attached from here so that vouchers never imports delivery
# (calls run downward: delivery reads vouchers, not the other way round).
_voucher_admin_class = type(admin.site.get_model_admin(Voucher))
_voucher_admin_class.inlines = (*_voucher_admin_class.inlines, DeliveryInline)
