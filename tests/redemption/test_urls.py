"""Redemption's routes: the POS pages and the API keep their paths and names; the API's routes live beside its
views (``redemption.api_urls``) and the project mounts them under /api/v1/."""

import importlib.util

import pytest
from django.urls import URLPattern, resolve, reverse

from redemption import api_urls

ROUTES = [
    ("/api/v1/vouchers/ABCD", "redemption:api-voucher", {"code": "ABCD"}),
    ("/api/v1/vouchers/ABCD/redeem", "redemption:api-voucher-redeem", {"code": "ABCD"}),
    ("/api/v1/vouchers/ABCD/holds", "redemption:api-voucher-holds", {"code": "ABCD"}),
    ("/api/v1/vouchers/ABCD/transactions", "redemption:api-voucher-transactions", {"code": "ABCD"}),
    ("/api/v1/redemptions/7/reverse", "redemption:api-redemption-reverse", {"id": "7"}),
    ("/api/v1/holds/7/capture", "redemption:api-hold-capture", {"id": "7"}),
    ("/api/v1/holds/7", "redemption:api-hold", {"id": "7"}),
    ("/api/v1/schema/", "redemption:api-schema", {}),
    ("/api/v1/docs/", "redemption:api-docs", {}),
    ("/pos/", "redemption:pos", {}),
    ("/pos/login/", "redemption:pos-login", {}),
    ("/pos/logout/", "redemption:pos-logout", {}),
    ("/pos/location/", "redemption:pos-location", {}),
    ("/pos/lookup/", "redemption:pos-lookup", {}),
    ("/pos/redeem/", "redemption:pos-redeem", {}),
    ("/pos/reverse/7/", "redemption:pos-reverse", {"redemption_id": 7}),
]


@pytest.mark.parametrize(("path", "name", "kwargs"), ROUTES, ids=[route[1] for route in ROUTES])
def test_each_route_keeps_its_path_and_name(path, name, kwargs):
    assert reverse(name, kwargs=kwargs) == path
    assert resolve(path).view_name == name


def test_the_api_routes_are_redemptions_own():
    own = {pattern.callback for pattern in api_urls.urlpatterns if isinstance(pattern, URLPattern)}
    for path, name, _kwargs in ROUTES:
        if name.startswith("redemption:api-"):
            assert resolve(path).func in own, path
    assert importlib.util.find_spec("config.api") is None


def test_any_other_path_under_the_api_is_a_json_404(client):
    response = client.get("/api/v1/merchants/beta")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such API endpoint."}
    assert resolve("/api/v1/merchants/beta").view_name == "redemption:redemption.api_docs.api_not_found"
