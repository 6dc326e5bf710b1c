"""Fixtures for the voucher tests: a merchant, and vouchers issued through the service as production does."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import MerchantFactory
from vouchers.models import Voucher
from vouchers.services import voucher_issue


@pytest.fixture
def merchant():
    return MerchantFactory(slug="alpha", currency="EUR")


@pytest.fixture
def issue(merchant) -> Callable[..., Voucher]:
    """Issue a voucher of ``merchant`` (or another one) through the service; 50.00 EUR unless told otherwise."""

    def _issue(value: int = 5000, **kwargs: Any) -> Voucher:
        kwargs.setdefault("merchant_id", merchant.pk)
        return voucher_issue(value=value, **kwargs)

    return _issue
