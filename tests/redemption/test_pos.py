"""The POS page: login, the location choice, lookup, redeem, reverse, and the tenant and location walls."""

import re
from pathlib import Path

import pytest
from asgiref.local import Local
from django.test import Client

from delivery.services import voucher_url
from merchants.models import Role
from redemption.models import Redemption
from redemption.services import Caller, redemption_create
from tests.factories import TEST_PASSWORD, StaffMembershipFactory, UserFactory
from tests.redemption.conftest import issue
from vouchers.services import Actor

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def cashier_at(shop, *locations):
    membership = StaffMembershipFactory(merchant=shop.merchant, role=Role.CASHIER, user=UserFactory())
    membership.locations.set(locations)
    return membership.user


def idempotency_key(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match, "the redeem form carries a server-made key"
    return match.group(1)


def test_anonymous_is_sent_to_the_pos_login(client):
    response = client.get("/pos/")
    assert response.status_code == 302
    assert response.url.startswith("/pos/login/")
    assert client.get("/pos/login/").status_code == 200


def test_login_page_logs_a_cashier_in(shop):
    user = cashier_at(shop, shop.front)
    client = Client()
    response = client.post("/pos/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.url == "/pos/"
    assert shop.front.name in client.get("/pos/").content.decode()


def test_user_without_membership_gets_no_counter(db):
    user = UserFactory()
    response = logged_in(user).get("/pos/")
    assert response.status_code == 403


def test_several_locations_ask_first_and_refuse_a_location_not_allowed(shop, foreign_shop):
    user = cashier_at(shop)  # every location of the merchant
    client = logged_in(user)
    choose = client.get("/pos/")
    assert choose.status_code == 200
    assert "place" in choose.content.decode()
    foreign = client.post("/pos/location/", {"place": f"{foreign_shop.merchant.pk}:{foreign_shop.front.pk}"})
    assert foreign.status_code == 200  # the choice again, not the counter
    assert client.session.get("pos_location_id") is None
    chosen = client.post("/pos/location/", {"place": f"{shop.merchant.pk}:{shop.back.pk}"})
    assert chosen.status_code == 302
    assert client.session["pos_location_id"] == shop.back.pk


def test_lookup_redeem_part_and_see_the_receipt(shop):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    looked_up = client.post("/pos/lookup/", {"code": voucher.display_code.lower()})
    html = looked_up.content.decode()
    assert looked_up.status_code == 200
    assert "€50.00 available" in html
    assert 'value="50.00"' in html

    redeemed = client.post(
        "/pos/redeem/",
        {"code": voucher.code, "amount": "12,50", "reference": "R-7", "idempotency_key": idempotency_key(html)},
    )
    assert redeemed.status_code == 302
    redemption = Redemption.objects.get()
    assert (redemption.amount, redemption.location, redemption.reference) == (1250, shop.front, "R-7")
    receipt = client.get(redeemed.url).content.decode()
    assert "€37.50" in receipt
    assert f'id="receipt-id">{redemption.pk}<' in receipt


def test_double_submit_redeems_once(shop):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    key = idempotency_key(client.post("/pos/lookup/", {"code": voucher.code}).content.decode())
    form = {"code": voucher.code, "amount": "10", "idempotency_key": key}
    first = client.post("/pos/redeem/", form)
    second = client.post("/pos/redeem/", form)
    assert first.url == second.url
    assert Redemption.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.balance == 4000


def test_each_rendered_form_has_its_own_key(shop):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    first = idempotency_key(client.post("/pos/lookup/", {"code": voucher.code}).content.decode())
    second = idempotency_key(client.post("/pos/lookup/", {"code": voucher.code}).content.decode())
    assert first != second


def test_bad_amounts_are_refused_without_a_change(shop):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    for amount in ("", "abc", "0", "-5", "1.234", "99999"):
        response = client.post("/pos/redeem/", {"code": voucher.code, "amount": amount, "idempotency_key": amount})
        assert response.status_code in (409, 422), amount
    assert not Redemption.objects.exists()
    voucher.refresh_from_db()
    assert voucher.balance == 5000


def test_spent_voucher_shows_red_with_the_reason(shop):
    voucher = issue(shop, 1000)
    client = logged_in(cashier_at(shop, shop.front))
    client.post("/pos/redeem/", {"code": voucher.code, "amount": "10.00", "idempotency_key": "a"})
    html = client.post("/pos/lookup/", {"code": voucher.code}).content.decode()
    assert 'id="voucher-bad"' in html
    assert "Fully used" in html
    assert 'id="redeem-form"' not in html


def test_another_merchants_code_looks_unknown(shop, foreign_shop):
    foreign = issue(foreign_shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    foreign_answer = client.post("/pos/lookup/", {"code": foreign.code})
    unknown_answer = client.post("/pos/lookup/", {"code": "0000-0000-0000-0000"})
    assert foreign_answer.status_code == unknown_answer.status_code == 404
    assert "No voucher with this code" in foreign_answer.content.decode()
    redeem = client.post("/pos/redeem/", {"code": foreign.code, "amount": "1", "idempotency_key": "x"})
    assert redeem.status_code == 404
    foreign.refresh_from_db()
    assert foreign.balance == 5000


def test_scanning_the_voucher_qr_code_finds_the_voucher(shop, foreign_shop, settings):
    # The QR code holds the voucher page's address, not the code; a camera or a scanner may read it first.
    settings.BASE_URL = "https://gifts.example-spa.com"
    voucher = issue(shop, 5000)
    scanned = voucher_url(voucher.public_token)
    assert len(scanned) > 64  # longer than any code: it must not be cut before it is read
    client = logged_in(cashier_at(shop, shop.front))

    looked_up = client.post("/pos/lookup/", {"code": scanned})
    assert looked_up.status_code == 200
    assert "€50.00 available" in looked_up.content.decode()
    redeemed = client.post(
        "/pos/redeem/",
        {"code": scanned, "amount": "5", "idempotency_key": idempotency_key(looked_up.content.decode())},
    )
    assert redeemed.status_code == 302
    assert Redemption.objects.get().voucher == voucher

    # Another merchant's voucher page, or an unknown one, is no voucher here.
    foreign = issue(foreign_shop, 5000)
    for other in (voucher_url(foreign.public_token), voucher_url("no-such-token")):
        answer = client.post("/pos/lookup/", {"code": other})
        assert answer.status_code == 404
        assert "No voucher with this code" in answer.content.decode()


def test_reverse_asks_first_then_restores(shop):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    client.post("/pos/redeem/", {"code": voucher.code, "amount": "20", "idempotency_key": "k"})
    redemption = Redemption.objects.get()
    confirm = client.get(f"/pos/reverse/{redemption.pk}/")
    assert confirm.status_code == 200
    redemption.refresh_from_db()
    assert redemption.reversed_at is None
    done = client.post(f"/pos/reverse/{redemption.pk}/")
    assert done.status_code == 302
    redemption.refresh_from_db()
    voucher.refresh_from_db()
    assert redemption.reversed_at is not None
    assert voucher.balance == 5000
    assert "Reversed" in client.get(done.url).content.decode()


def test_reverse_is_walled_by_merchant_and_location(shop, foreign_shop):
    mine = issue(shop, 5000)
    foreign = issue(foreign_shop, 5000)
    back_caller = Caller(merchant_id=shop.merchant.pk, actor=Actor(), bound_location_id=shop.back.pk)
    at_back = redemption_create(caller=back_caller, code=mine.code, amount=100).redemption
    foreign_caller = Caller(merchant_id=foreign_shop.merchant.pk, actor=Actor())
    at_foreign = redemption_create(caller=foreign_caller, code=foreign.code, amount=100).redemption
    client = logged_in(cashier_at(shop, shop.front))

    assert client.post(f"/pos/reverse/{at_foreign.pk}/").status_code == 404
    assert client.post(f"/pos/reverse/{at_back.pk}/").status_code == 403
    assert not Redemption.objects.filter(reversed_at__isnull=False).exists()
    mine.refresh_from_db()
    foreign.refresh_from_db()
    assert (mine.balance, foreign.balance) == (4900, 4900)


def test_recent_list_shows_only_this_location(shop):
    voucher = issue(shop, 5000)
    back_caller = Caller(merchant_id=shop.merchant.pk, actor=Actor(), bound_location_id=shop.back.pk)
    at_back = redemption_create(caller=back_caller, code=voucher.code, amount=100).redemption
    client = logged_in(cashier_at(shop, shop.front))
    client.post("/pos/redeem/", {"code": voucher.code, "amount": "2", "idempotency_key": "k"})
    at_front = Redemption.objects.exclude(pk=at_back.pk).get()
    html = client.get("/pos/").content.decode()
    assert "€2.00" in html
    assert f"/pos/reverse/{at_front.pk}/" in html
    assert f"/pos/reverse/{at_back.pk}/" not in html


@pytest.fixture
def german_catalogue():
    """The app's German catalogue compiled, as `make install` does for the project's catalogues."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from django.utils import translation
    from django.utils.translation import trans_real

    po_path = Path(__file__).resolve().parents[2] / "redemption" / "locale" / "de" / "LC_MESSAGES" / "django.po"
    with po_path.open("rb") as po_file:
        catalogue = read_po(po_file)
    with po_path.with_suffix(".mo").open("wb") as mo_file:
        write_mo(mo_file, catalogue)
    trans_real._translations = {}
    trans_real._active = Local()
    yield
    translation.activate("en")


def test_pos_speaks_german_when_asked(shop, german_catalogue):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    response = client.get("/pos/", headers={"accept-language": "de"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="de">' in html
    assert "Gutscheincode" in html
    looked_up = client.post("/pos/lookup/", {"code": voucher.code}, headers={"accept-language": "de"})
    assert "50,00\xa0€ verfügbar" in looked_up.content.decode()


def test_control_characters_in_the_form_do_not_break_the_redemption(shop):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    response = client.post(
        "/pos/redeem/",
        {"code": voucher.code, "amount": "1", "reference": "R\x00-1", "idempotency_key": "k\x00"},
    )
    assert response.status_code == 302
    assert Redemption.objects.get().reference == "R-1"


def test_lookup_is_post_only_so_codes_never_travel_in_a_url(shop):
    voucher = issue(shop, 5000)
    client = logged_in(cashier_at(shop, shop.front))
    # A code in the query string is not looked up at all: not shown, and not counted as a guess either.
    for _ in range(12):
        answer = client.get("/pos/lookup/", {"code": voucher.code})
        assert answer.status_code == 405
        assert answer["Allow"] == "POST"
        assert voucher.code not in answer.content.decode()
        assert voucher.display_code not in answer.content.decode()
    assert client.get("/pos/lookup/", {"code": "0000-0000-0000-0000"}).status_code == 405
    assert client.post("/pos/lookup/", {"code": voucher.code}).status_code == 200
    # Every form of the counter sends the code in the body, and no link carries one.
    page = client.post("/pos/lookup/", {"code": voucher.code}).content.decode()
    forms = re.findall(r"<form\b[^>]*>", page)
    assert forms
    assert all('method="post"' in form for form in forms), forms
    assert not re.search(r'href="[^"]*(code=|' + voucher.code + r")", page, re.IGNORECASE)
