"""The staff flag follows memberships: only owners, managers and superusers keep it (a demoted or removed
manager kept the admin until now)."""

from typing import Any

from django.conf import settings
from django.db import migrations

ADMIN_ROLES = ("owner", "manager")


def staff_flag_follows_memberships(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model(settings.AUTH_USER_MODEL)
    StaffMembership = apps.get_model("shop", "StaffMembership")
    admin_users = StaffMembership.objects.filter(role__in=ADMIN_ROLES).values("user_id")
    User.objects.filter(is_superuser=False, is_staff=True).exclude(pk__in=admin_users).update(is_staff=False)
    User.objects.filter(is_staff=False).filter(pk__in=admin_users).update(is_staff=True)
    User.objects.filter(is_superuser=True, is_staff=False).update(is_staff=True)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0004_merchant_require_two_factor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(staff_flag_follows_memberships, migrations.RunPython.noop)]
