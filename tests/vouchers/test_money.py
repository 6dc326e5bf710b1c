"""Amounts typed by people: a strict parser, and every form that reads one answers bad text with a form error, fast."""

import time

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from merchants.models import Role
from shop.models import Order
from tests.factories import MerchantFactory, StaffMembershipFactory
from tests.redemption.conftest import issue, make_shop
from tests.redemption.test_pos import cashier_at, logged_in
from tests.shop.factories import VoucherProductFactory
from vouchers.money import MAX_MINOR_UNITS, InvalidMoney, parse_money, parse_quantity

# Inputs that once cost a minute of CPU (the exponent) or ended in a server error (NaN and friends).
HOSTILE = ["1e999990", "1e999999", "1E5", "sNaN", "NaN", "-NaN", "Infinity", "-Infinity", "inf"]


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("12.50", "EUR", 1250),
        ("12,50", "EUR", 1250),
        (" 12.5 ", "EUR", 1250),
        ("12", "EUR", 1200),
        ("12.", "EUR", 1200),
        (".5", "EUR", 50),
        ("0", "EUR", 0),
        ("007", "EUR", 700),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("999999.99", "EUR", MAX_MINOR_UNITS),
    ],
)
def test_parse_money_reads_plain_amounts(text, currency, expected):
    assert parse_money(text, currency) == expected


@pytest.mark.parametrize(
    "text",
    [
        *HOSTILE,
        "1_000",  # Python's digit grouping
        "1 000",
        "1.000,50",  # two separators
        "+5",
        "-5",
        "٥",  # Arabic-Indic five
        "５",  # fullwidth five
        "12.345",  # more decimals than EUR has
        "1000000",  # over the cap (100 000 000 cents)
        "99999999999999999999",
        "0x10",
        "",
        ".",
        "-",
        "12.50 EUR",
        "1" * 33,
    ],
)
def test_parse_money_refuses_everything_else_quickly(text):
    started = time.perf_counter()
    with pytest.raises(InvalidMoney):
        parse_money(text, "EUR")
    assert time.perf_counter() - started < 0.05


def test_parse_money_refuses_decimals_a_currency_does_not_have():
    with pytest.raises(InvalidMoney):
        parse_money("500.5", "JPY")
    with pytest.raises(InvalidMoney):
        parse_money("1.2345", "KWD")


def test_signed_amounts_are_read_only_when_asked_for_and_capped_both_ways():
    assert parse_money("-12.50", "EUR", signed=True) == -1250
    assert parse_money("+5", "EUR", signed=True) == 500
    with pytest.raises(InvalidMoney):
        parse_money("-1000000", "EUR", signed=True)
    with pytest.raises(InvalidMoney):
        parse_money("--5", "EUR", signed=True)
    with pytest.raises(InvalidMoney):
        parse_money("-1e9", "EUR", signed=True)


@pytest.mark.parametrize("text", ["3.0", "1e3", "1_0", "٣", "+3", "-3", "100000000", "NaN", ""])
def test_parse_quantity_takes_plain_whole_numbers_only(text):
    with pytest.raises(InvalidMoney):
        parse_quantity(text)


def test_parse_quantity_reads_whole_numbers():
    assert parse_quantity(" 3 ") == 3
    assert parse_quantity("-2", signed=True) == -2


# -- every form that reads an amount -----------------------------------------------------------------------------


def _quick(post) -> object:
    started = time.perf_counter()
    response = post()
    assert time.perf_counter() - started < 2  # the parser refuses before any arithmetic; a form page takes ms
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("text", HOSTILE)
def test_storefront_own_amount_answers_a_form_error(client, text):
    product = VoucherProductFactory(merchant=MerchantFactory(slug="cafe"))
    data = {
        "product": str(product.pk),
        "amount": text,
        "quantity": "1",
        "buyer_name": "Berta Buyer",
        "buyer_email": "berta@example.com",
        "language": "en",
    }
    response = _quick(lambda: client.post("/s/cafe/", data))
    assert response.status_code == 400  # the form again, with its errors
    assert "Enter an amount" in " ".join(response.context["form"].errors["amount"])
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("text", HOSTILE)
def test_pos_amount_answers_a_form_error(text):
    shop = make_shop()
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    response = _quick(lambda: client.post("/pos/redeem/", {"code": voucher.code, "amount": text}))
    assert response.status_code == 422
    assert 'id="amount-error"' in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.balance == 5000


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["1e999990", "sNaN", "NaN", "Infinity", "-1e999999", "1_000"])
def test_admin_correction_answers_an_error_message(text):
    shop = make_shop()
    voucher = issue(shop, 5000)
    owner = StaffMembershipFactory(merchant=shop.merchant, role=Role.OWNER).user
    client = Client()
    client.force_login(owner)
    data = {
        "action": "adjust_vouchers",
        ACTION_CHECKBOX_NAME: [voucher.pk],
        "select_across": "0",
        "apply": "1",
        "amount": text,
        "reason": "typo",
    }
    response = _quick(lambda: client.post(reverse("admin:vouchers_voucher_changelist"), data, follow=True))
    assert response.status_code == 200
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert any(level == "error" for level, _text in messages), messages
    voucher.refresh_from_db()
    assert voucher.balance == 5000
    assert voucher.transactions.count() == 1
