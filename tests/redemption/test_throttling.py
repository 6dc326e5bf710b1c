"""Code guessing: ten failed lookups a minute per token, user and address (per merchant), then 429 with Retry-After."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from config.login_limits import client_address as login_client_address
from core.client_address import address_bucket, forget_logged_warnings
from delivery.services import voucher_url
from redemption.models import ThrottleEvent
from redemption.throttling import client_ip
from tests.redemption.conftest import Api, issue, token_for
from tests.redemption.test_pos import cashier_at, logged_in

pytestmark = pytest.mark.django_db

UNKNOWN = "0000-0000-0000-0000"


def test_api_throttles_after_ten_failures_and_resets_next_minute(shop):
    voucher = issue(shop, 5000)
    api = Api(Client(), token_for(shop))
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        answers = [api.get(f"vouchers/{UNKNOWN}").status for _ in range(10)]
        assert answers == [404] * 10
        blocked = api.get(f"vouchers/{voucher.code}")
        assert blocked.status == 429
        assert blocked.body["code"] == "throttled"
        assert 1 <= int(blocked.headers["Retry-After"]) <= 60
        # Writes that take a code are throttled too, and nothing is redeemed.
        assert api.post(f"vouchers/{voucher.code}/redeem", {"amount": 1, "currency": "EUR"}).status == 429
    assert ThrottleEvent.objects.count() >= 1
    event = ThrottleEvent.objects.first()
    assert event is not None
    assert event.merchant == shop.merchant
    assert event.failures == 10
    voucher.refresh_from_db()
    assert voucher.balance == 5000
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert api.get(f"vouchers/{voucher.code}").status == 200


def test_one_audit_row_per_caller_and_window(shop):
    api = Api(Client(), token_for(shop))
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        for _ in range(15):
            api.get(f"vouchers/{UNKNOWN}")
    identities = sorted(ThrottleEvent.objects.values_list("identity", flat=True))
    assert len(identities) == len(set(identities))
    assert any(identity.startswith("token:") for identity in identities)


def test_successful_lookups_do_not_count(shop):
    voucher = issue(shop, 5000)
    api = Api(Client(), token_for(shop))
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        assert {api.get(f"vouchers/{voucher.code}").status for _ in range(30)} == {200}
    assert not ThrottleEvent.objects.exists()


def test_the_same_ip_is_throttled_across_tokens(shop):
    voucher = issue(shop, 5000)
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            Api(Client(), token_for(shop)).get(f"vouchers/{UNKNOWN}")
        assert Api(Client(), token_for(shop)).get(f"vouchers/{voucher.code}").status == 429


def test_pos_throttles_the_cashier(shop):
    voucher = issue(shop, 5000)
    cashier = cashier_at(shop, shop.front)
    client = logged_in(cashier)
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            assert client.post("/pos/lookup/", {"code": UNKNOWN}).status_code == 404
        blocked = client.post("/pos/lookup/", {"code": voucher.code})
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers
    assert ThrottleEvent.objects.filter(user=cashier).exists()
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert client.post("/pos/lookup/", {"code": voucher.code}).status_code == 200


def test_pos_counts_scanned_addresses_of_no_voucher_and_tells_a_throttled_cashier_nothing(shop, foreign_shop):
    mine, foreign = issue(shop, 5000), issue(foreign_shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        guesses = [voucher_url(f"guess-{number:027d}") for number in range(9)] + [voucher_url(foreign.public_token)]
        assert [client.post("/pos/lookup/", {"code": guess}).status_code for guess in guesses] == [404] * 10
        blocked = client.post("/pos/lookup/", {"code": voucher_url(mine.public_token)})
        assert blocked.status_code == 429
        page = blocked.content.decode()
        assert mine.code not in page
        assert mine.display_code not in page
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert client.post("/pos/lookup/", {"code": voucher_url(mine.public_token)}).status_code == 200


def _fail_ten_times_as(shop, forwarded_for: str) -> None:
    api = Api(Client(), token_for(shop))
    headers = {"x-forwarded-for": forwarded_for}
    assert [api.get(f"vouchers/{UNKNOWN}", headers=headers).status for _ in range(10)] == [404] * 10


def test_without_trusted_proxies_the_ip_is_remote_addr_and_forwarded_for_is_ignored(shop, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    voucher = issue(shop, 5000)
    _fail_ten_times_as(shop, "203.0.113.7")
    # Another token, another claimed address, the same connection address: the IP counter refuses it.
    other = Api(Client(), token_for(shop))
    assert other.get(f"vouchers/{voucher.code}", headers={"x-forwarded-for": "198.51.100.9"}).status == 429
    assert ThrottleEvent.objects.filter(identity="ip:127.0.0.1").exists()


def test_behind_one_trusted_proxy_the_ip_is_the_last_forwarded_address(shop, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    voucher = issue(shop, 5000)
    # The client prepended a made-up address; the proxy appended the one it saw.
    _fail_ten_times_as(shop, "10.9.9.9, 203.0.113.7")
    fresh = Api(Client(), token_for(shop))
    assert fresh.get(f"vouchers/{voucher.code}", headers={"x-forwarded-for": "198.51.100.9"}).status == 200
    assert fresh.get(f"vouchers/{voucher.code}", headers={"x-forwarded-for": "203.0.113.7"}).status == 429
    assert ThrottleEvent.objects.filter(identity="ip:203.0.113.7", ip="203.0.113.7").exists()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "127.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.1.1.1, 203.0.113.7", "203.0.113.7"),
        (2, "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "127.0.0.1"),  # fewer entries than proxies: not through the proxies as configured
        (1, "", "127.0.0.1"),
        (1, "not-an-address", "127.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded}) == expected


# -- the address counter is per merchant, per IPv6 /64, and warns about an ignored proxy header ----------------


def test_one_merchants_typos_do_not_lock_out_another_merchant_behind_the_same_address(shop, foreign_shop):
    neighbour = issue(foreign_shop, 5000)
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        _fail_ten_times_as(shop, "")  # ten typos from one merchant's till at 127.0.0.1
        # Another till of the same merchant behind that address is stopped...
        assert Api(Client(), token_for(shop)).get(f"vouchers/{UNKNOWN}").status == 429
        # ...another merchant's till behind it is not, at the API or the POS page.
        assert Api(Client(), token_for(foreign_shop)).get(f"vouchers/{neighbour.code}").status == 200
        pos = logged_in(cashier_at(foreign_shop, foreign_shop.front))
        assert pos.post("/pos/lookup/", {"code": neighbour.code}).status_code == 200
    assert not ThrottleEvent.objects.filter(merchant=foreign_shop.merchant).exists()


def test_ipv6_clients_are_counted_per_64_network(shop, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    voucher = issue(shop, 5000)
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        # A new address of the same /64 for every guess (and a new token: only the address can stop them).
        for host in range(1, 11):
            forwarded = {"x-forwarded-for": f"2001:db8:5:6::{host:x}"}
            assert Api(Client(), token_for(shop)).get(f"vouchers/{UNKNOWN}", headers=forwarded).status == 404
        same_network = {"x-forwarded-for": "2001:db8:5:6:ffff::1"}
        other_network = {"x-forwarded-for": "2001:db8:5:7::1"}
        assert Api(Client(), token_for(shop)).get(f"vouchers/{voucher.code}", headers=same_network).status == 429
        assert Api(Client(), token_for(shop)).get(f"vouchers/{voucher.code}", headers=other_network).status == 200
    assert ThrottleEvent.objects.filter(identity="ip:2001:db8:5:6::").exists()


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:5:6:1:2:3:4", "2001:db8:5:6::"),
        ("2001:DB8:5:6::1", "2001:db8:5:6::"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not-an-address", None),
        ("", None),
        (None, None),
    ],
)
def test_address_bucket(address, bucket):
    assert address_bucket(address) == bucket


def test_logins_and_code_guessing_count_the_same_address():
    meta = {"REMOTE_ADDR": "2001:db8:5:6::99"}
    request = RequestFactory().get("/", REMOTE_ADDR=meta["REMOTE_ADDR"])
    assert login_client_address(request) == address_bucket(client_ip(meta)) == "2001:db8:5:6::"


def test_forwarded_for_without_trusted_proxies_is_logged_once_in_production(shop, settings, caplog):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.DEBUG = False
    forget_logged_warnings()
    with caplog.at_level(logging.WARNING, logger="core.client_address"):
        _fail_ten_times_as(shop, "203.0.113.7")
    warnings = [record for record in caplog.records if "TRUSTED_PROXY_COUNT" in record.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_no_warning_without_the_header_or_with_trusted_proxies(settings, caplog):
    settings.DEBUG = False
    forget_logged_warnings()
    with caplog.at_level(logging.WARNING, logger="core.client_address"):
        settings.TRUSTED_PROXY_COUNT = 0
        client_ip({"REMOTE_ADDR": "127.0.0.1"})
        settings.TRUSTED_PROXY_COUNT = 1
        client_ip({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"})
    assert not [record for record in caplog.records if "TRUSTED_PROXY_COUNT" in record.getMessage()]
