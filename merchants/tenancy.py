"""Tenant walls: which merchants a user may act for, and the admin base class that enforces it.

Every merchant-facing query starts from `merchants_for_user` (or takes a merchant explicitly), so a staff
member of one merchant never sees another merchant's rows. Rows outside a user's merchants are answered with
404, as if they did not exist. In the admin, every permission about a row (its page, each action on it) is
decided by the user's role at that row's merchant, never by a role held somewhere else.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import ngettext

from merchants.models import Location, Merchant, Role, StaffMembership

ALL_ROLES: tuple[str, ...] = (Role.OWNER, Role.MANAGER, Role.CASHIER)
MANAGING_ROLES: tuple[str, ...] = (Role.OWNER, Role.MANAGER)
OWNER_ONLY: tuple[str, ...] = (Role.OWNER,)
# Memberships that may use the admin; cashiers work at the POS page only.
ADMIN_ROLES: tuple[str, ...] = MANAGING_ROLES

AnyUser = AbstractBaseUser | AnonymousUser


def merchants_for_user(user: AnyUser, *, roles: Iterable[str] = ALL_ROLES) -> QuerySet[Merchant]:
    """The merchants ``user`` may act for in one of ``roles``; platform superusers may act for all."""
    if not user.is_authenticated or not user.is_active:
        return Merchant.objects.none()
    if getattr(user, "is_superuser", False):
        return Merchant.objects.all()
    return Merchant.objects.filter(
        is_active=True, memberships__user_id=user.pk, memberships__role__in=list(roles)
    ).distinct()


def membership_for(user: AnyUser, merchant: Merchant) -> StaffMembership | None:
    """The user's membership of ``merchant``, or None."""
    if not user.is_authenticated:
        return None
    return StaffMembership.objects.filter(user_id=user.pk, merchant=merchant).first()


def locations_for_user(user: AnyUser, merchant: Merchant) -> QuerySet[Location]:
    """The active locations of ``merchant`` where ``user`` may work (all, unless the membership limits them)."""
    locations = Location.objects.filter(merchant=merchant, is_active=True)
    if getattr(user, "is_superuser", False):
        return locations
    membership = membership_for(user, merchant)
    if membership is None:
        return Location.objects.none()
    limited = membership.locations.all()
    return locations.filter(pk__in=limited) if limited.exists() else locations


def _roles_by_merchant(request: HttpRequest) -> dict[Any, str]:
    """The user's role at each active merchant, read once per request: the admin asks every model admin for its
    permissions on every page (navigation, buttons), and each answer needs these rows."""
    cached: dict[Any, str] | None = getattr(request, "_roles_by_merchant", None)
    if cached is None:
        cached = dict(
            StaffMembership.objects.filter(user_id=cast("int", request.user.pk), merchant__is_active=True).values_list(
                "merchant_id", "role"
            )
        )
        request._roles_by_merchant = cached  # type: ignore[attr-defined]
    return cached


class MerchantScopedAdmin(admin.ModelAdmin):
    """Admin for rows that belong to a merchant: staff see and choose only their merchants' rows.

    ``merchant_path`` is the lookup from the model to its Merchant ("merchant", "voucher__merchant", or "pk"
    for Merchant itself). Roles say who may view, add or change, and delete. Each action runs only when the user
    holds its roles (``action_roles``, else those of its ``permissions``, else ``change_roles``) at the merchant of
    every selected row; otherwise nothing is done and the user is told which merchants' rows were refused.
    """

    merchant_path = "merchant"
    view_roles: tuple[str, ...] = ADMIN_ROLES
    change_roles: tuple[str, ...] = MANAGING_ROLES
    delete_roles: tuple[str, ...] = OWNER_ONLY

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        merchants = merchants_for_user(request.user, roles=self.view_roles)
        return queryset.filter(**{f"{self.merchant_path}__in": merchants})

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Django's admin redirects to the index for a missing row; for a row of another merchant that would
        # still say "this exists". A plain 404 says nothing.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def merchant_id_of(self, obj: models.Model) -> Any:
        if self.merchant_path == "pk":
            return obj.pk
        *hops, last = self.merchant_path.split("__")
        target: Any = obj
        for hop in hops:
            target = getattr(target, hop)
        return getattr(target, f"{last}_id")

    def _allowed(self, request: HttpRequest, roles: tuple[str, ...], obj: models.Model | None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        roles_by_merchant = _roles_by_merchant(request)
        if obj is None:
            return any(role in roles for role in roles_by_merchant.values())
        return roles_by_merchant.get(self.merchant_id_of(obj)) in roles

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, self.view_roles, None)

    def roles_for_action(self, func: Callable[..., Any]) -> tuple[str, ...]:
        """The roles an action needs at each selected row's merchant."""
        explicit: tuple[str, ...] | None = getattr(func, "merchant_roles", None)
        if explicit is not None:
            return explicit
        by_permission = {
            "view": self.view_roles,
            "change": self.change_roles,
            "add": self.change_roles,
            "delete": self.delete_roles,
        }
        permissions = getattr(func, "allowed_permissions", None) or ("change",)
        return tuple({role for permission in permissions for role in by_permission.get(permission, ())})

    def refused_merchants(self, request: HttpRequest, queryset: QuerySet[Any], roles: tuple[str, ...]) -> list[str]:
        """Names of the merchants of rows in ``queryset`` where the user does not hold one of ``roles``."""
        if request.user.is_superuser:
            return []
        allowed = [merchant_id for merchant_id, role in _roles_by_merchant(request).items() if role in roles]
        refused = queryset.exclude(**{f"{self.merchant_path}__in": allowed})
        merchant_ids = refused.values(self.merchant_path).order_by()
        return list(Merchant.objects.filter(pk__in=merchant_ids).order_by("name").values_list("name", flat=True))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)
        return {
            name: (self._guarded_action(func), name, description)
            for name, (func, _name, description) in actions.items()
        }

    def _guarded_action(self, func: Callable[..., Any]) -> Callable[..., Any]:
        roles = self.roles_for_action(func)

        @wraps(func)
        def guarded(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponseBase | None:
            refused = self.refused_merchants(request, queryset, roles)
            if refused:
                # All or nothing: a half-done action on a mixed selection is worse than a clear refusal.
                self.message_user(
                    request,
                    ngettext(
                        "Nothing was done: your role at %(merchants)s does not allow this action. "
                        "Select only rows of merchants where you may do it.",
                        "Nothing was done: your roles at %(merchants)s do not allow this action. "
                        "Select only rows of merchants where you may do it.",
                        len(refused),
                    )
                    % {"merchants": ", ".join(refused)},
                    messages.ERROR,
                )
                return None
            response: HttpResponseBase | None = func(modeladmin, request, queryset)
            return response

        return guarded

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.view_roles, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request, self.change_roles, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.change_roles, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.delete_roles, obj)

    def scoped_choices(self, request: HttpRequest, model: type[models.Model]) -> QuerySet[Any] | None:
        """Choices of ``model`` limited to the user's merchants, or None when ``model`` is not merchant data."""
        if request.user.is_superuser:
            return None
        merchants = merchants_for_user(request.user, roles=self.change_roles)
        if model is Merchant:
            return merchants
        if any(field.name == "merchant" for field in model._meta.get_fields()):
            return model._default_manager.filter(merchant__in=merchants)
        return None

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = self.scoped_choices(request, db_field.related_model)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = self.scoped_choices(request, db_field.related_model)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def action_roles(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an admin action as needing one of ``roles`` at the merchant of every selected row."""

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        func.merchant_roles = tuple(roles)  # type: ignore[attr-defined]
        return func

    return mark
