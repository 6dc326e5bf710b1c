"""The staff flag, the admin's door, follows a user's memberships: owners and managers (and superusers) have it,
a demoted or removed manager loses it at once, whichever way the membership changed."""

import importlib

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import reverse

from merchants.models import Role, StaffMembership
from merchants.services import staff_add
from tests.factories import TEST_PASSWORD, MerchantFactory, StaffMembershipFactory, UserFactory
from vouchers.services import voucher_issue

pytestmark = pytest.mark.django_db

User = get_user_model()
VOUCHERS = "admin:vouchers_voucher_changelist"


def is_staff(user) -> bool:
    return User.objects.get(pk=user.pk).is_staff


def logged_in(user) -> Client:
    # As a person logs in: with the password, so the session is checked like any other.
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


@pytest.fixture
def merchant():
    return MerchantFactory(slug="alpha", name="Alpha")


@pytest.fixture
def owner(merchant):
    return StaffMembershipFactory(merchant=merchant, role=Role.OWNER).user


def test_a_manager_demoted_by_the_owner_loses_the_admin_in_his_open_session(merchant, owner):
    # Given a manager who is reading the shop's vouchers in the admin
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000)
    membership = StaffMembershipFactory(merchant=merchant, role=Role.MANAGER, user=UserFactory())
    manager = logged_in(membership.user)
    assert voucher.display_code.encode() in manager.get(reverse(VOUCHERS)).content

    # When the owner makes him a cashier on the staff page
    response = logged_in(owner).post(
        reverse("admin:merchants_staffmembership_change", args=[membership.pk]), {"role": Role.CASHIER, "locations": []}
    )
    assert response.status_code == 302

    # Then his flag is gone and the same session reads no code any more
    assert not is_staff(membership.user)
    page = manager.get(reverse(VOUCHERS))
    assert page.status_code == 302
    assert "/admin/login/" in page["Location"]
    assert manager.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk])).status_code == 302


def test_a_removed_manager_loses_the_flag(merchant, owner):
    membership = StaffMembershipFactory(merchant=merchant, role=Role.MANAGER, user=UserFactory())
    assert is_staff(membership.user)

    response = logged_in(owner).post(
        reverse("admin:merchants_staffmembership_delete", args=[membership.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not StaffMembership.objects.filter(pk=membership.pk).exists()
    assert not is_staff(membership.user)
    assert logged_in(membership.user).get(reverse("admin:index")).status_code == 302


def test_a_cashier_promoted_to_manager_gets_the_flag_and_a_demotion_takes_it_back(merchant):
    membership = StaffMembershipFactory(merchant=merchant, role=Role.CASHIER, user=UserFactory(is_staff=True))
    assert not is_staff(membership.user)  # a cashier's login never opens the admin
    membership.role = Role.MANAGER
    membership.save()
    assert is_staff(membership.user)
    membership.role = Role.CASHIER
    membership.save()
    assert not is_staff(membership.user)


def test_another_membership_that_may_use_the_admin_keeps_the_flag(merchant):
    user = UserFactory()
    at_alpha = StaffMembershipFactory(user=user, merchant=merchant, role=Role.MANAGER)
    StaffMembershipFactory(user=user, merchant=MerchantFactory(), role=Role.OWNER)
    at_alpha.delete()
    assert is_staff(user)


def test_a_cashier_at_one_merchant_and_manager_at_another_loses_the_flag_with_the_manager_role(merchant):
    user = UserFactory()
    StaffMembershipFactory(user=user, merchant=MerchantFactory(), role=Role.CASHIER)
    managing = StaffMembershipFactory(user=user, merchant=merchant, role=Role.MANAGER)
    assert is_staff(user)
    managing.delete()
    assert not is_staff(user)


def test_a_superuser_keeps_the_flag_without_memberships(merchant):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    StaffMembershipFactory(user=superuser, merchant=merchant, role=Role.CASHIER).delete()
    assert is_staff(superuser)


@pytest.mark.parametrize(("role", "staff"), [(Role.OWNER, True), (Role.MANAGER, True), (Role.CASHIER, False)])
def test_staff_add_gives_the_flag_by_role_and_a_demotion_by_staff_add_takes_it(merchant, role, staff):
    added = staff_add(merchant_id=merchant.pk, email="kim@example.com", role=role)
    assert is_staff(added.membership.user) is staff
    staff_add(merchant_id=merchant.pk, email="kim@example.com", role=Role.CASHIER)
    assert not is_staff(added.membership.user)


def test_the_data_migration_fixes_existing_users(merchant):
    # Given users whose flags were left behind by earlier changes (written without signals, as old data is)
    demoted = StaffMembershipFactory(merchant=merchant, role=Role.CASHIER).user
    removed = UserFactory(is_staff=True)
    manager = StaffMembershipFactory(merchant=merchant, role=Role.MANAGER).user
    superuser = UserFactory(is_superuser=True)
    User.objects.filter(pk__in=[demoted.pk, removed.pk]).update(is_staff=True)
    User.objects.filter(pk__in=[manager.pk, superuser.pk]).update(is_staff=False)

    # When the migration runs (with the models as they were then: the memberships belonged to the shop app)
    name = ("shop", "0005_staff_flag_follows_memberships")
    migration = importlib.import_module(f"{name[0]}.migrations.{name[1]}")
    migration.staff_flag_follows_memberships(MigrationLoader(connection).project_state(name).apps, schema_editor=None)

    # Then each flag follows the memberships
    assert [is_staff(user) for user in (demoted, removed, manager, superuser)] == [False, False, True, True]
