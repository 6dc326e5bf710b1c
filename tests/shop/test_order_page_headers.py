"""The order page shows the full voucher codes to whoever holds its link: like the voucher page it stays out of
shared caches, search engines and other sites' Referer logs."""

import re

import pytest

from shop.services import order_fulfil, order_mark_paid
from tests.shop.factories import place_order
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def assert_private(response) -> None:  # type: ignore[no-untyped-def]
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert re.search(r'<meta name="robots" content="noindex[^"]*">', response.content.decode())


def test_the_order_page_with_its_codes_is_private_like_the_voucher_page(client):
    # Given a fulfilled order, whose page shows the voucher's full code
    order = place_order()
    order_mark_paid(order_id=order.pk, amount=order.total, currency=order.currency, cause="test")
    order_fulfil(order_id=order.pk)
    voucher = Voucher.objects.get(order_line__order=order)
    # When its page is opened
    response = client.get(f"/o/{order.public_token}/")
    # Then the code is there, under the same headers as the voucher page
    assert response.status_code == 200
    assert voucher.display_code in response.content.decode()
    assert_private(response)
    voucher_page = client.get(f"/v/{voucher.public_token}/")
    for header in ("Cache-Control", "X-Robots-Tag", "Referrer-Policy"):
        assert response[header] == voucher_page[header]


def test_a_pending_order_page_is_private_too(client):
    response = client.get(f"/o/{place_order().public_token}/")
    assert response.status_code == 200
    assert_private(response)


def test_an_unknown_order_page_is_not_indexed_either(client):
    response = client.get("/o/not-a-token/")
    assert response.status_code == 404
    assert_private(response)
