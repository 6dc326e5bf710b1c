"""Admin for API tokens (created with the secret shown once, revoked with an action), redemptions and holds."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from merchants.tenancy import MANAGING_ROLES, OWNER_ONLY, MerchantScopedAdmin
from redemption.models import ApiToken, Hold, Redemption, Scope, ThrottleEvent
from redemption.services import api_token_create, api_token_revoke


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, initial=list(Scope.values)
    )

    class Meta:
        model = ApiToken
        fields = ("merchant", "location", "name", "scopes")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        merchant, location = data.get("merchant"), data.get("location")
        if merchant and location and location.merchant_id != merchant.pk:
            self.add_error("location", _("Choose a location of this merchant."))
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(MerchantScopedAdmin):
    change_roles = MANAGING_ROLES
    delete_roles = OWNER_ONLY
    form = ApiTokenForm
    list_display = ("name", "prefix", "merchant", "location", "scope_list", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes or [])

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A token's reach is fixed when it is made; to change it, revoke it and make another.
        if obj is not None:
            return ("merchant", "location", "scopes", "prefix", "created_at", "last_used_at", "revoked_at")
        return ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return ("name", "merchant", "location", "scopes", "prefix", "created_at", "last_used_at", "revoked_at")
        return ("merchant", "location", "name", "scopes")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, secret = api_token_create(
            merchant_id=obj.merchant_id,
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            location_id=obj.location_id,
            created_by_id=request.user.pk,
        )
        obj.pk = token.pk
        obj.prefix, obj.secret_hash, obj.created_at = token.prefix, token.secret_hash, token.created_at
        messages.warning(
            request,
            _("The new token is %(token)s — copy it now; it will not be shown again.") % {"token": secret},
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        # MerchantScopedAdmin ran this only if the user may change every selected token.
        for token in queryset:
            api_token_revoke(merchant_id=token.merchant_id, token_id=token.pk)
        self.message_user(request, _("Revoked."), messages.SUCCESS)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = (
        "pk",
        "voucher",
        "amount",
        "location",
        "user",
        "api_token",
        "reference",
        "created_at",
        "reversed_at",
        "reversal_reason",
    )
    list_select_related = ("voucher", "location", "user", "api_token")
    search_fields = ("reference", "voucher__code")


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("pk", "voucher", "amount", "status", "expires_at", "location", "api_token", "user")
    list_filter = ("status",)


@admin.register(ThrottleEvent)
class ThrottleEventAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("created_at", "identity", "failures", "ip", "api_token", "user")
