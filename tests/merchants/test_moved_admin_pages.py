"""The admin pages of merchants, locations and staff moved from /admin/shop/ to /admin/merchants/ with their app:
old bookmarks and links still arrive at the same page, behind the same walls."""

import pytest
from django.urls import reverse

from merchants.models import Role
from tests.factories import LocationFactory, MerchantFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db


def test_an_old_address_of_a_merchant_page_leads_to_its_new_address(client):
    # Given the owner of a merchant
    owner = StaffMembershipFactory(role=Role.OWNER)
    client.force_login(owner.user)
    # When they open the bookmark of their merchant's settings page from before the move
    response = client.get(f"/admin/shop/merchant/{owner.merchant_id}/change/?_changelist_filters=q%3Dspa")
    # Then they are sent, for good, to the same page under the merchants app, query and all
    assert response.status_code == 301
    new_url = reverse("admin:merchants_merchant_change", args=[owner.merchant_id])
    assert response["Location"] == f"{new_url}?_changelist_filters=q%3Dspa"
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/shop/location/", "admin:merchants_location_changelist"),
        ("/admin/shop/staffmembership/add/", "admin:merchants_staffmembership_add"),
        ("/admin/shop/merchant/", "admin:merchants_merchant_changelist"),
    ],
)
def test_old_list_and_add_pages_lead_to_the_new_ones(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == reverse(new)


def test_the_walls_hold_behind_the_old_address(client):
    # Given the owner of merchant A and a location of merchant B
    owner_a = StaffMembershipFactory(role=Role.OWNER)
    location_b = LocationFactory(merchant=MerchantFactory(slug="beta"))
    client.force_login(owner_a.user)
    # When A's owner follows an old address of B's location
    response = client.get(f"/admin/shop/location/{location_b.pk}/change/", follow=True)
    # Then it ends where the new address ends: nothing of B
    assert response.status_code == 404
    assert b"beta" not in response.content


def test_the_shops_own_admin_pages_stay_where_they_are(client):
    owner = StaffMembershipFactory(role=Role.OWNER)
    client.force_login(owner.user)
    assert client.get("/admin/shop/order/").status_code == 200
    assert client.get("/admin/shop/voucherproduct/").status_code == 200
