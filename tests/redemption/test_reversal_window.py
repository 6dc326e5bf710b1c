"""The reversal window: anyone at the counter may reverse a redemption on its business day (or within the set
minutes); after it only a manager or owner of the redemption's merchant, with a reason that is kept."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from merchants.models import Role
from redemption.apps import check_reversal_window
from redemption.models import Redemption
from tests.factories import StaffMembershipFactory, UserFactory
from tests.redemption.conftest import Api, issue, token_for
from tests.redemption.test_pos import cashier_at, logged_in
from vouchers.models import TransactionKind, VoucherTransaction

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")  # the merchants' time zone (the factory's default)


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def redeem_at(moment: datetime, api: Api, voucher, amount: int = 1000) -> int:
    with time_machine.travel(moment, tick=False):
        response = api.post(
            f"vouchers/{voucher.code}/redeem", {"amount": amount, "currency": "EUR", "location": "front"}
        )
    assert response.status == 201, response.body
    return int(response.body["redemption"]["id"])


def reversals() -> int:
    return VoucherTransaction.objects.filter(kind=TransactionKind.REVERSE).count()


def staff_at(shop, role: str, user=None):
    membership = StaffMembershipFactory(merchant=shop.merchant, role=role, user=user or UserFactory())
    membership.locations.set([shop.front])
    return membership.user


# ---- the API ----------------------------------------------------------------------------------------------------


def test_a_token_reverses_within_the_business_day_with_an_empty_body_or_a_reason(api, shop):
    voucher = issue(shop, 5000)
    plain = redeem_at(berlin("2030-03-10 09:00"), api, voucher)
    explained = redeem_at(berlin("2030-03-10 09:05"), api, voucher)
    with time_machine.travel(berlin("2030-03-10 21:30"), tick=False):
        assert api.post(f"redemptions/{plain}/reverse", raw="").status == 200
        answer = api.post(f"redemptions/{explained}/reverse", {"reason": "wrong voucher scanned"})
    assert answer.status == 200
    assert answer.body["voucher"]["balance"] == 5000
    redemption = Redemption.objects.get(pk=explained)
    assert redemption.reversal_reason == "wrong voucher scanned"
    assert redemption.reversal is not None
    assert redemption.reversal.reference == "wrong voucher scanned"
    assert Redemption.objects.get(pk=plain).reversal_reason == ""


def test_the_business_day_is_the_merchants_calendar_day(api, shop):
    voucher = issue(shop, 5000)
    # 00:30 in Berlin is the evening before in UTC: still the same business day at 23:00 Berlin.
    early = redeem_at(berlin("2030-03-10 00:30"), api, voucher)
    # 23:30 in Berlin: twenty minutes later it is another day there, though not in UTC.
    late = redeem_at(berlin("2030-03-10 23:30"), api, voucher)
    with time_machine.travel(berlin("2030-03-10 23:00"), tick=False):
        assert api.post(f"redemptions/{early}/reverse").status == 200
    with time_machine.travel(berlin("2030-03-11 00:10"), tick=False):
        refused = api.post(f"redemptions/{late}/reverse")
    assert refused.status == 403
    assert refused.body["code"] == "reversal_window_closed"
    assert refused.body["message"]
    assert Redemption.objects.get(pk=late).reversed_at is None
    voucher.refresh_from_db()
    assert voucher.balance == 4000
    assert reversals() == 1


def test_a_token_after_the_window_is_refused_even_with_a_reason(api, shop):
    voucher = issue(shop, 5000)
    rid = redeem_at(berlin("2030-03-10 12:00"), api, voucher)
    with time_machine.travel(berlin("2030-03-11 09:00"), tick=False):
        response = api.post(f"redemptions/{rid}/reverse", {"reason": "customer complained"}, key="late-1")
    assert (response.status, response.body["code"]) == (403, "reversal_window_closed")
    assert reversals() == 0


def test_a_window_in_minutes(api, shop, settings):
    settings.REVERSAL_WINDOW = "15"
    voucher = issue(shop, 5000)
    start = berlin("2030-03-10 12:00")
    first = redeem_at(start, api, voucher)
    second = redeem_at(start, api, voucher)
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert api.post(f"redemptions/{first}/reverse").status == 200
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert api.post(f"redemptions/{second}/reverse").status == 403


def test_a_reversed_redemption_still_answers_as_reversed_after_the_window(api, shop):
    voucher = issue(shop, 5000)
    rid = redeem_at(berlin("2030-03-10 12:00"), api, voucher)
    with time_machine.travel(berlin("2030-03-10 12:01"), tick=False):
        assert api.post(f"redemptions/{rid}/reverse").status == 200
    with time_machine.travel(berlin("2030-03-12 12:00"), tick=False):
        again = api.post(f"redemptions/{rid}/reverse")
    assert (again.status, again.body["code"]) == (409, "already_reversed")


@pytest.mark.parametrize("reason", ["x" * 256, None, ["a"], {"text": "a"}])
def test_a_reason_that_is_not_short_text_is_422(api, shop, reason):
    voucher = issue(shop, 5000)
    rid = redeem_at(berlin("2030-03-10 12:00"), api, voucher)
    with time_machine.travel(berlin("2030-03-10 12:01"), tick=False):
        response = api.post(f"redemptions/{rid}/reverse", {"reason": reason})
    assert response.status == 422
    assert "reason" in response.body["errors"]
    assert reversals() == 0


# ---- the POS page -----------------------------------------------------------------------------------------------


@pytest.fixture
def api_at_front(shop) -> Api:
    return Api(Client(), token_for(shop, location=shop.front))


def test_a_cashier_reverses_within_the_window_and_may_give_a_reason(shop, api_at_front):
    voucher = issue(shop, 5000)
    rid = redeem_at(berlin("2030-03-10 12:00"), api_at_front, voucher)
    cashier = cashier_at(shop, shop.front)
    with time_machine.travel(berlin("2030-03-10 18:00"), tick=False):
        client = logged_in(cashier)  # a staff session lasts a working day: log in when the shift starts
        page = client.get(f"/pos/reverse/{rid}/").content.decode()
        assert 'id="confirm-reverse"' in page
        assert "Reason (optional)" in page
        assert client.post(f"/pos/reverse/{rid}/", {"reason": "typed 100 for 10"}).status_code == 302
    assert Redemption.objects.get(pk=rid).reversal_reason == "typed 100 for 10"


def test_a_cashier_after_the_window_is_told_why_and_cannot_reverse(shop, api_at_front):
    voucher = issue(shop, 5000)
    rid = redeem_at(berlin("2030-03-10 12:00"), api_at_front, voucher)
    cashier = cashier_at(shop, shop.front)
    with time_machine.travel(berlin("2030-03-11 10:00"), tick=False):
        client = logged_in(cashier)
        page = client.get(f"/pos/reverse/{rid}/")
        html = page.content.decode()
        assert 'id="reversal-closed"' in html
        assert "on the day it was made" in html
        assert "A manager or owner" in html
        assert 'id="confirm-reverse"' not in html
        refused = client.post(f"/pos/reverse/{rid}/", {"reason": "please"})
    assert refused.status_code == 403
    assert 'id="reversal-closed"' in refused.content.decode()
    assert reversals() == 0


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER])
def test_a_manager_or_owner_after_the_window_reverses_with_a_reason_only(shop, api_at_front, role):
    voucher = issue(shop, 5000)
    rid = redeem_at(berlin("2030-03-10 12:00"), api_at_front, voucher)
    manager = staff_at(shop, role)
    with time_machine.travel(berlin("2030-03-12 10:00"), tick=False):
        client = logged_in(manager)
        page = client.get(f"/pos/reverse/{rid}/").content.decode()
        assert "Reason (required)" in page
        assert 'id="reversal-late"' in page
        for blank in ("", "   ", "\x00"):
            missing = client.post(f"/pos/reverse/{rid}/", {"reason": blank})
            assert missing.status_code == 422
            assert 'id="reason-error"' in missing.content.decode()
        assert reversals() == 0
        done = client.post(f"/pos/reverse/{rid}/", {"reason": "double charge, receipt 88"})
    assert done.status_code == 302
    redemption = Redemption.objects.get(pk=rid)
    assert redemption.reversal_reason == "double charge, receipt 88"
    assert redemption.reversal is not None
    assert redemption.reversal.reference == "double charge, receipt 88"
    assert redemption.reversal.user_id is not None
    voucher.refresh_from_db()
    assert voucher.balance == 5000


def test_the_role_counts_at_the_redemptions_merchant_not_anywhere(shop, foreign_shop, api_at_front):
    voucher = issue(shop, 5000)
    rid = redeem_at(berlin("2030-03-10 12:00"), api_at_front, voucher)
    # A manager at another shop who is a cashier here.
    user = staff_at(foreign_shop, Role.MANAGER)
    staff_at(shop, Role.CASHIER, user=user)
    with time_machine.travel(berlin("2030-03-11 10:00"), tick=False):
        client = logged_in(user)
        assert client.post("/pos/location/", {"place": f"{shop.merchant.pk}:{shop.front.pk}"}).status_code == 302
        response = client.post(f"/pos/reverse/{rid}/", {"reason": "I manage the other shop"})
    assert response.status_code == 403
    assert reversals() == 0


@pytest.mark.parametrize("value", ["tomorrow", "0", "-5", "1.5", "", "business day"])
def test_a_setting_that_cannot_be_read_is_reported_at_start(settings, value):
    settings.REVERSAL_WINDOW = value
    errors = check_reversal_window()
    assert [error.id for error in errors] == ["redemption.E001"]
    assert "REVERSAL_WINDOW" in errors[0].msg


@pytest.mark.parametrize("value", ["business_day", "Business_Day", "30", 30])
def test_readable_settings_pass_the_check(settings, value):
    settings.REVERSAL_WINDOW = value
    assert check_reversal_window() == []
