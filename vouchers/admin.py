"""Admin for vouchers and their ledger, scoped to the staff member's merchants.

Nothing here writes a voucher or a ledger row itself: the voucher form is read-only, the ledger cannot be added to,
changed or deleted by anyone, and the actions (void, adjust, extend) ask for a reason and call ``vouchers.services``.
Amounts are always shown as money (or items), never as raw minor units.
"""

import zoneinfo
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from merchants.tenancy import MerchantScopedAdmin
from vouchers.codes import MalformedCode, normalize_code
from vouchers.errors import VoucherError
from vouchers.models import Voucher, VoucherKind, VoucherTransaction
from vouchers.money import format_money, parse_money, parse_quantity
from vouchers.services import Actor, voucher_adjust, voucher_extend, voucher_void

_SEPARATORS = str.maketrans("", "", " -_.")


def _value(voucher: Voucher, amount: int) -> str:
    if voucher.kind == VoucherKind.ITEM:
        return f"{amount} × {voucher.item_label}"
    return format_money(amount, voucher.currency)


def _actor(request: HttpRequest) -> Actor:
    user = request.user
    assert user.pk is not None  # the admin only serves logged-in staff
    return Actor.staff(user.pk, getattr(user, "email", "") or user.get_username())


def _search_by_code(queryset: QuerySet[Any], term: str, path: str) -> QuerySet[Any] | None:
    """Rows whose voucher code is ``term`` however it was typed (one index hit), or whose code starts with what was
    typed; None when ``term`` cannot be part of a code."""
    try:
        return queryset.filter(**{path: normalize_code(term)})
    except MalformedCode:
        cleaned = term.upper().translate(_SEPARATORS)
        if len(cleaned) >= 4 and cleaned.isalnum():
            return queryset.filter(**{f"{path}__startswith": cleaned})
    return None


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=200, help_text=gettext_lazy("Kept in the ledger.")
    )


class AdjustForm(ReasonForm):
    amount = forms.CharField(
        label=gettext_lazy("Correction"),
        max_length=20,
        help_text=gettext_lazy("Positive adds, negative takes away: e.g. -5.00, or -1 item for item vouchers."),
    )

    field_order = ("amount", "reason")


class ExtendForm(ReasonForm):
    expires_on = forms.DateField(
        label=gettext_lazy("New last day"),
        required=False,
        help_text=gettext_lazy("YYYY-MM-DD, in the shop's time zone. Leave empty: never expires."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    field_order = ("expires_on", "reason")


def _end_of_day(voucher: Voucher, form: ExtendForm) -> datetime | None:
    day = form.cleaned_data["expires_on"]
    if day is None:
        return None
    return datetime.combine(day, time.max, tzinfo=zoneinfo.ZoneInfo(voucher.merchant.time_zone or "UTC"))


class LedgerInline(ReadOnlyInline):
    model = VoucherTransaction
    fk_name = "voucher"
    max_num = 0
    show_change_link = False
    ordering = ("-created_at", "-pk")
    fields = readonly_fields = (
        "created_at",
        "kind",
        "amount_shown",
        "balance_after_shown",
        "actor_label",
        "location",
        "reference",
    )

    @admin.display(description=gettext_lazy("amount"))
    def amount_shown(self, row: VoucherTransaction) -> str:
        return _value(row.voucher, row.amount)

    @admin.display(description=gettext_lazy("balance after"))
    def balance_after_shown(self, row: VoucherTransaction) -> str:
        return _value(row.voucher, row.balance_after)

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoucherTransaction]:
        return super().get_queryset(request).select_related("voucher", "location")


@admin.register(Voucher)
class VoucherAdmin(MerchantScopedAdmin):
    list_display = ("display_code", "merchant", "kind", "status", "balance_shown", "initial_shown", "expires_at")
    list_filter = ("status", "kind")
    search_fields = ("recipient_name", "recipient_email")
    search_help_text = gettext_lazy("A code (any case, with or without dashes), or the recipient's name or email.")
    list_select_related = ("merchant",)
    inlines = (LedgerInline,)
    actions = ("void_vouchers", "adjust_vouchers", "extend_vouchers")
    fields = readonly_fields = (
        "display_code",
        "merchant",
        "kind",
        "status",
        "balance_shown",
        "initial_shown",
        "item_label",
        "valid_from",
        "expires_at",
        "is_promotional",
        "terms",
        "allowed_locations",
        "recipient_name",
        "recipient_email",
        "message",
        "order_line",
        "created_at",
        "updated_at",
    )

    @admin.display(description=gettext_lazy("code"), ordering="code")
    def display_code(self, voucher: Voucher) -> str:
        return voucher.display_code

    @admin.display(description=gettext_lazy("balance"), ordering="balance")
    def balance_shown(self, voucher: Voucher) -> str:
        return _value(voucher, voucher.balance)

    @admin.display(description=gettext_lazy("initial value"), ordering="initial_value")
    def initial_shown(self, voucher: Voucher) -> str:
        return _value(voucher, voucher.initial_value)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        by_code = _search_by_code(queryset, term, "code") if term else None
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if by_code is None:
            return results, may_have_duplicates
        return queryset.filter(Q(pk__in=by_code.values("pk")) | Q(pk__in=results.values("pk"))), False

    # Vouchers are issued by a sale or by `manage.py issue_vouchers`, and kept forever with their ledger.
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "Change" here means running the actions. The form itself is never saved: a plain save() would write back
        # a balance read without the lock, undoing a redemption that committed in between.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # -- actions: each asks for a reason on its own page, then calls the service once per voucher -----------------

    def _run_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Voucher],
        *,
        form_class: type[ReasonForm],
        title: str,
        apply: Callable[[Voucher, Any], object],
        done: Callable[[int], str],
    ) -> HttpResponse | None:
        # MerchantScopedAdmin runs an action only when the user may change every selected voucher's merchant.
        allowed = queryset
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            succeeded = 0
            for voucher in allowed.select_related("merchant"):
                try:
                    apply(voucher, form)
                except (VoucherError, ValueError) as error:
                    message = error.message if isinstance(error, VoucherError) else str(error)
                    self.message_user(request, f"{voucher.display_code}: {message}", messages.ERROR)
                else:
                    succeeded += 1
            if succeeded:
                self.message_user(request, done(succeeded) % {"count": succeeded}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "vouchers": allowed.select_related("merchant"),
            "action": request.POST.get("action", ""),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/vouchers/voucher/action_form.html", context)

    @admin.action(description=gettext_lazy("Void selected vouchers"), permissions=["change"])
    def void_vouchers(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> HttpResponse | None:
        actor = _actor(request)
        return self._run_action(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Void vouchers"),
            apply=lambda voucher, form: voucher_void(
                voucher_id=voucher.pk, reason=form.cleaned_data["reason"], actor=actor
            ),
            done=lambda n: ngettext("%(count)d voucher voided.", "%(count)d vouchers voided.", n),
        )

    @admin.action(description=gettext_lazy("Correct the balance of selected vouchers"), permissions=["change"])
    def adjust_vouchers(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> HttpResponse | None:
        actor = _actor(request)

        def adjust(voucher: Voucher, form: AdjustForm) -> object:
            text = form.cleaned_data["amount"]
            if voucher.kind == VoucherKind.ITEM:
                try:
                    amount = parse_quantity(text, signed=True)
                except ValueError as error:
                    raise ValueError(_("Enter a whole number of items.")) from error
            else:
                try:
                    amount = parse_money(text, voucher.currency, signed=True)
                except ValueError as error:
                    raise ValueError(
                        _("%(text)s is not an amount in %(currency)s.") % {"text": text, "currency": voucher.currency}
                    ) from error
            return voucher_adjust(voucher_id=voucher.pk, amount=amount, reason=form.cleaned_data["reason"], actor=actor)

        return self._run_action(
            request,
            queryset,
            form_class=AdjustForm,
            title=_("Correct balances"),
            apply=adjust,
            done=lambda n: ngettext("%(count)d balance corrected.", "%(count)d balances corrected.", n),
        )

    @admin.action(description=gettext_lazy("Extend the expiry of selected vouchers"), permissions=["change"])
    def extend_vouchers(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> HttpResponse | None:
        actor = _actor(request)
        return self._run_action(
            request,
            queryset,
            form_class=ExtendForm,
            title=_("Extend expiry"),
            apply=lambda voucher, form: voucher_extend(
                voucher_id=voucher.pk,
                expires_at=_end_of_day(voucher, form),
                reason=form.cleaned_data["reason"],
                actor=actor,
            ),
            done=lambda n: ngettext("%(count)d voucher extended.", "%(count)d vouchers extended.", n),
        )


@admin.register(VoucherTransaction)
class LedgerAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """The ledger, read-only for everyone: a correction is a new row written by a service."""

    merchant_path = "voucher__merchant"
    list_display = ("created_at", "voucher", "kind", "amount_shown", "balance_after_shown", "actor_label", "location")
    list_filter = ("kind",)
    search_fields = ("reference", "actor_label")
    search_help_text = gettext_lazy("A voucher code (any case, with or without dashes), a reference or who.")
    list_select_related = ("voucher", "location")
    fields = readonly_fields = (
        "created_at",
        "voucher",
        "kind",
        "amount_shown",
        "balance_after_shown",
        "actor_type",
        "actor_label",
        "user",
        "location",
        "reference",
        "reverses",
    )

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, row: VoucherTransaction) -> str:
        return _value(row.voucher, row.amount)

    @admin.display(description=gettext_lazy("balance after"), ordering="balance_after")
    def balance_after_shown(self, row: VoucherTransaction) -> str:
        return _value(row.voucher, row.balance_after)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        by_code = _search_by_code(queryset, term, "voucher__code") if term else None
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if by_code is None:
            return results, may_have_duplicates
        return queryset.filter(Q(pk__in=by_code.values("pk")) | Q(pk__in=results.values("pk"))), False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}
