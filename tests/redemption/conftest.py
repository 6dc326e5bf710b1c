"""Fixtures for redemption: two merchants, locations, API tokens and an API client that speaks JSON."""

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from merchants.models import Location, Merchant, Role
from redemption.models import Scope
from redemption.services import api_token_create
from tests.factories import LocationFactory, MerchantFactory, StaffMembershipFactory, UserFactory
from vouchers.models import Voucher
from vouchers.services import voucher_issue

ALL_SCOPES = (Scope.VOUCHERS_READ, Scope.REDEMPTIONS_WRITE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """A JSON client for /api/v1/ with one token."""

    def __init__(self, client: Client, secret: str | None) -> None:
        # As in production: the test client skips CSRF checks by default, a till meets them.
        client.handler.enforce_csrf_checks = True
        self.client = client
        self.secret = secret

    def _headers(self, idempotency_key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.secret is not None:
            headers["authorization"] = f"Bearer {self.secret}"
        if idempotency_key is not None:
            headers["idempotency-key"] = idempotency_key
        return headers

    @staticmethod
    def _wrap(response: Any) -> ApiResponse:
        body = json.loads(response.content) if response.content else None
        return ApiResponse(response.status_code, body, dict(response.headers))

    def get(self, path: str, headers: dict[str, str] | None = None) -> ApiResponse:
        return self._wrap(self.client.get(f"/api/v1/{path}", headers=self._headers(None, headers)))

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self._wrap(
            self.client.post(
                f"/api/v1/{path}", data=data, content_type="application/json", headers=self._headers(key, headers)
            )
        )

    def delete(self, path: str, *, key: str | None = None) -> ApiResponse:
        return self._wrap(self.client.delete(f"/api/v1/{path}", headers=self._headers(key, None)))


@dataclass
class Shop:
    merchant: Merchant
    front: Location
    back: Location


def make_shop() -> Shop:
    merchant = MerchantFactory()
    return Shop(
        merchant=merchant,
        front=LocationFactory(merchant=merchant, slug="front"),
        back=LocationFactory(merchant=merchant, slug="back"),
    )


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()


@pytest.fixture
def foreign_shop(db) -> Shop:
    return make_shop()


def issue(shop: Shop, value: int = 5000, **kwargs: Any) -> Voucher:
    return voucher_issue(merchant_id=shop.merchant.pk, value=value, **kwargs)


def token_for(shop: Shop, *, scopes: Any = ALL_SCOPES, location: Location | None = None) -> str:
    _token, secret = api_token_create(
        merchant_id=shop.merchant.pk,
        name="Till",
        scopes=scopes,
        location_id=location.pk if location else None,
    )
    return secret


@pytest.fixture
def api(shop: Shop) -> Api:
    return Api(Client(), token_for(shop))


@pytest.fixture
def foreign_api(foreign_shop: Shop) -> Api:
    return Api(Client(), token_for(foreign_shop))


@pytest.fixture
def cashier(shop: Shop):
    membership = StaffMembershipFactory(merchant=shop.merchant, role=Role.CASHIER, user=UserFactory())
    return membership.user
