"""Schemathesis against /api/v1/schema/: generated requests never get a 5xx or an answer the schema does not allow."""

from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, settings

from config.wsgi import application
from tests.redemption.conftest import Api, issue, make_shop, token_for

EXAMPLES = 15
# The real WSGI handler closes the connection after each request, as in production: no test transaction may
# span the requests, so each test commits and the tables are emptied afterwards.
pytestmark = pytest.mark.django_db(transaction=True)


def _bridge_hypothesis_jsonschema() -> None:
    """hypothesis-jsonschema 0.23 drives ``many()`` with ``more()``, which newer Hypothesis replaced with
    iteration inside a ``with`` block. This adapter gives it the old interface on top of the new one."""
    from hypothesis.internal.conjecture import utils as conjecture_utils
    from hypothesis_jsonschema import _from_schema

    if hasattr(conjecture_utils.many, "more"):
        return

    class OldStyleMany:
        def __init__(self, data: Any, **sizes: Any) -> None:
            self._many = conjecture_utils.many(data, **sizes)
            self._many.__enter__()
            self._iterator = iter(self._many)

        def more(self) -> bool:
            try:
                next(self._iterator)
            except StopIteration:
                self._many.__exit__(None)
                return False
            return True

        def reject(self, why: str | None = None) -> None:
            self._many.reject(why)

    class ConjectureUtils:
        many = OldStyleMany

        def __getattr__(self, name: str) -> Any:
            return getattr(conjecture_utils, name)

    _from_schema.cu = ConjectureUtils()  # type: ignore[attr-defined]


_bridge_hypothesis_jsonschema()


@pytest.fixture
def api_schema(transactional_db) -> Any:
    document = Client().get("/api/v1/schema/?format=json").json()
    return schemathesis.from_dict(document, app=application)


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def world(transactional_db) -> dict[str, Any]:
    """A merchant with a token, a voucher, a redemption and a hold for the generated requests to hit."""
    shop = make_shop()
    secret = token_for(shop)
    voucher = issue(shop, 100_000)
    api = Api(Client(), secret)
    redemption_id = api.post(f"vouchers/{voucher.code}/redeem", {"amount": 100, "currency": "EUR"}).body["redemption"][
        "id"
    ]
    hold_id = api.post(f"vouchers/{voucher.code}/holds", {"amount": 100, "currency": "EUR"}).body["hold"]["id"]
    return {"secret": secret, "code": voucher.code, "ids": [redemption_id, hold_id]}


def _call(case: Any, world: dict[str, Any]) -> None:
    cache.clear()  # throttling would otherwise answer most examples with 429
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {world['secret']}"}
    response = case.call_wsgi()
    assert response.status_code < 500
    case.validate_response(response)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests(case, world):
    _call(case, world)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_on_real_rows(case, world):
    # The same, with path parameters that exist, so the operations get past the lookup.
    if "code" in (case.path_parameters or {}):
        case.path_parameters["code"] = world["code"]
    if "id" in (case.path_parameters or {}):
        case.path_parameters["id"] = world["ids"][0] if "redemptions" in case.path else world["ids"][1]
    _call(case, world)
