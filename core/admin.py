"""Admin mixins that several apps' admins share and that know no domain: read-only pages and read-only inlines."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Rows the code writes and the admin only shows: nobody adds, changes or deletes them by hand. Put it before
    the admin base class (``class LedgerAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin)``); viewing stays the base
    class's decision."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside a parent page, never edited there.

    The parent is a MerchantScopedAdmin that has already decided the user may see this merchant's row, so the
    inline needs no model permissions of its own (merchant staff have none).
    """

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
