"""Reads of the merchants app: what a staff login must prove."""

from typing import Any

from django.conf import settings
from django_otp import user_has_device

from merchants.models import Role, StaffMembership


def two_factor_required(*, user: Any) -> bool:
    """Whether ``user`` must log in with a second factor: with ``STAFF_TWO_FACTOR_REQUIRED`` every owner, manager
    and platform superuser; otherwise the owners and managers of a merchant that requires it."""
    if not user.is_authenticated or not user.is_active:
        return False
    managing = StaffMembership.objects.filter(user_id=user.pk, role__in=(Role.OWNER, Role.MANAGER))
    if settings.STAFF_TWO_FACTOR_REQUIRED:
        return bool(user.is_superuser) or managing.exists()
    return managing.filter(merchant__require_two_factor_for_managers=True).exists()


def two_factor_enrolled(*, user: Any) -> bool:
    """Whether ``user`` has a confirmed second factor (an authenticator app or backup codes): then every login
    proves it, required or not."""
    return bool(user.is_authenticated and user_has_device(user, confirmed=True))
