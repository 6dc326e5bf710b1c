"""Tenant walls in the admin: staff of one merchant never see or touch another merchant's rows."""

import pytest
from django.urls import reverse

from merchants.models import Location, Role, StaffMembership
from tests.factories import LocationFactory, MerchantFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_merchants():
    merchant_a, merchant_b = MerchantFactory(slug="alpha"), MerchantFactory(slug="beta")
    owner_a = StaffMembershipFactory(merchant=merchant_a, role=Role.OWNER).user
    owner_b_membership = StaffMembershipFactory(merchant=merchant_b, role=Role.OWNER)
    return {
        "a": merchant_a,
        "b": merchant_b,
        "owner_a": owner_a,
        "location_a": LocationFactory(merchant=merchant_a),
        "location_b": LocationFactory(merchant=merchant_b),
        "membership_b": owner_b_membership,
    }


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_staff_of_a_gets_404_for_every_row_of_b(client, two_merchants, view):
    # Given the owner of merchant A is logged in
    client.force_login(two_merchants["owner_a"])
    rows_of_b = [two_merchants["b"], two_merchants["location_b"], two_merchants["membership_b"]]
    for row in rows_of_b:
        # When they guess the admin URL of one of merchant B's rows
        url = reverse(f"admin:merchants_{row._meta.model_name}_{view}", args=[row.pk])
        response = client.get(url)
        # Then the answer is 404, and nothing of B appears
        assert response.status_code == 404, url
        assert b"beta" not in response.content


def test_changelists_show_only_own_rows(client, two_merchants):
    client.force_login(two_merchants["owner_a"])
    response = client.get(reverse("admin:merchants_location_changelist"))
    assert response.status_code == 200
    shown = {location.pk for location in response.context["cl"].result_list}
    assert shown == {two_merchants["location_a"].pk}

    response = client.get(reverse("admin:merchants_merchant_changelist"))
    assert [m.slug for m in response.context["cl"].result_list] == ["alpha"]


def test_foreign_key_choices_exclude_other_merchants(client, two_merchants):
    client.force_login(two_merchants["owner_a"])
    response = client.get(reverse("admin:merchants_location_add"))
    choices = list(response.context["adminform"].form.fields["merchant"].queryset)
    assert choices == [two_merchants["a"]]


def test_posting_a_row_into_another_merchant_is_a_form_error(client, two_merchants):
    client.force_login(two_merchants["owner_a"])
    response = client.post(
        reverse("admin:merchants_location_add"),
        {"merchant": two_merchants["b"].pk, "slug": "sneaky", "name": "Sneaky", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "merchant" in response.context["adminform"].form.errors
    assert not Location.objects.filter(slug="sneaky").exists()


def test_editing_another_merchants_row_by_post_is_404_and_changes_nothing(client, two_merchants):
    client.force_login(two_merchants["owner_a"])
    location_b = two_merchants["location_b"]
    response = client.post(
        reverse("admin:merchants_location_change", args=[location_b.pk]),
        {"merchant": two_merchants["a"].pk, "slug": "stolen", "name": "Stolen"},
    )
    assert response.status_code == 404
    location_b.refresh_from_db()
    assert location_b.merchant == two_merchants["b"]
    assert location_b.slug != "stolen"


def test_superuser_sees_every_merchant(client, two_merchants):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.get(reverse("admin:merchants_merchant_changelist"))
    assert {m.slug for m in response.context["cl"].result_list} == {"alpha", "beta"}
    assert (
        client.get(reverse("admin:merchants_location_change", args=[two_merchants["location_b"].pk])).status_code == 200
    )


def test_a_manager_cannot_change_staff_and_a_cashier_cannot_enter_the_admin(client, two_merchants):
    manager = StaffMembershipFactory(merchant=two_merchants["a"], role=Role.MANAGER).user
    client.force_login(manager)
    assert client.get(reverse("admin:merchants_staffmembership_changelist")).status_code == 200
    assert client.get(reverse("admin:merchants_staffmembership_add")).status_code == 403
    assert client.get(reverse("admin:merchants_location_changelist")).status_code == 200

    cashier = StaffMembershipFactory(
        merchant=two_merchants["a"], role=Role.CASHIER, user=UserFactory(is_staff=False)
    ).user
    client.force_login(cashier)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_owner_adds_a_cashier_by_email_and_gets_a_one_time_password(client, two_merchants):
    client.force_login(two_merchants["owner_a"])
    response = client.post(
        reverse("admin:merchants_staffmembership_add"),
        {
            "merchant": two_merchants["a"].pk,
            "email": "New.Cashier@Example.com",
            "role": Role.CASHIER,
            "locations": [two_merchants["location_a"].pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    membership = StaffMembership.objects.get(user__username="new.cashier@example.com")
    assert membership.merchant == two_merchants["a"]
    assert list(membership.locations.all()) == [two_merchants["location_a"]]
    assert "One-time password" in response.content.decode()


def test_owner_cannot_give_a_location_of_another_merchant(client, two_merchants):
    client.force_login(two_merchants["owner_a"])
    response = client.post(
        reverse("admin:merchants_staffmembership_add"),
        {
            "merchant": two_merchants["a"].pk,
            "email": "x@example.com",
            "role": Role.CASHIER,
            "locations": [two_merchants["location_b"].pk],
        },
    )
    assert response.status_code == 200
    assert "locations" in response.context["adminform"].form.errors
    assert not StaffMembership.objects.filter(user__username="x@example.com").exists()


def test_an_admin_page_reads_the_staff_members_memberships_once(client, two_merchants, django_assert_max_num_queries):
    # Given an owner of merchant A; the admin asks every model admin for its permissions on every page
    client.force_login(two_merchants["owner_a"])
    # Then the page costs a handful of queries, not one membership query per permission question
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:merchants_location_changelist"))
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("admin:index")).status_code == 200
