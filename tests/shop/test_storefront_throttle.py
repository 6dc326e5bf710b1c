"""The storefront takes at most STOREFRONT_ORDERS_PER_HOUR orders per client address (an IPv6 /64, behind
TRUSTED_PROXY_COUNT proxies the address they report) and answers the next with a 429 page in the shop's language."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from shop.models import Order
from tests.factories import MerchantFactory
from tests.shop.factories import VoucherProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(settings):  # type: ignore[no-untyped-def]
    settings.STOREFRONT_ORDERS_PER_HOUR = 3
    settings.TRUSTED_PROXY_COUNT = 0
    return VoucherProductFactory(merchant=MerchantFactory(slug="cafe"))


def order(client: Client, product, fields: dict[str, str] | None = None, **extra):  # type: ignore[no-untyped-def]
    data = {
        "product": str(product.pk),
        "amount": "50",
        "quantity": "1",
        "buyer_name": "Berta Buyer",
        "buyer_email": "berta@example.com",
        "language": "en",
        **(fields or {}),
    }
    return client.post("/s/cafe/", data, **extra)


def test_the_default_allowance_is_twenty_orders_an_hour():
    assert django_settings.STOREFRONT_ORDERS_PER_HOUR == 20


def test_the_order_after_the_allowance_gets_a_friendly_429_with_retry_after(client, product):
    # Given an address that placed its three orders of the hour
    for _ in range(3):
        assert order(client, product, REMOTE_ADDR="203.0.113.7").status_code == 307
    # When it sends a fourth
    response = order(client, product, REMOTE_ADDR="203.0.113.7")
    # Then it gets a page saying so, when to come back, and no order
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    html = response.content.decode()
    assert "Too many orders" in html
    assert "Please try again in about" in html
    assert 'href="/s/cafe/"' in html
    assert Order.objects.count() == 3
    # And the shop itself still opens, for it and for everyone else
    assert client.get("/s/cafe/", REMOTE_ADDR="203.0.113.7").status_code == 200
    assert order(client, product, REMOTE_ADDR="198.51.100.1").status_code == 307


def test_the_page_speaks_the_storefronts_language(client, product, german_catalogues):
    for _ in range(3):
        order(client, product, REMOTE_ADDR="203.0.113.7")
    response = order(client, product, REMOTE_ADDR="203.0.113.7", headers={"accept-language": "de"})
    assert response.status_code == 429
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert "Zu viele Bestellungen" in html
    assert "Bitte versuchen Sie es in etwa" in html


def test_a_form_with_errors_uses_none_of_the_allowance(client, product):
    for _ in range(5):
        assert order(client, product, {"buyer_email": "nope"}, REMOTE_ADDR="203.0.113.7").status_code == 400
    for _ in range(3):
        assert order(client, product, REMOTE_ADDR="203.0.113.7").status_code == 307


def test_the_allowance_comes_back_in_the_next_hour(client, product):
    start = timezone.now().replace(minute=50, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(3):
            order(client, product, REMOTE_ADDR="203.0.113.7")
        refused = order(client, product, REMOTE_ADDR="203.0.113.7")
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) == 600
        clock.shift(timedelta(seconds=600))
        assert order(client, product, REMOTE_ADDR="203.0.113.7").status_code == 307


def test_an_ipv6_network_shares_one_allowance(client, product):
    # Given three orders from three addresses of one /64 (one customer's line)
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:abcd:ef01:2345:6789"):
        assert order(client, product, REMOTE_ADDR=address).status_code == 307
    # Then a fourth address of that /64 is refused, and the next /64 is not
    assert order(client, product, REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert order(client, product, REMOTE_ADDR="2001:db8:1:3::1").status_code == 307


def test_behind_a_proxy_each_client_has_its_own_allowance_and_forged_entries_do_not_help(client, product, settings):
    # Given the shop behind one reverse proxy, which appends the address it saw
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # When one client uses up its allowance, each time claiming another origin in a forged first entry
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        forwarded = f"{forged}, 203.0.113.7"
        assert order(client, product, HTTP_X_FORWARDED_FOR=forwarded, **proxy).status_code == 307
    # Then its next order is refused whatever it claims, and another client behind the same proxy still orders
    assert order(client, product, HTTP_X_FORWARDED_FOR="4.4.4.4, 203.0.113.7", **proxy).status_code == 429
    assert order(client, product, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code == 307


def test_zero_turns_the_limit_off(client, product, settings):
    settings.STOREFRONT_ORDERS_PER_HOUR = 0
    for _ in range(5):
        assert order(client, product, REMOTE_ADDR="203.0.113.7").status_code == 307
