"""Every service's happy path, every domain error it raises, and idempotent replays: a refusal writes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from merchants.models import CodeFormat
from tests.factories import LocationFactory, MerchantFactory, UserFactory
from vouchers import errors
from vouchers.models import ActorType, TransactionKind, Voucher, VoucherKind, VoucherStatus, VoucherTransaction
from vouchers.selectors import ledger_sum, voucher_history, voucher_state
from vouchers.services import (
    Actor,
    voucher_adjust,
    voucher_expire,
    voucher_extend,
    voucher_freeze,
    voucher_issue,
    voucher_redeem,
    voucher_redeem_locked,
    voucher_refund,
    voucher_reverse,
    voucher_unfreeze,
    voucher_void,
    vouchers_expire_due,
)

pytestmark = pytest.mark.django_db


def rows(voucher: Voucher) -> list[tuple[str, int]]:
    return [(row.kind, row.amount) for row in VoucherTransaction.objects.filter(voucher=voucher).order_by("pk")]


def assert_unchanged(voucher: Voucher, balance: int, status: str, ledger: list[tuple[str, int]]) -> None:
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (balance, status)
    assert rows(voucher) == ledger


# -- issue ---------------------------------------------------------------------------------------------------------


def test_issue_writes_the_voucher_and_its_issue_row(merchant):
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000, recipient_name="Ada")
    assert (voucher.balance, voucher.initial_value, voucher.currency, voucher.status) == (5000, 5000, "EUR", "active")
    assert rows(voucher) == [(TransactionKind.ISSUE, 5000)]
    assert voucher.transactions.get().balance_after == 5000
    assert len(voucher.code) == 16
    assert voucher.public_token


@pytest.mark.parametrize("value", [0, -100, True, 12.5, "100"])
def test_issue_refuses_a_value_that_is_not_a_positive_whole_number(merchant, value):
    with pytest.raises(errors.InvalidAmount) as raised:
        voucher_issue(merchant_id=merchant.pk, value=value)
    assert raised.value.code == "invalid_amount"
    assert not Voucher.objects.exists()


def test_issue_of_an_item_voucher_needs_a_label(merchant):
    with pytest.raises(errors.InvalidTransition):
        voucher_issue(merchant_id=merchant.pk, value=3, kind=VoucherKind.ITEM)
    assert not Voucher.objects.exists()


def test_issue_with_the_same_key_returns_the_first_voucher_and_writes_nothing_new(merchant):
    first = voucher_issue(merchant_id=merchant.pk, value=5000, issue_key="line-1-unit-1")
    again = voucher_issue(merchant_id=merchant.pk, value=5000, issue_key="line-1-unit-1")
    assert again.pk == first.pk
    assert Voucher.objects.count() == 1
    assert VoucherTransaction.objects.count() == 1


def test_a_numeric_merchant_gets_numeric_codes():
    merchant = MerchantFactory(code_format=CodeFormat.NUMERIC)
    voucher = voucher_issue(merchant_id=merchant.pk, value=1000)
    assert voucher.code.isdigit()
    assert len(voucher.code) >= 16


# -- redeem --------------------------------------------------------------------------------------------------------


def test_partial_and_repeated_redeems_until_spent(issue):
    voucher = issue(value=5000)
    voucher_redeem(voucher_id=voucher.pk, amount=2000, currency="eur")
    last = voucher_redeem(voucher_id=voucher.pk, amount=3000)
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status, last.balance_after) == (0, VoucherStatus.SPENT, 0)
    assert rows(voucher) == [("issue", 5000), ("redeem", -2000), ("redeem", -3000)]


def test_redeem_locked_updates_the_callers_voucher_and_says_whether_the_row_is_new(issue):
    voucher = issue(value=5000)
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
        entry, created = voucher_redeem_locked(voucher=locked, amount=1200, idempotency_key="till-1")
        again, created_again = voucher_redeem_locked(voucher=locked, amount=1200, idempotency_key="till-1")
    assert (created, created_again) == (True, False)
    assert again.pk == entry.pk
    assert locked.balance == entry.balance_after == 3800
    assert rows(voucher) == [("issue", 5000), ("redeem", -1200)]
    assert ledger_sum(voucher.pk) == 3800


@pytest.mark.django_db(transaction=True)
def test_redeem_locked_refuses_to_run_outside_a_transaction(issue):
    voucher = issue(value=5000)
    with pytest.raises(transaction.TransactionManagementError):
        voucher_redeem_locked(voucher=voucher, amount=100)
    assert_unchanged(voucher, 5000, VoucherStatus.ACTIVE, [("issue", 5000)])


def test_item_vouchers_are_redeemed_by_quantity(issue):
    voucher = issue(value=3, kind=VoucherKind.ITEM, item_label="Massage 60 min")
    voucher_redeem(voucher_id=voucher.pk, amount=1, currency="USD")  # currency means nothing for items
    voucher.refresh_from_db()
    assert voucher.balance == 2
    assert voucher_state(voucher, locale="en").display == "2 of 3 × Massage 60 min left"


@pytest.mark.parametrize("amount", [0, -1, True, 1.5])
def test_redeem_refuses_an_amount_that_is_not_positive(issue, amount):
    voucher = issue()
    with pytest.raises(errors.InvalidAmount):
        voucher_redeem(voucher_id=voucher.pk, amount=amount)
    assert_unchanged(voucher, 5000, "active", [("issue", 5000)])


def test_redeem_refuses_another_currency(issue):
    voucher = issue()
    with pytest.raises(errors.CurrencyMismatch) as raised:
        voucher_redeem(voucher_id=voucher.pk, amount=100, currency="USD")
    assert raised.value.code == "currency_mismatch"
    assert_unchanged(voucher, 5000, "active", [("issue", 5000)])


def test_redeem_more_than_the_balance_or_than_is_not_held_is_refused(issue):
    voucher = issue(value=1000)
    with pytest.raises(errors.InsufficientBalance) as raised:
        voucher_redeem(voucher_id=voucher.pk, amount=1001)
    assert raised.value.code == "insufficient_balance"
    assert raised.value.details["available"] == 1000
    with pytest.raises(errors.InsufficientBalance):
        voucher_redeem(voucher_id=voucher.pk, amount=600, reserved=500)
    assert_unchanged(voucher, 1000, "active", [("issue", 1000)])


def make_not_redeemable(reason: str, issue, merchant):
    now = timezone.now()
    if reason == "spent":
        voucher = issue(value=100)
        voucher_redeem(voucher_id=voucher.pk, amount=100)
    elif reason == "void":
        voucher = issue(value=100)
        voucher_void(voucher_id=voucher.pk, reason="fraud")
    elif reason == "expired":
        voucher = issue(value=100, valid_from=now - timedelta(days=10), expires_at=now - timedelta(days=1))
    elif reason == "frozen":
        voucher = issue(value=100)
        voucher_freeze(voucher_id=voucher.pk, reason="dispute")
    elif reason == "not_yet_valid":
        voucher = issue(value=100, valid_from=now + timedelta(days=1))
    else:
        here, there = LocationFactory(merchant=merchant), LocationFactory(merchant=merchant)
        voucher = issue(value=100, location_ids=[here.pk])
        return voucher, there.pk
    return voucher, None


@pytest.mark.parametrize("reason", ["spent", "void", "expired", "frozen", "not_yet_valid", "wrong_location"])
def test_redeem_refuses_a_voucher_that_cannot_be_used_and_says_why(issue, merchant, reason):
    voucher, location_id = make_not_redeemable(reason, issue, merchant)
    voucher.refresh_from_db()
    before = (voucher.balance, voucher.status, rows(voucher))
    with pytest.raises(errors.NotRedeemable) as raised:
        voucher_redeem(voucher_id=voucher.pk, amount=1, location_id=location_id)
    assert (raised.value.code, raised.value.reason) == ("not_redeemable", reason)
    assert_unchanged(voucher, *before)


def test_redeem_at_an_allowed_location_records_it(issue, merchant):
    here = LocationFactory(merchant=merchant)
    voucher = issue(location_ids=[here.pk])
    row = voucher_redeem(voucher_id=voucher.pk, amount=100, location_id=here.pk, reference="receipt 7")
    assert (row.location_id, row.reference) == (here.pk, "receipt 7")


def test_redeem_replay_returns_the_first_row_and_a_different_request_conflicts(issue):
    voucher = issue()
    first = voucher_redeem(voucher_id=voucher.pk, amount=700, idempotency_key="abc")
    assert voucher_redeem(voucher_id=voucher.pk, amount=700, idempotency_key="abc").pk == first.pk
    with pytest.raises(errors.IdempotencyConflict) as raised:
        voucher_redeem(voucher_id=voucher.pk, amount=800, idempotency_key="abc")
    assert raised.value.code == "idempotency_key_reused"
    assert_unchanged(voucher, 4300, "active", [("issue", 5000), ("redeem", -700)])


def test_the_actor_is_recorded(issue):
    user = UserFactory()
    voucher = issue()
    by_staff = voucher_redeem(voucher_id=voucher.pk, amount=1, actor=Actor.staff(user.pk, user.email))
    by_token = voucher_redeem(voucher_id=voucher.pk, amount=1, actor=Actor.api_token("till 3"))
    by_system = voucher_redeem(voucher_id=voucher.pk, amount=1)
    assert (by_staff.actor_type, by_staff.user_id, by_staff.actor_label) == (ActorType.USER, user.pk, user.email)
    assert (by_token.actor_type, by_token.user_id, by_token.actor_label) == (ActorType.API_TOKEN, None, "till 3")
    assert (by_system.actor_type, by_system.actor_label) == (ActorType.SYSTEM, "system")


# -- reverse -------------------------------------------------------------------------------------------------------


def test_reverse_restores_exactly_what_the_redeem_took_once(issue):
    voucher = issue(value=1000)
    redemption = voucher_redeem(voucher_id=voucher.pk, amount=1000)
    reversal = voucher_reverse(transaction_id=redemption.pk)
    assert (reversal.kind, reversal.amount, reversal.reverses_id) == ("reverse", 1000, redemption.pk)
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (1000, VoucherStatus.ACTIVE)
    with pytest.raises(errors.AlreadyReversed) as raised:
        voucher_reverse(transaction_id=redemption.pk)
    assert raised.value.code == "already_reversed"
    assert_unchanged(voucher, 1000, "active", [("issue", 1000), ("redeem", -1000), ("reverse", 1000)])


def test_reverse_replay_with_its_key_returns_the_first_reversal(issue):
    voucher = issue()
    redemption = voucher_redeem(voucher_id=voucher.pk, amount=100)
    first = voucher_reverse(transaction_id=redemption.pk, idempotency_key="undo-1")
    assert voucher_reverse(transaction_id=redemption.pk, idempotency_key="undo-1").pk == first.pk
    assert voucher.transactions.count() == 3


def test_only_redemptions_can_be_reversed(issue):
    voucher = issue()
    with pytest.raises(errors.NotReversible) as raised:
        voucher_reverse(transaction_id=voucher.transactions.get().pk)
    assert raised.value.code == "not_reversible"
    assert_unchanged(voucher, 5000, "active", [("issue", 5000)])


def test_reversing_an_unknown_ledger_entry_is_a_domain_error(issue):
    voucher = issue()
    with pytest.raises(errors.LedgerEntryNotFound) as raised:
        voucher_reverse(transaction_id=voucher.transactions.get().pk + 1000)
    assert raised.value.code == "not_found"
    assert_unchanged(voucher, 5000, "active", [("issue", 5000)])


def test_a_void_voucher_gets_no_value_back(issue):
    voucher = issue()
    redemption = voucher_redeem(voucher_id=voucher.pk, amount=100)
    voucher_void(voucher_id=voucher.pk, reason="fraud")
    with pytest.raises(errors.InvalidTransition):
        voucher_reverse(transaction_id=redemption.pk)
    assert_unchanged(voucher, 0, "void", [("issue", 5000), ("redeem", -100), ("void", -4900)])


def test_reverse_after_a_correction_gave_the_value_back_is_refused(issue):
    voucher = issue(value=1000)
    redemption = voucher_redeem(voucher_id=voucher.pk, amount=300)
    voucher_adjust(voucher_id=voucher.pk, amount=300, reason="cashier error")
    with pytest.raises(errors.InvalidTransition):
        voucher_reverse(transaction_id=redemption.pk)
    assert_unchanged(voucher, 1000, "active", [("issue", 1000), ("redeem", -300), ("adjust", 300)])


# -- void and refund -----------------------------------------------------------------------------------------------


def test_void_takes_the_remaining_value_and_keeps_the_history(issue):
    voucher = issue()
    voucher_redeem(voucher_id=voucher.pk, amount=1000)
    row = voucher_void(voucher_id=voucher.pk, reason="fraud", idempotency_key="v1")
    assert (row.amount, row.reference) == (-4000, "fraud")
    assert voucher_void(voucher_id=voucher.pk, reason="fraud", idempotency_key="v1").pk == row.pk
    with pytest.raises(errors.InvalidTransition):
        voucher_void(voucher_id=voucher.pk, reason="again")
    assert_unchanged(voucher, 0, "void", [("issue", 5000), ("redeem", -1000), ("void", -4000)])


def test_refund_of_part_then_the_rest(issue):
    voucher = issue()
    voucher_refund(voucher_id=voucher.pk, amount=2000, reason="order refunded in part")
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (3000, VoucherStatus.ACTIVE)
    voucher_refund(voucher_id=voucher.pk, reason="order refunded")
    assert_unchanged(voucher, 0, "void", [("issue", 5000), ("refund", -2000), ("refund", -3000)])


def test_refund_errors_write_nothing(issue):
    voucher = issue(value=1000)
    with pytest.raises(errors.InvalidAmount):
        voucher_refund(voucher_id=voucher.pk, amount=0, reason="x")
    with pytest.raises(errors.InsufficientBalance):
        voucher_refund(voucher_id=voucher.pk, amount=1001, reason="x")
    voucher_void(voucher_id=voucher.pk, reason="fraud")
    with pytest.raises(errors.InvalidTransition):
        voucher_refund(voucher_id=voucher.pk, amount=1, reason="x")
    with pytest.raises(errors.InvalidTransition):
        voucher_refund(voucher_id=voucher.pk, reason="x")
    assert_unchanged(voucher, 0, "void", [("issue", 1000), ("void", -1000)])


def test_refund_replay_and_conflict(issue):
    voucher = issue()
    first = voucher_refund(voucher_id=voucher.pk, amount=500, reason="r", idempotency_key="refund-1")
    assert voucher_refund(voucher_id=voucher.pk, amount=500, reason="r", idempotency_key="refund-1").pk == first.pk
    with pytest.raises(errors.IdempotencyConflict):
        voucher_refund(voucher_id=voucher.pk, amount=600, reason="r", idempotency_key="refund-1")
    assert_unchanged(voucher, 4500, "active", [("issue", 5000), ("refund", -500)])


# -- expiry --------------------------------------------------------------------------------------------------------


def test_expire_takes_the_rest_once_and_only_when_due(issue):
    now = datetime(2030, 6, 1, tzinfo=UTC)
    voucher = issue(value=1000, valid_from=now - timedelta(days=30), expires_at=now)
    assert voucher_expire(voucher_id=voucher.pk, now=now - timedelta(seconds=1)) is None
    row = voucher_expire(voucher_id=voucher.pk, now=now)
    assert (row.kind, row.amount, row.balance_after) == ("expire", -1000, 0)
    assert voucher_expire(voucher_id=voucher.pk, now=now + timedelta(days=1)) is None
    assert_unchanged(voucher, 0, "expired", [("issue", 1000), ("expire", -1000)])


def test_expire_due_expires_only_active_vouchers_past_their_date_and_is_idempotent(issue):
    now = datetime(2030, 6, 1, tzinfo=UTC)
    past = now - timedelta(days=1)
    due = [issue(value=100 + n, valid_from=past - timedelta(days=9), expires_at=past) for n in range(5)]
    later = issue(value=100, valid_from=past, expires_at=now + timedelta(days=1))
    forever = issue(value=100, valid_from=past)
    spent = issue(value=100, valid_from=past - timedelta(days=9), expires_at=past)
    voucher_redeem(voucher_id=spent.pk, amount=100, now=past - timedelta(days=2))

    assert vouchers_expire_due(now=now, batch_size=2) == 5
    assert vouchers_expire_due(now=now) == 0

    for voucher in due:
        assert_unchanged(voucher, 0, "expired", [("issue", voucher.initial_value), ("expire", -voucher.initial_value)])
    for voucher in (later, forever):
        assert_unchanged(voucher, 100, "active", [("issue", 100)])
    assert_unchanged(spent, 0, "spent", [("issue", 100), ("redeem", -100)])


def test_extend_moves_the_date_and_gives_an_expired_voucher_its_value_back(issue):
    now = datetime(2030, 6, 1, tzinfo=UTC)
    voucher = issue(value=1000, valid_from=now - timedelta(days=30), expires_at=now - timedelta(days=1))
    voucher_expire(voucher_id=voucher.pk, now=now)
    row = voucher_extend(voucher_id=voucher.pk, expires_at=now + timedelta(days=30), reason="goodwill", now=now)
    assert (row.kind, row.amount, row.reference) == ("adjust", 1000, "extended: goodwill")
    assert_unchanged(voucher, 1000, "active", [("issue", 1000), ("expire", -1000), ("adjust", 1000)])
    assert voucher.expires_at == now + timedelta(days=30)
    # Extending an active voucher only moves its date
    assert voucher_extend(voucher_id=voucher.pk, expires_at=None, reason="no limit", now=now) is None
    voucher.refresh_from_db()
    assert voucher.expires_at is None
    assert voucher.transactions.count() == 3


def test_extend_refuses_a_void_voucher_and_a_past_date(issue):
    voucher = issue()
    with pytest.raises(errors.InvalidTransition):
        voucher_extend(voucher_id=voucher.pk, expires_at=timezone.now() - timedelta(days=1), reason="x")
    voucher_void(voucher_id=voucher.pk, reason="fraud")
    with pytest.raises(errors.InvalidTransition):
        voucher_extend(voucher_id=voucher.pk, expires_at=timezone.now() + timedelta(days=1), reason="x")
    voucher.refresh_from_db()
    assert voucher.expires_at is None


# -- adjust, freeze, unfreeze --------------------------------------------------------------------------------------


def test_adjust_corrects_within_zero_and_the_initial_value(issue):
    voucher = issue(value=1000)
    voucher_adjust(voucher_id=voucher.pk, amount=-1000, reason="entered twice")
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (0, VoucherStatus.SPENT)
    voucher_adjust(voucher_id=voucher.pk, amount=400, reason="partly back")
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (400, VoucherStatus.ACTIVE)
    for amount, error in [(0, errors.InvalidAmount), (-401, errors.InsufficientBalance), (601, errors.InvalidAmount)]:
        with pytest.raises(error):
            voucher_adjust(voucher_id=voucher.pk, amount=amount, reason="x")
    with pytest.raises(errors.InvalidTransition):
        voucher_adjust(voucher_id=voucher.pk, amount=1, reason="  ")
    assert_unchanged(voucher, 400, "active", [("issue", 1000), ("adjust", -1000), ("adjust", 400)])
    voucher_void(voucher_id=voucher.pk, reason="fraud")
    with pytest.raises(errors.InvalidTransition):
        voucher_adjust(voucher_id=voucher.pk, amount=-1, reason="x")


def test_adjust_replay_and_conflict(issue):
    voucher = issue()
    first = voucher_adjust(voucher_id=voucher.pk, amount=-5, reason="r", idempotency_key="a")
    assert voucher_adjust(voucher_id=voucher.pk, amount=-5, reason="r", idempotency_key="a").pk == first.pk
    with pytest.raises(errors.IdempotencyConflict):
        voucher_adjust(voucher_id=voucher.pk, amount=-6, reason="r", idempotency_key="a")
    assert_unchanged(voucher, 4995, "active", [("issue", 5000), ("adjust", -5)])


def test_freeze_and_unfreeze(issue):
    voucher = issue()
    assert voucher_unfreeze(voucher_id=voucher.pk, reason="not frozen") is None
    assert voucher_freeze(voucher_id=voucher.pk, reason="dispute").kind == TransactionKind.FREEZE
    assert voucher_freeze(voucher_id=voucher.pk, reason="dispute") is None
    assert voucher_unfreeze(voucher_id=voucher.pk, reason="won").kind == TransactionKind.UNFREEZE
    assert_unchanged(voucher, 5000, "active", [("issue", 5000), ("freeze", 0), ("unfreeze", 0)])


def test_an_emptied_frozen_voucher_is_spent_when_unfrozen(issue):
    voucher = issue(value=100)
    voucher_freeze(voucher_id=voucher.pk, reason="dispute")
    voucher_adjust(voucher_id=voucher.pk, amount=-100, reason="chargeback")
    voucher_unfreeze(voucher_id=voucher.pk, reason="settled")
    voucher.refresh_from_db()
    assert (voucher.balance, voucher.status) == (0, VoucherStatus.SPENT)


def test_only_active_vouchers_can_be_frozen(issue):
    voucher = issue(value=100)
    voucher_redeem(voucher_id=voucher.pk, amount=100)
    with pytest.raises(errors.InvalidTransition):
        voucher_freeze(voucher_id=voucher.pk, reason="x")
    assert_unchanged(voucher, 0, "spent", [("issue", 100), ("redeem", -100)])


# -- selectors -----------------------------------------------------------------------------------------------------


def test_state_and_history_explain_the_voucher(issue):
    voucher = issue(value=5000)
    voucher_redeem(voucher_id=voucher.pk, amount=3000)
    voucher.refresh_from_db()
    state = voucher_state(voucher, locale="en")
    assert (state.is_redeemable, state.redeemable_amount, state.display) == (True, 2000, "€20.00 of €50.00 left")
    assert [row.kind for row in voucher_history(voucher_id=voucher.pk)] == ["redeem", "issue"]
    assert ledger_sum(voucher.pk) == 2000
