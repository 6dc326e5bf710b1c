"""The only writer of vouchers and their ledger.

Every service runs in ``transaction.atomic()``, locks the voucher row with ``select_for_update()`` first and checks
again inside the lock, writes exactly one ledger row per change of value (or state), and updates the cached balance
and status in the same transaction. Services that a client may retry take an ``idempotency_key``: the same key
returns the first result and writes nothing new; the same key for a different change raises IdempotencyConflict.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.rows import insert_row, update_row
from merchants.models import CodeFormat, Merchant
from vouchers import sql
from vouchers.codes import generate_code
from vouchers.errors import (
    AlreadyReversed,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    InvalidTransition,
    LedgerEntryNotFound,
    NotRedeemable,
    NotReversible,
)
from vouchers.models import ActorType, TransactionKind, Voucher, VoucherKind, VoucherStatus, VoucherTransaction

logger = logging.getLogger(__name__)

_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Actor:
    """Who causes a change: a staff member, an API token, or the system (a payment, the expiry sweeper)."""

    type: str = ActorType.SYSTEM
    user_id: int | None = None
    label: str = "system"

    @classmethod
    def staff(cls, user_id: int, label: str) -> "Actor":
        return cls(type=ActorType.USER, user_id=user_id, label=label)

    @classmethod
    def api_token(cls, label: str) -> "Actor":
        return cls(type=ActorType.API_TOKEN, label=label)


SYSTEM = Actor()


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _lock(voucher_id: int) -> Voucher:
    return Voucher.objects.select_for_update().get(pk=voucher_id)


def _replay(voucher: Voucher, idempotency_key: str | None, fingerprint: str) -> VoucherTransaction | None:
    """The row an earlier call with this key wrote, if any. Called inside the voucher lock, so it sees every
    committed row: two callers with one key are serialised by the lock and the second finds the first's row."""
    if not idempotency_key:
        return None
    earlier = sql.ledger_row_by_key(voucher.pk, idempotency_key)
    if earlier is not None and earlier.request_fingerprint != fingerprint:
        raise IdempotencyConflict(key=idempotency_key)
    return earlier


def _record(
    voucher: Voucher,
    *,
    kind: str,
    amount: int,
    actor: Actor,
    status: str | None = None,
    location_id: int | None = None,
    reference: str = "",
    reverses: VoucherTransaction | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
) -> VoucherTransaction:
    """Write one ledger row and move the cached balance (and status) with it. The caller holds the lock."""
    voucher.balance += amount
    if status is not None:
        voucher.status = status
    # Written without the ORM's query building, which costs more than the statements (see core.rows).
    update_row(voucher, ["balance", "status", "expires_at", "updated_at"])
    entry = VoucherTransaction(
        voucher=voucher,
        kind=kind,
        amount=amount,
        balance_after=voucher.balance,
        actor_type=actor.type,
        user_id=actor.user_id,
        actor_label=actor.label[:200],
        location_id=location_id,
        reference=reference[:255],
        reverses=reverses,
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
    )
    insert_row(entry)
    return entry


def not_redeemable_reason(voucher: Voucher, *, location_id: int | None = None, now: datetime | None = None) -> str:
    """Why ``voucher`` cannot be redeemed now (at ``location_id``), or "" when it can."""
    now = now or timezone.now()
    if voucher.status == VoucherStatus.VOID:
        return "void"
    if voucher.status == VoucherStatus.EXPIRED or (voucher.expires_at is not None and voucher.expires_at <= now):
        return "expired"
    if voucher.status == VoucherStatus.SPENT or voucher.balance <= 0:
        return "spent"
    if voucher.status == VoucherStatus.FROZEN:
        return "frozen"
    if voucher.valid_from > now:
        return "not_yet_valid"
    if location_id is not None:
        allowed = list(voucher.allowed_locations.values_list("pk", flat=True))
        if allowed and location_id not in allowed:
            return "wrong_location"
    return ""


def voucher_issue(
    *,
    merchant_id: int,
    value: int,
    kind: str = VoucherKind.MONETARY,
    currency: str | None = None,
    item_label: str = "",
    valid_from: datetime | None = None,
    expires_at: datetime | None = None,
    order_line_id: int | None = None,
    recipient_name: str = "",
    recipient_email: str = "",
    message: str = "",
    is_promotional: bool = False,
    terms: str = "",
    location_ids: Sequence[int] = (),
    issue_key: str | None = None,
    actor: Actor = SYSTEM,
    reference: str = "",
) -> Voucher:
    """Issue a voucher worth ``value`` (minor units, or items for item vouchers) with its ``issue`` ledger row.

    With ``issue_key``, issuing again returns the voucher issued first. Raises InvalidAmount for a value that is
    not positive and InvalidTransition for an item voucher without a label.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidAmount(value=value)
    if kind == VoucherKind.ITEM and not item_label:
        raise InvalidTransition(_("An item voucher needs an item label."))
    merchant = Merchant.objects.get(pk=merchant_id)
    if issue_key:
        existing = Voucher.objects.filter(merchant_id=merchant_id, issue_key=issue_key).first()
        if existing is not None:
            return existing
    for _attempt in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                voucher = Voucher.objects.create(
                    merchant=merchant,
                    code=generate_code(numeric=merchant.code_format == CodeFormat.NUMERIC),
                    kind=kind,
                    currency=(currency or merchant.currency).upper(),
                    initial_value=value,
                    balance=0,
                    item_label=item_label,
                    valid_from=valid_from or timezone.now(),
                    expires_at=expires_at,
                    is_promotional=is_promotional,
                    terms=terms,
                    recipient_name=recipient_name,
                    recipient_email=recipient_email,
                    message=message,
                    order_line_id=order_line_id,
                    issue_key=issue_key or None,
                )
                if location_ids:
                    voucher.allowed_locations.set(location_ids)
                _record(voucher, kind=TransactionKind.ISSUE, amount=value, actor=actor, reference=reference)
                return voucher
        except IntegrityError:
            # Either a concurrent call issued this key first (return its voucher), or the random code collided
            # with an existing one (draw another).
            if issue_key:
                existing = Voucher.objects.filter(merchant_id=merchant_id, issue_key=issue_key).first()
                if existing is not None:
                    return existing
            logger.warning("voucher code collision at merchant %s; drawing another", merchant_id)
    raise RuntimeError("could not draw a unique voucher code")  # 75 random bits: practically unreachable


@transaction.atomic
def voucher_redeem(
    *,
    voucher_id: int,
    amount: int,
    actor: Actor = SYSTEM,
    currency: str | None = None,
    location_id: int | None = None,
    reference: str = "",
    idempotency_key: str | None = None,
    reserved: int = 0,
    now: datetime | None = None,
) -> VoucherTransaction:
    """Take ``amount`` (minor units, or items) from the voucher; partial and repeated redemption are fine.

    ``reserved`` is value held for others (live holds) that this redemption may not touch. Raises InvalidAmount,
    CurrencyMismatch, NotRedeemable (with ``reason``), InsufficientBalance and IdempotencyConflict.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount(amount=amount)
    entry, _created = voucher_redeem_locked(
        voucher=_lock(voucher_id),
        amount=amount,
        actor=actor,
        currency=currency,
        location_id=location_id,
        reference=reference,
        idempotency_key=idempotency_key,
        reserved=reserved,
        now=now,
    )
    return entry


def voucher_redeem_locked(
    *,
    voucher: Voucher,
    amount: int,
    actor: Actor = SYSTEM,
    currency: str | None = None,
    location_id: int | None = None,
    reference: str = "",
    idempotency_key: str | None = None,
    reserved: int = 0,
    now: datetime | None = None,
) -> tuple[VoucherTransaction, bool]:
    """``voucher_redeem`` for a caller that read ``voucher`` with ``select_for_update`` in its own, still open
    transaction (as redemption's counter lookup does); ``voucher`` is updated in place. Returns the ledger row
    and whether it is new (False: the idempotency key replayed an earlier row). Raises what ``voucher_redeem``
    raises, and TransactionManagementError outside a transaction, where no lock can be held.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("voucher_redeem_locked needs the caller's locking transaction")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount(amount=amount)
    fingerprint = _fingerprint("redeem", amount, location_id, reference)
    earlier = _replay(voucher, idempotency_key, fingerprint)
    if earlier is not None:
        return earlier, False
    if currency is not None and voucher.kind == VoucherKind.MONETARY and currency.upper() != voucher.currency:
        raise CurrencyMismatch(voucher_currency=voucher.currency, currency=currency)
    reason = not_redeemable_reason(voucher, location_id=location_id, now=now)
    if reason:
        raise NotRedeemable(reason)
    available = voucher.balance - reserved
    if amount > available:
        raise InsufficientBalance(available=max(available, 0))
    status = VoucherStatus.SPENT if voucher.balance == amount else None
    entry = _record(
        voucher,
        kind=TransactionKind.REDEEM,
        amount=-amount,
        actor=actor,
        status=status,
        location_id=location_id,
        reference=reference,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )
    return entry, True


@transaction.atomic
def voucher_reverse(
    *, transaction_id: int, actor: Actor = SYSTEM, reference: str = "", idempotency_key: str | None = None
) -> VoucherTransaction:
    """Give back exactly what a redemption took, once. Raises LedgerEntryNotFound, NotReversible (not a
    redemption), AlreadyReversed, and InvalidTransition for a voucher that was voided or expired since."""
    voucher_id = VoucherTransaction.objects.filter(pk=transaction_id).values_list("voucher_id", flat=True).first()
    if voucher_id is None:
        raise LedgerEntryNotFound(transaction_id=transaction_id)
    voucher = _lock(voucher_id)
    fingerprint = _fingerprint("reverse", transaction_id)
    earlier = _replay(voucher, idempotency_key, fingerprint)
    if earlier is not None:
        return earlier
    redemption = VoucherTransaction.objects.get(pk=transaction_id)
    if redemption.kind != TransactionKind.REDEEM:
        raise NotReversible(kind=redemption.kind)
    if VoucherTransaction.objects.filter(reverses=redemption).exists():
        raise AlreadyReversed(transaction_id=transaction_id)
    if voucher.status in (VoucherStatus.VOID, VoucherStatus.EXPIRED):
        raise InvalidTransition(
            _("The voucher is %(status)s; its value cannot be restored.") % {"status": voucher.get_status_display()}
        )
    if voucher.balance - redemption.amount > voucher.initial_value:
        # A manual correction already gave the value back; restoring it twice would break the balance ceiling.
        raise InvalidTransition(_("The value of this redemption has already been restored by a correction."))
    status = VoucherStatus.ACTIVE if voucher.status == VoucherStatus.SPENT else None
    return _record(
        voucher,
        kind=TransactionKind.REVERSE,
        amount=-redemption.amount,
        actor=actor,
        status=status,
        location_id=redemption.location_id,
        reference=reference or redemption.reference,
        reverses=redemption,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )


def _take(
    voucher_id: int,
    *,
    kind: str,
    amount: int | None,
    actor: Actor,
    reason: str,
    idempotency_key: str | None = None,
) -> VoucherTransaction:
    """Void or refund ``amount`` (None: the whole remaining value). A voucher left with nothing becomes void and
    keeps its history."""
    voucher = _lock(voucher_id)
    fingerprint = _fingerprint(kind, "all" if amount is None else amount)
    earlier = _replay(voucher, idempotency_key, fingerprint)
    if earlier is not None:
        return earlier
    if voucher.status in (VoucherStatus.VOID, VoucherStatus.EXPIRED):
        raise InvalidTransition(_("The voucher is already %(status)s.") % {"status": voucher.get_status_display()})
    taken = voucher.balance if amount is None else amount
    if taken > voucher.balance:
        raise InsufficientBalance(available=voucher.balance)
    return _record(
        voucher,
        kind=kind,
        amount=-taken,
        actor=actor,
        status=VoucherStatus.VOID if taken == voucher.balance else None,
        reference=reason,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )


@transaction.atomic
def voucher_void(
    *, voucher_id: int, reason: str, actor: Actor = SYSTEM, idempotency_key: str | None = None
) -> VoucherTransaction:
    """Cancel the voucher: its remaining value goes to zero and it can no longer be used. Raises
    InvalidTransition when it is already void or expired."""
    return _take(
        voucher_id, kind=TransactionKind.VOID, amount=None, actor=actor, reason=reason, idempotency_key=idempotency_key
    )


@transaction.atomic
def voucher_refund(
    *,
    voucher_id: int,
    reason: str,
    amount: int | None = None,
    actor: Actor = SYSTEM,
    idempotency_key: str | None = None,
) -> VoucherTransaction:
    """Take value off the voucher because its purchase was refunded: all of it (``amount`` None; the voucher
    becomes void) or part of it. Raises InvalidAmount, InsufficientBalance and InvalidTransition."""
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0):
        raise InvalidAmount(amount=amount)
    return _take(
        voucher_id,
        kind=TransactionKind.REFUND,
        amount=amount,
        actor=actor,
        reason=reason,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def voucher_expire(*, voucher_id: int, now: datetime | None = None) -> VoucherTransaction | None:
    """Expire an active voucher past its date: an ``expire`` row takes the remaining value (breakage stays
    explainable). Returns None when there is nothing to do, so the sweeper may run any number of times."""
    now = now or timezone.now()
    voucher = _lock(voucher_id)
    if voucher.status != VoucherStatus.ACTIVE or voucher.expires_at is None or voucher.expires_at > now:
        return None
    return _record(
        voucher,
        kind=TransactionKind.EXPIRE,
        amount=-voucher.balance,
        actor=SYSTEM,
        status=VoucherStatus.EXPIRED,
        reference="expired",
    )


def vouchers_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Expire every active voucher whose date has passed, each in its own transaction, so a crash keeps what was
    done and the next run goes on. Safe to run any number of times. Returns how many it expired."""
    now = now or timezone.now()
    due = Voucher.objects.filter(status=VoucherStatus.ACTIVE, expires_at__lte=now).order_by("pk")
    expired = 0
    last_id = 0
    while True:
        batch = list(due.filter(pk__gt=last_id).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return expired
        for voucher_id in batch:
            if voucher_expire(voucher_id=voucher_id, now=now) is not None:
                expired += 1
        last_id = batch[-1]


@transaction.atomic
def voucher_adjust(
    *, voucher_id: int, amount: int, reason: str, actor: Actor = SYSTEM, idempotency_key: str | None = None
) -> VoucherTransaction:
    """Correct the balance by ``amount`` (positive or negative) with a reason. The result stays between zero and
    the initial value. Raises InvalidAmount, InsufficientBalance and InvalidTransition (void or expired)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise InvalidAmount(amount=amount)
    if not reason.strip():
        raise InvalidTransition(_("Say why the balance is corrected."))
    voucher = _lock(voucher_id)
    fingerprint = _fingerprint("adjust", amount, reason)
    earlier = _replay(voucher, idempotency_key, fingerprint)
    if earlier is not None:
        return earlier
    if voucher.status in (VoucherStatus.VOID, VoucherStatus.EXPIRED):
        raise InvalidTransition(_("The voucher is %(status)s.") % {"status": voucher.get_status_display()})
    new_balance = voucher.balance + amount
    if new_balance < 0:
        raise InsufficientBalance(available=voucher.balance)
    if new_balance > voucher.initial_value:
        raise InvalidAmount(_("The balance cannot exceed the initial value."), initial_value=voucher.initial_value)
    status = None
    if voucher.status == VoucherStatus.ACTIVE and new_balance == 0:
        status = VoucherStatus.SPENT
    elif voucher.status == VoucherStatus.SPENT and new_balance > 0:
        status = VoucherStatus.ACTIVE
    return _record(
        voucher,
        kind=TransactionKind.ADJUST,
        amount=amount,
        actor=actor,
        status=status,
        reference=reason,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )


@transaction.atomic
def voucher_freeze(*, voucher_id: int, reason: str, actor: Actor = SYSTEM) -> VoucherTransaction | None:
    """Stop an active voucher from being used (e.g. its payment is disputed). None if it is already frozen."""
    voucher = _lock(voucher_id)
    if voucher.status == VoucherStatus.FROZEN:
        return None
    if voucher.status != VoucherStatus.ACTIVE:
        raise InvalidTransition(
            _("Only active vouchers can be frozen; this one is %(status)s.") % {"status": voucher.get_status_display()}
        )
    return _record(
        voucher, kind=TransactionKind.FREEZE, amount=0, actor=actor, status=VoucherStatus.FROZEN, reference=reason
    )


@transaction.atomic
def voucher_unfreeze(*, voucher_id: int, reason: str, actor: Actor = SYSTEM) -> VoucherTransaction | None:
    """Let a frozen voucher be used again (spent if a correction took its value meanwhile). None if it is not
    frozen."""
    voucher = _lock(voucher_id)
    if voucher.status != VoucherStatus.FROZEN:
        return None
    status = VoucherStatus.ACTIVE if voucher.balance > 0 else VoucherStatus.SPENT
    return _record(voucher, kind=TransactionKind.UNFREEZE, amount=0, actor=actor, status=status, reference=reason)


@transaction.atomic
def voucher_extend(
    *, voucher_id: int, expires_at: datetime | None, reason: str, actor: Actor = SYSTEM, now: datetime | None = None
) -> VoucherTransaction | None:
    """Move the expiry date (None: never expires). An expired voucher gets back, as an ``adjust`` row, the value
    its expiry took. Raises InvalidTransition for a void voucher or a date in the past."""
    now = now or timezone.now()
    voucher = _lock(voucher_id)
    if voucher.status == VoucherStatus.VOID:
        raise InvalidTransition(_("A void voucher cannot be extended."))
    if expires_at is not None and expires_at <= now:
        raise InvalidTransition(_("Choose an expiry date in the future."))
    voucher.expires_at = expires_at
    if voucher.status != VoucherStatus.EXPIRED:
        voucher.save(update_fields=["expires_at", "updated_at"])
        return None
    # Nothing moves value on an expired voucher, so its latest expire row holds exactly what the expiry took.
    expiry = voucher.transactions.filter(kind=TransactionKind.EXPIRE).order_by("-pk").first()
    amount = -expiry.amount if expiry is not None else 0
    if amount <= 0:
        voucher.status = VoucherStatus.SPENT if voucher.balance == 0 else VoucherStatus.ACTIVE
        voucher.save(update_fields=["expires_at", "status", "updated_at"])
        return None
    return _record(
        voucher,
        kind=TransactionKind.ADJUST,
        amount=amount,
        actor=actor,
        status=VoucherStatus.ACTIVE,
        reference=f"extended: {reason}",
    )
