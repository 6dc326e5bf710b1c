"""Random sequences of every voucher service against a small model of what each must do.

After every step the voucher's cached balance, the sum of its ledger rows and ``ledger_sum`` agree with the model,
stay between zero and the initial value, and the status matches the balance and the dates. A step that fails with
a domain error must leave no ledger row and no change behind.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.factories import MerchantFactory
from vouchers.errors import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    InvalidTransition,
    NotRedeemable,
    VoucherError,
)
from vouchers.models import TransactionKind, Voucher, VoucherKind, VoucherStatus, VoucherTransaction
from vouchers.selectors import ledger_sum
from vouchers.services import (
    voucher_adjust,
    voucher_expire,
    voucher_extend,
    voucher_freeze,
    voucher_issue,
    voucher_redeem,
    voucher_refund,
    voucher_reverse,
    voucher_unfreeze,
    voucher_void,
)

pytestmark = pytest.mark.django_db

START = datetime(2031, 1, 1, 12, tzinfo=UTC)
GONE = (VoucherStatus.VOID, VoucherStatus.EXPIRED)

LEDGER_SETTINGS = settings(
    max_examples=200,
    stateful_step_count=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class Expected:
    """What the voucher must look like, worked out independently of the services."""

    initial: int
    balance: int
    expires_at: datetime | None
    status: str = VoucherStatus.ACTIVE
    rows: int = 1
    redemptions: dict[int, int] = field(default_factory=dict)  # ledger row id -> amount taken
    reversed: set[int] = field(default_factory=set)
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)  # idempotency key -> (amount, row id)
    last_expiry_took: int = 0


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.merchant_id = MerchantFactory(currency="EUR").pk

    @initialize(
        value=st.integers(min_value=1, max_value=10_000),
        item=st.booleans(),
        expires_in_days=st.one_of(st.none(), st.integers(min_value=1, max_value=60)),
    )
    def issue(self, value: int, item: bool, expires_in_days: int | None) -> None:
        expires_at = None if expires_in_days is None else START + timedelta(days=expires_in_days)
        voucher = voucher_issue(
            merchant_id=self.merchant_id,
            value=value,
            kind=VoucherKind.ITEM if item else VoucherKind.MONETARY,
            item_label="Massage 60 min" if item else "",
            valid_from=START,
            expires_at=expires_at,
        )
        self.voucher_id = voucher.pk
        self.model = Expected(initial=value, balance=value, expires_at=expires_at)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _redeem_refusal(self) -> str:
        model = self.model
        if model.status == VoucherStatus.VOID:
            return "void"
        if model.status == VoucherStatus.EXPIRED or (model.expires_at is not None and model.expires_at <= self.now):
            return "expired"
        if model.status == VoucherStatus.SPENT or model.balance <= 0:
            return "spent"
        if model.status == VoucherStatus.FROZEN:
            return "frozen"
        return ""

    def _refused(self, error: type[VoucherError], call, **kwargs):
        """Call a service that must fail with ``error``; nothing may be written."""
        before = VoucherTransaction.objects.filter(voucher_id=self.voucher_id).count()
        with pytest.raises(error) as raised:
            call(**kwargs)
        assert VoucherTransaction.objects.filter(voucher_id=self.voucher_id).count() == before
        return raised.value

    def _row(self, row: VoucherTransaction | None, kind: str, amount: int) -> None:
        assert row is not None
        assert (row.kind, row.amount, row.balance_after) == (kind, amount, self.model.balance)
        self.model.rows += 1

    # -- rules -----------------------------------------------------------------------------------------------

    @rule(amount=st.integers(min_value=1, max_value=12_000), use_key=st.booleans())
    def redeem(self, amount: int, use_key: bool) -> None:
        key = f"redeem-{self.model.rows}" if use_key else None
        refusal = self._redeem_refusal()
        if refusal:
            error = self._refused(
                NotRedeemable,
                voucher_redeem,
                voucher_id=self.voucher_id,
                amount=amount,
                now=self.now,
                idempotency_key=key,
            )
            assert error.reason == refusal
            return
        if amount > self.model.balance:
            self._refused(InsufficientBalance, voucher_redeem, voucher_id=self.voucher_id, amount=amount, now=self.now)
            return
        row = voucher_redeem(voucher_id=self.voucher_id, amount=amount, now=self.now, idempotency_key=key)
        self.model.balance -= amount
        if self.model.balance == 0:
            self.model.status = VoucherStatus.SPENT
        self._row(row, TransactionKind.REDEEM, -amount)
        self.model.redemptions[row.pk] = amount
        if key:
            self.model.keys[key] = (amount, row.pk)

    @precondition(lambda self: self.model.keys)
    @rule(data=st.data())
    def redeem_with_a_used_key(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.keys)))
        amount, row_id = self.model.keys[key]
        # The same call again, whatever happened since, answers with the first row and writes nothing.
        before = VoucherTransaction.objects.filter(voucher_id=self.voucher_id).count()
        again = voucher_redeem(voucher_id=self.voucher_id, amount=amount, now=self.now, idempotency_key=key)
        assert again.pk == row_id
        assert VoucherTransaction.objects.filter(voucher_id=self.voucher_id).count() == before
        # The same key for a different amount is refused.
        self._refused(
            IdempotencyConflict,
            voucher_redeem,
            voucher_id=self.voucher_id,
            amount=amount + 1,
            now=self.now,
            idempotency_key=key,
        )

    @precondition(lambda self: self.model.redemptions)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        row_id = data.draw(st.sampled_from(sorted(self.model.redemptions)))
        amount = self.model.redemptions[row_id]
        if row_id in self.model.reversed:
            self._refused(AlreadyReversed, voucher_reverse, transaction_id=row_id)
            return
        if self.model.status in GONE or self.model.balance + amount > self.model.initial:
            self._refused(InvalidTransition, voucher_reverse, transaction_id=row_id)
            return
        row = voucher_reverse(transaction_id=row_id)
        self.model.balance += amount
        if self.model.status == VoucherStatus.SPENT:
            self.model.status = VoucherStatus.ACTIVE
        self._row(row, TransactionKind.REVERSE, amount)
        assert row.reverses_id == row_id
        self.model.reversed.add(row_id)

    @rule()
    def void(self) -> None:
        if self.model.status in GONE:
            self._refused(InvalidTransition, voucher_void, voucher_id=self.voucher_id, reason="test")
            return
        row = voucher_void(voucher_id=self.voucher_id, reason="fraud")
        taken, self.model.balance, self.model.status = self.model.balance, 0, VoucherStatus.VOID
        self._row(row, TransactionKind.VOID, -taken)

    @rule(amount=st.one_of(st.none(), st.integers(min_value=1, max_value=12_000)))
    def refund(self, amount: int | None) -> None:
        if self.model.status in GONE:
            self._refused(InvalidTransition, voucher_refund, voucher_id=self.voucher_id, reason="r", amount=amount)
            return
        if amount is not None and amount > self.model.balance:
            self._refused(InsufficientBalance, voucher_refund, voucher_id=self.voucher_id, reason="r", amount=amount)
            return
        row = voucher_refund(voucher_id=self.voucher_id, reason="order refunded", amount=amount)
        taken = self.model.balance if amount is None else amount
        self.model.balance -= taken
        if amount is None or self.model.balance == 0:
            self.model.status = VoucherStatus.VOID
        self._row(row, TransactionKind.REFUND, -taken)

    @rule()
    def expire(self) -> None:
        due = (
            self.model.status == VoucherStatus.ACTIVE
            and self.model.expires_at is not None
            and self.model.expires_at <= self.now
        )
        row = voucher_expire(voucher_id=self.voucher_id, now=self.now)
        if not due:
            assert row is None
            return
        taken, self.model.balance, self.model.status = self.model.balance, 0, VoucherStatus.EXPIRED
        self.model.last_expiry_took = taken
        self._row(row, TransactionKind.EXPIRE, -taken)

    @rule(amount=st.integers(min_value=-12_000, max_value=12_000).filter(bool))
    def adjust(self, amount: int) -> None:
        new_balance = self.model.balance + amount
        if self.model.status in GONE:
            self._refused(InvalidTransition, voucher_adjust, voucher_id=self.voucher_id, amount=amount, reason="fix")
            return
        if new_balance < 0:
            self._refused(InsufficientBalance, voucher_adjust, voucher_id=self.voucher_id, amount=amount, reason="fix")
            return
        if new_balance > self.model.initial:
            self._refused(InvalidAmount, voucher_adjust, voucher_id=self.voucher_id, amount=amount, reason="fix")
            return
        row = voucher_adjust(voucher_id=self.voucher_id, amount=amount, reason="till miscount")
        self.model.balance = new_balance
        if self.model.status == VoucherStatus.ACTIVE and new_balance == 0:
            self.model.status = VoucherStatus.SPENT
        elif self.model.status == VoucherStatus.SPENT and new_balance > 0:
            self.model.status = VoucherStatus.ACTIVE
        self._row(row, TransactionKind.ADJUST, amount)

    @rule()
    def freeze(self) -> None:
        if self.model.status == VoucherStatus.FROZEN:
            assert voucher_freeze(voucher_id=self.voucher_id, reason="dispute") is None
            return
        if self.model.status != VoucherStatus.ACTIVE:
            self._refused(InvalidTransition, voucher_freeze, voucher_id=self.voucher_id, reason="dispute")
            return
        row = voucher_freeze(voucher_id=self.voucher_id, reason="dispute")
        self.model.status = VoucherStatus.FROZEN
        self._row(row, TransactionKind.FREEZE, 0)

    @rule()
    def unfreeze(self) -> None:
        row = voucher_unfreeze(voucher_id=self.voucher_id, reason="dispute won")
        if self.model.status != VoucherStatus.FROZEN:
            assert row is None
            return
        self.model.status = VoucherStatus.ACTIVE if self.model.balance > 0 else VoucherStatus.SPENT
        self._row(row, TransactionKind.UNFREEZE, 0)

    @rule(days=st.one_of(st.none(), st.integers(min_value=-5, max_value=60)))
    def extend(self, days: int | None) -> None:
        expires_at = None if days is None else self.now + timedelta(days=days)
        if self.model.status == VoucherStatus.VOID or (expires_at is not None and expires_at <= self.now):
            self._refused(
                InvalidTransition,
                voucher_extend,
                voucher_id=self.voucher_id,
                expires_at=expires_at,
                reason="kind",
                now=self.now,
            )
            return
        row = voucher_extend(voucher_id=self.voucher_id, expires_at=expires_at, reason="goodwill", now=self.now)
        self.model.expires_at = expires_at
        if self.model.status != VoucherStatus.EXPIRED:
            assert row is None
            return
        restored = self.model.last_expiry_took
        self.model.balance += restored
        self.model.status = VoucherStatus.ACTIVE if self.model.balance > 0 else VoucherStatus.SPENT
        if restored:
            self._row(row, TransactionKind.ADJUST, restored)
        else:
            assert row is None

    @rule(days=st.integers(min_value=1, max_value=30))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    # -- invariants ------------------------------------------------------------------------------------------

    @invariant()
    def balance_is_the_sum_of_the_ledger(self) -> None:
        voucher = Voucher.objects.get(pk=self.voucher_id)
        rows = list(VoucherTransaction.objects.filter(voucher_id=self.voucher_id).order_by("pk"))
        assert voucher.balance == sum(row.amount for row in rows) == ledger_sum(self.voucher_id)
        assert voucher.balance == self.model.balance
        assert 0 <= voucher.balance <= voucher.initial_value == self.model.initial
        assert len(rows) == self.model.rows
        assert rows[0].kind == TransactionKind.ISSUE
        assert rows[0].amount == voucher.initial_value
        assert [row.kind for row in rows].count(TransactionKind.ISSUE) == 1
        assert rows[-1].balance_after == voucher.balance

    @invariant()
    def status_matches_balance_and_dates(self) -> None:
        voucher = Voucher.objects.get(pk=self.voucher_id)
        assert voucher.status == self.model.status
        assert voucher.expires_at == self.model.expires_at
        if voucher.status == VoucherStatus.ACTIVE:
            assert voucher.balance > 0
        if voucher.status in (VoucherStatus.SPENT, VoucherStatus.VOID, VoucherStatus.EXPIRED):
            assert voucher.balance == 0
        if voucher.status == VoucherStatus.EXPIRED:
            assert voucher.expires_at is not None
            assert voucher.expires_at <= self.now


def test_every_sequence_of_services_keeps_the_ledger_and_balance_in_step():
    run_state_machine_as_test(LedgerMachine, settings=LEDGER_SETTINGS)
