"""Voucher admin: tenant walls, money on screen, a read-only ledger, and actions that go through the services."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from merchants.models import Role
from tests.factories import MerchantFactory, StaffMembershipFactory, UserFactory
from vouchers.codes import format_code
from vouchers.models import ActorType, TransactionKind, VoucherKind, VoucherStatus, VoucherTransaction
from vouchers.services import voucher_issue, voucher_redeem

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:vouchers_voucher_changelist"
LEDGER = "admin:vouchers_vouchertransaction_changelist"


@pytest.fixture
def shops():
    alpha, beta = MerchantFactory(slug="alpha", name="Alpha"), MerchantFactory(slug="beta", name="Beta")
    voucher_a = voucher_issue(merchant_id=alpha.pk, value=5000)
    voucher_b = voucher_issue(merchant_id=beta.pk, value=7000, recipient_name="Bertha Beta")
    voucher_redeem(voucher_id=voucher_b.pk, amount=1234)
    return {
        "a": alpha,
        "b": beta,
        "voucher_a": voucher_a,
        "voucher_b": voucher_b,
        "owner_a": StaffMembershipFactory(merchant=alpha, role=Role.OWNER).user,
        "cashier_a": StaffMembershipFactory(merchant=alpha, role=Role.CASHIER).user,
    }


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def run_action(client, action: str, vouchers, **fields):
    data = {"action": action, ACTION_CHECKBOX_NAME: [v.pk for v in vouchers], "select_across": "0", **fields}
    return client.post(reverse(CHANGELIST), data)


# -- tenants -------------------------------------------------------------------------------------------------------


def test_staff_of_a_see_only_their_vouchers_and_ledger(client, shops):
    client.force_login(shops["owner_a"])
    assert listed(client.get(reverse(CHANGELIST))) == {shops["voucher_a"].pk}
    ledger = listed(client.get(reverse(LEDGER)))
    assert ledger == set(shops["voucher_a"].transactions.values_list("pk", flat=True))
    assert not ledger & set(shops["voucher_b"].transactions.values_list("pk", flat=True))
    # Searching for B's code finds nothing either
    assert listed(client.get(reverse(CHANGELIST), {"q": shops["voucher_b"].code})) == set()


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_staff_of_a_get_404_for_bs_voucher_and_ledger_urls(client, shops, view):
    client.force_login(shops["owner_a"])
    voucher_b = shops["voucher_b"]
    for url in [
        reverse(f"admin:vouchers_voucher_{view}", args=[voucher_b.pk]),
        reverse(f"admin:vouchers_vouchertransaction_{view}", args=[voucher_b.transactions.first().pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Bertha" not in response.content
        assert voucher_b.display_code.encode() not in response.content


def test_a_superuser_sees_every_merchant(client, shops):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert listed(client.get(reverse(CHANGELIST))) == {shops["voucher_a"].pk, shops["voucher_b"].pk}
    assert len(listed(client.get(reverse(LEDGER)))) == VoucherTransaction.objects.count() == 3


def test_actions_cannot_reach_another_merchants_voucher(client, shops):
    # Given the owner of A posts an action naming B's voucher
    client.force_login(shops["owner_a"])
    run_action(client, "void_vouchers", [shops["voucher_b"]], apply="1", reason="hostile")
    # Then B's voucher is untouched
    shops["voucher_b"].refresh_from_db()
    assert shops["voucher_b"].status == VoucherStatus.ACTIVE
    assert not VoucherTransaction.objects.filter(kind=TransactionKind.VOID).exists()


# -- display -------------------------------------------------------------------------------------------------------


def test_amounts_are_shown_as_money_not_minor_units(client, shops):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "€57.66" in page
    assert "€70.00" in page
    assert ">5766<" not in page
    assert ">7000<" not in page
    detail = client.get(reverse("admin:vouchers_voucher_change", args=[shops["voucher_b"].pk])).content.decode()
    assert "-€12.34" in detail
    assert ">-1234<" not in detail
    ledger = client.get(reverse(LEDGER)).content.decode()
    assert "€57.66" in ledger
    assert ">-1234<" not in ledger


def test_item_vouchers_show_items(client, shops):
    voucher = voucher_issue(merchant_id=shops["a"].pk, value=3, kind=VoucherKind.ITEM, item_label="Massage")
    client.force_login(shops["owner_a"])
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "3 × Massage" in page
    assert voucher.pk in listed(client.get(reverse(CHANGELIST)))


@pytest.mark.parametrize("typed", ["lower", "dashes", "spaces", "partial"])
def test_search_by_code_however_it_is_typed(client, shops, typed):
    code = shops["voucher_a"].code
    term = {
        "lower": code.lower(),
        "dashes": format_code(code),
        "spaces": format_code(code).replace("-", " ").lower(),
        "partial": format_code(code)[:9],
    }[typed]
    client.force_login(shops["owner_a"])
    assert listed(client.get(reverse(CHANGELIST), {"q": term})) == {shops["voucher_a"].pk}
    assert listed(client.get(reverse(LEDGER), {"q": term})) == set(
        shops["voucher_a"].transactions.values_list("pk", flat=True)
    )


def test_filters_by_status_and_kind(client, shops):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert listed(client.get(reverse(CHANGELIST), {"status__exact": "active"})) == {
        shops["voucher_a"].pk,
        shops["voucher_b"].pk,
    }
    assert listed(client.get(reverse(CHANGELIST), {"status__exact": "void"})) == set()
    assert listed(client.get(reverse(CHANGELIST), {"kind__exact": "item"})) == set()


# -- the ledger is read-only ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner_a", "superuser"])
def test_nobody_can_add_change_or_delete_ledger_rows(client, shops, who):
    user = UserFactory(is_staff=True, is_superuser=True) if who == "superuser" else shops[who]
    client.force_login(user)
    entry = shops["voucher_a"].transactions.get()
    assert client.get(reverse("admin:vouchers_vouchertransaction_add")).status_code == 403
    assert client.post(reverse("admin:vouchers_vouchertransaction_add"), {"amount": 1}).status_code == 403
    assert client.get(reverse("admin:vouchers_vouchertransaction_delete", args=[entry.pk])).status_code == 403
    change_url = reverse("admin:vouchers_vouchertransaction_change", args=[entry.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert b'name="amount"' not in page.content
    assert client.post(change_url, {"amount": 1, "reference": "rewritten"}).status_code == 403
    # And the vouchers themselves cannot be added or deleted through the admin
    assert client.get(reverse("admin:vouchers_voucher_add")).status_code == 403
    voucher_page = client.get(reverse("admin:vouchers_voucher_change", args=[shops["voucher_a"].pk]))
    assert b'name="balance"' not in voucher_page.content
    assert b'name="transactions-0-amount"' not in voucher_page.content
    entry.refresh_from_db()
    assert (entry.amount, entry.reference) == (5000, "")
    assert VoucherTransaction.objects.count() == 3


def test_the_voucher_form_is_never_saved(client, shops):
    # Given a redemption commits while a manager has the voucher page open
    voucher = shops["voucher_a"]
    client.force_login(shops["owner_a"])
    url = reverse("admin:vouchers_voucher_change", args=[voucher.pk])
    assert client.get(url).status_code == 200
    voucher_redeem(voucher_id=voucher.pk, amount=100)

    # When the page is posted back, it is refused: nothing but a service writes a voucher
    response = client.post(url, {"balance": 5000, "status": "active", "transactions-TOTAL_FORMS": 0})
    assert response.status_code == 403
    voucher.refresh_from_db()
    assert voucher.balance == 4900
    assert voucher.transactions.count() == 2


# -- actions -------------------------------------------------------------------------------------------------------


def test_void_asks_for_a_reason_then_calls_the_service(client, shops):
    client.force_login(shops["owner_a"])
    voucher = shops["voucher_a"]

    # When the action is chosen, an intermediate page asks for the reason and nothing happens yet
    page = run_action(client, "void_vouchers", [voucher])
    assert page.status_code == 200
    assert b'name="reason"' in page.content
    assert voucher.display_code.encode() in page.content
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ACTIVE

    # An empty reason is refused on the same page
    page = run_action(client, "void_vouchers", [voucher], apply="1", reason="")
    assert page.status_code == 200
    assert voucher.transactions.count() == 1

    # With a reason, the voucher is void and the ledger names who and why
    response = run_action(client, "void_vouchers", [voucher], apply="1", reason="reported stolen")
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.status, voucher.balance) == (VoucherStatus.VOID, 0)
    row = voucher.transactions.get(kind=TransactionKind.VOID)
    assert (row.amount, row.reference, row.actor_type, row.user_id) == (
        -5000,
        "reported stolen",
        ActorType.USER,
        shops["owner_a"].pk,
    )
    messages = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert any("1 voucher voided" in m for m in messages)


def test_a_refused_action_is_an_error_message_and_writes_nothing(client, shops):
    client.force_login(shops["owner_a"])
    voucher = shops["voucher_a"]
    run_action(client, "void_vouchers", [voucher], apply="1", reason="first")
    run_action(client, "void_vouchers", [voucher], apply="1", reason="second")
    response = client.get(reverse(CHANGELIST))
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert any(level == "error" and voucher.display_code in text for level, text in messages), messages
    assert voucher.transactions.filter(kind=TransactionKind.VOID).count() == 1


def test_adjust_reads_money_and_calls_the_service(client, shops):
    client.force_login(shops["owner_a"])
    voucher = shops["voucher_a"]
    assert b'name="amount"' in run_action(client, "adjust_vouchers", [voucher]).content
    run_action(client, "adjust_vouchers", [voucher], apply="1", amount="-12.50", reason="till miscount")
    voucher.refresh_from_db()
    assert voucher.balance == 3750
    row = voucher.transactions.get(kind=TransactionKind.ADJUST)
    assert (row.amount, row.reference, row.user_id) == (-1250, "till miscount", shops["owner_a"].pk)

    # Too much, or not an amount: an error message, nothing written
    run_action(client, "adjust_vouchers", [voucher], apply="1", amount="20.00", reason="x")
    run_action(client, "adjust_vouchers", [voucher], apply="1", amount="1.234", reason="x")
    messages = [(m.level_tag, str(m)) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert sum(level == "error" for level, _text in messages) == 2
    voucher.refresh_from_db()
    assert voucher.balance == 3750
    assert voucher.transactions.count() == 2


def test_extend_sets_the_last_day_and_restores_an_expired_voucher(client, shops):
    client.force_login(shops["owner_a"])
    voucher = shops["voucher_a"]
    last_day = (timezone.now() + timedelta(days=90)).date()
    page = run_action(client, "extend_vouchers", [voucher])
    assert b'name="expires_on"' in page.content
    run_action(client, "extend_vouchers", [voucher], apply="1", expires_on=last_day.isoformat(), reason="goodwill")
    voucher.refresh_from_db()
    assert voucher.expires_at is not None
    assert voucher.expires_at > timezone.now() + timedelta(days=89)
    assert voucher.transactions.count() == 1  # an active voucher only gets a new date


def test_a_cashier_neither_reads_codes_in_the_admin_nor_acts(client, shops):
    # Cashiers work at the POS page, where a code must be known to be found; the admin lists every code.
    client.force_login(shops["cashier_a"])
    voucher = shops["voucher_a"]
    assert client.get(reverse(CHANGELIST)).status_code == 302  # no staff flag: the admin login
    assert client.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk])).status_code in (302, 404)
    run_action(client, "void_vouchers", [voucher], apply="1", reason="not allowed")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ACTIVE
    assert voucher.transactions.count() == 1
