"""``manage.py issue_vouchers``: codes on stdout and nothing else, messages on stderr, clear errors, all or nothing."""

import re
import zoneinfo
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import MerchantFactory
from vouchers.codes import normalize_code
from vouchers.models import TransactionKind, Voucher, VoucherKind

pytestmark = pytest.mark.django_db

DISPLAY_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def issue_vouchers(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("issue_vouchers", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_one_code_per_voucher_and_nothing_else(merchant):
    # When an operator issues three 25.00 vouchers
    out, err = issue_vouchers("--merchant", "alpha", "--amount", "2500", "--count", "3")

    # Then stdout holds exactly three display codes, one per line, and they are the issued vouchers
    lines = out.splitlines()
    assert len(lines) == 3
    assert all(DISPLAY_CODE.match(line) for line in lines), lines
    assert out == "".join(f"{line}\n" for line in lines)
    vouchers = Voucher.objects.filter(merchant=merchant)
    assert {v.code for v in vouchers} == {normalize_code(line) for line in lines}
    assert all((v.initial_value, v.balance, v.currency, v.kind) == (2500, 2500, "EUR", "monetary") for v in vouchers)
    assert all(v.transactions.get().kind == TransactionKind.ISSUE for v in vouchers)
    # And the operator's message went to stderr, with the amount as money
    assert "€25.00" in err
    assert "3" in err


def test_issues_item_vouchers_with_an_expiry_date(merchant):
    merchant.time_zone = "Europe/Berlin"
    merchant.save()
    last_day = (timezone.now() + timedelta(days=40)).date()

    out, _err = issue_vouchers(
        "--merchant", "alpha", "--item", "Massage 60 min", "--quantity", "3", "--expires", last_day.isoformat()
    )

    voucher = Voucher.objects.get(code=normalize_code(out.strip()))
    assert (voucher.kind, voucher.item_label, voucher.initial_value) == (VoucherKind.ITEM, "Massage 60 min", 3)
    # It works all of the last day in the merchant's time zone, and not a moment after
    local = timezone.localtime(voucher.expires_at, zoneinfo.ZoneInfo("Europe/Berlin"))
    assert local.date() == last_day
    assert (local.hour, local.minute) == (23, 59)


def test_numeric_merchants_get_digit_codes():
    MerchantFactory(slug="till", code_format="numeric")
    out, _err = issue_vouchers("--merchant", "till", "--amount", "1000")
    assert re.fullmatch(r"\d{4}(-\d{4}){4}\n", out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--merchant", "nobody", "--amount", "100"], "No merchant"),
        (["--merchant", "alpha"], "--amount"),
        (["--merchant", "alpha", "--amount", "0"], "positive"),
        (["--merchant", "alpha", "--amount", "-5"], "positive"),
        (["--merchant", "alpha", "--amount", "100", "--count", "0"], "--count"),
        (["--merchant", "alpha", "--amount", "100", "--count", "10001"], "--count"),
        (["--merchant", "alpha", "--amount", "100", "--expires", "31.12.2030"], "YYYY-MM-DD"),
        (["--merchant", "alpha", "--amount", "100", "--expires", "2020-01-01"], "future"),
        (["--merchant", "alpha", "--amount", "100", "--item", "Massage"], "not both"),
        (["--merchant", "alpha", "--amount", "100", "--quantity", "2"], "--quantity"),
        (["--merchant", "alpha", "--item", "Massage", "--quantity", "0"], "positive"),
        (["--merchant", "alpha", "--item", "  "], "label"),
        (["--merchant", "alpha", "--amount", "ten"], "invalid int"),
    ],
)
def test_bad_input_is_a_clear_error_and_issues_nothing(merchant, args, message):
    out = StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("issue_vouchers", *args, stdout=out, stderr=StringIO())
    assert out.getvalue() == ""
    assert not Voucher.objects.exists()


def test_an_inactive_merchant_gets_no_vouchers():
    MerchantFactory(slug="closed", is_active=False)
    with pytest.raises(CommandError, match="not active"):
        issue_vouchers("--merchant", "closed", "--amount", "100")
    assert not Voucher.objects.exists()


def test_the_expiry_date_is_today_or_later(merchant):
    today = date.today()  # noqa: DTZ011 - an operator's calendar day; the command reads it in the merchant's zone
    out, _err = issue_vouchers(
        "--merchant", "alpha", "--amount", "100", "--expires", (today + timedelta(days=2)).isoformat()
    )
    assert len(out.splitlines()) == 1
