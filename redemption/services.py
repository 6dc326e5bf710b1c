"""Redemption's verbs: validate, hold, capture, release, redeem and reverse, for the POS page and the API alike.

Every change of value is a ledger row written by ``vouchers.services``. Services here that reserve or take value
lock the voucher row first (inside ``transaction.atomic()``), then count the live holds under that lock and pass
them to ``voucher_redeem`` as ``reserved``, so that a hold and a redemption can never both have the same money.
Lock order is always voucher, then hold or redemption, to avoid deadlocks.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from core.client_address import address_bucket
from core.rows import insert_row
from merchants.models import Location, StaffMembership
from merchants.tenancy import MANAGING_ROLES
from redemption import throttling
from redemption.errors import (
    CurrencyRequired,
    HoldExpired,
    HoldNotLive,
    InvalidScope,
    InvalidTtl,
    LocationForbidden,
    LocationNotFound,
    ReasonRequired,
    ReversalWindowClosed,
)
from redemption.models import (
    PREFIX_LENGTH,
    ApiToken,
    Hold,
    HoldStatus,
    IdempotencyRecord,
    IdempotencyState,
    Redemption,
    Scope,
    hash_token,
    new_token,
)
from redemption.selectors import counter_voucher, held_amount, hold_get, redemption_get
from vouchers.errors import CurrencyMismatch, InsufficientBalance, InvalidAmount, NotRedeemable, VoucherNotFound
from vouchers.models import Voucher, VoucherKind, VoucherTransaction
from vouchers.selectors import VoucherState, voucher_code_by_public_token, voucher_state
from vouchers.services import Actor, not_redeemable_reason, voucher_redeem, voucher_redeem_locked, voucher_reverse

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")
HOLD_DEFAULT_TTL = 600
HOLD_MAX_TTL = 3600
IDEMPOTENCY_KEEP = timedelta(hours=48)
IDEMPOTENCY_STALE = timedelta(hours=1)


@dataclass(frozen=True)
class Caller:
    """Who acts at the counter: a cashier's POS session or an API token, always for one merchant, and bound to
    one location when the token (or the session) says so."""

    merchant_id: int
    actor: Actor
    bound_location_id: int | None = None
    user_id: int | None = None
    api_token_id: int | None = None
    ip: str | None = None

    @property
    def throttle_identities(self) -> list[str]:
        identities = []
        if self.api_token_id is not None:
            identities.append(f"token:{self.api_token_id}")
        if self.user_id is not None:
            identities.append(f"user:{self.user_id}")
        bucket = address_bucket(self.ip)
        if bucket:
            identities.append(f"ip:{bucket}")
        return identities

    def ledger_key(self, idempotency_key: str | None) -> str | None:
        """The caller's key as the ledger stores it: one till's key never collides with another's."""
        if not idempotency_key:
            return None
        owner = f"t{self.api_token_id}" if self.api_token_id is not None else f"u{self.user_id}"
        return f"{owner}:{idempotency_key}"[:255]


@dataclass(frozen=True)
class Redeemed:
    """A redemption (new, replayed, captured or reversed) and its voucher as that change left it."""

    redemption: Redemption
    voucher: VoucherState


def location_resolve(*, caller: Caller, slug: str | None) -> int | None:
    """The id of the location where the caller acts: ``slug`` if given, else the caller's bound location.

    Raises LocationForbidden for a bound caller asking for another location, LocationNotFound for a slug that is
    not an active location of the merchant.
    """
    if not slug:
        return caller.bound_location_id
    # A string that cannot be a slug (a NUL byte, say) is not sent to the database at all.
    location_id = (
        Location.objects.filter(merchant_id=caller.merchant_id, slug=slug, is_active=True)
        .values_list("pk", flat=True)
        .first()
        if _SLUG.fullmatch(slug)
        else None
    )
    if caller.bound_location_id is not None and location_id != caller.bound_location_id:
        raise LocationForbidden
    if location_id is None:
        raise LocationNotFound
    return location_id


def _check_row_location(caller: Caller, location_id: int | None) -> None:
    if caller.bound_location_id is not None and location_id != caller.bound_location_id:
        raise LocationForbidden


def _throttle_check(caller: Caller) -> None:
    throttling.check(
        caller.throttle_identities,
        merchant_id=caller.merchant_id,
        api_token_id=caller.api_token_id,
        user_id=caller.user_id,
        ip=caller.ip,
    )


def _counter_lookup(*, caller: Caller, code: str, lock: bool = False) -> tuple[Voucher, int]:
    """The merchant's voucher with ``code`` and what its live holds reserve, counting a failed lookup against
    the caller (the caller checked the throttle first, outside any transaction, so that its audit row stays).
    Raises VoucherNotFound for unknown, malformed and other merchants' codes alike."""
    found = counter_voucher(merchant_id=caller.merchant_id, code=code, lock=lock)
    if found is None:
        throttling.record_failure(caller.throttle_identities, merchant_id=caller.merchant_id)
        raise VoucherNotFound
    return found


# The QR code on a voucher holds the address of its public page (BASE_URL/v/<token>/), not its code: a camera or a
# scanner at the till may read it instead of the barcode.
_VOUCHER_PAGE = re.compile(r"/v/(?P<token>[A-Za-z0-9_-]{1,64})/?$")
CODE_MAX_LENGTH = 64


def scanned_code(*, caller: Caller, text: str) -> str:
    """What a cashier typed or scanned, as a code to look up: the address of a voucher page becomes the code of
    that voucher of the caller's merchant (after the throttle check, so a throttled caller learns nothing);
    anything else is returned as it is, cut to a code's length, and counts as a failed lookup if unknown.

    Raises CodeGuessingThrottled.
    """
    text = text.strip()
    page = _VOUCHER_PAGE.search(text)
    if page is not None:
        _throttle_check(caller)
        code = voucher_code_by_public_token(merchant_id=caller.merchant_id, public_token=page["token"])
        if code is not None:
            return code
    return text[:CODE_MAX_LENGTH]


def voucher_find(*, caller: Caller, code: str) -> Voucher:
    """The merchant's voucher with ``code``, counting failed lookups against the caller.

    Raises CodeGuessingThrottled once the caller failed too often this minute, and VoucherNotFound for unknown,
    malformed and other merchants' codes alike.
    """
    _throttle_check(caller)
    voucher, _held = _counter_lookup(caller=caller, code=code)
    return voucher


def voucher_validate(*, caller: Caller, code: str, location_id: int | None = None) -> VoucherState:
    """What the counter may do with the voucher now: always answers for a voucher of this merchant.

    Raises VoucherNotFound, CodeGuessingThrottled and LocationForbidden.
    """
    _check_row_location(caller, location_id if location_id is not None else caller.bound_location_id)
    _throttle_check(caller)
    voucher, held = _counter_lookup(caller=caller, code=code)
    return voucher_state(voucher, location_id=location_id, held_amount=held)


def voucher_state_now(*, voucher_id: int, location_id: int | None = None) -> VoucherState:
    """The validation view of a voucher after a change, read fresh from the database."""
    voucher = Voucher.objects.select_related("merchant").get(pk=voucher_id)
    return voucher_state(voucher, location_id=location_id, held_amount=held_amount(voucher_id=voucher_id))


def voucher_state_after(redemption: Redemption) -> VoucherState:
    """The validation view of the redemption's voucher, read inside the transaction that changed it.

    The voucher the service updated under the lock is used when the redemption carries it; otherwise it is read
    fresh (and kept for the answer). The live holds are counted again.
    """
    if not Redemption.voucher.is_cached(redemption):
        redemption.voucher = Voucher.objects.select_related("merchant").get(pk=redemption.voucher_id)
    return voucher_state(
        redemption.voucher,
        location_id=redemption.location_id,
        held_amount=held_amount(voucher_id=redemption.voucher_id),
    )


def _positive_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidAmount(amount=value)
    return value


def _check_currency(voucher: Voucher, currency: str | None, *, required: bool) -> None:
    """An amount of money names the voucher's currency (item vouchers count items and need none).

    Raises CurrencyRequired (none given where ``required``) and CurrencyMismatch.
    """
    if voucher.kind == VoucherKind.ITEM:
        return
    if currency is None:
        if required:
            raise CurrencyRequired
        return
    if currency.upper() != voucher.currency:
        raise CurrencyMismatch(voucher_currency=voucher.currency, currency=currency)


def hold_create(
    *,
    caller: Caller,
    code: str,
    amount: int,
    ttl_seconds: int = HOLD_DEFAULT_TTL,
    location_id: int | None = None,
    reference: str = "",
    currency: str | None = None,
    currency_required: bool = False,
) -> Hold:
    """Reserve ``amount`` of the voucher for ``ttl_seconds`` (default 10 minutes, at most 60). For a value
    voucher ``currency``, when given (or ``currency_required``), must be the voucher's.

    Raises InvalidAmount, InvalidTtl, VoucherNotFound, CodeGuessingThrottled, LocationForbidden, CurrencyRequired,
    CurrencyMismatch, NotRedeemable (with ``reason``) and InsufficientBalance (the balance minus other live holds is
    too low).
    """
    _positive_int(amount)
    if not isinstance(ttl_seconds, int) or isinstance(ttl_seconds, bool) or not 0 < ttl_seconds <= HOLD_MAX_TTL:
        raise InvalidTtl
    location_id = location_id if location_id is not None else caller.bound_location_id
    _check_row_location(caller, location_id)
    voucher = voucher_find(caller=caller, code=code)
    _check_currency(voucher, currency, required=currency_required)
    with transaction.atomic():
        # Lock for reading only: the ledger is not written, but no redemption may slip between the count of
        # live holds and the new hold.
        voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
        now = timezone.now()
        reason = not_redeemable_reason(voucher, location_id=location_id, now=now)
        if reason:
            raise NotRedeemable(reason)
        available = voucher.balance - held_amount(voucher_id=voucher.pk, now=now)
        if amount > available:
            raise InsufficientBalance(available=max(available, 0))
        return Hold.objects.create(
            merchant_id=caller.merchant_id,
            voucher=voucher,
            amount=amount,
            expires_at=now + timedelta(seconds=ttl_seconds),
            location_id=location_id,
            user_id=caller.user_id,
            api_token_id=caller.api_token_id,
            reference=reference[:255],
        )


def hold_capture(
    *,
    caller: Caller,
    hold_id: object,
    amount: int | None = None,
    reference: str | None = None,
    idempotency_key: str | None = None,
    currency: str | None = None,
    currency_required: bool = False,
) -> Redeemed:
    """Turn a live hold into a redemption of all of it (``amount`` None) or less; the rest is freed. An
    ``amount`` of money names its ``currency`` where ``currency_required``; a ``currency`` given must be the
    voucher's.

    Raises HoldNotFound, LocationForbidden, InvalidAmount (more than held), CurrencyRequired, CurrencyMismatch,
    HoldExpired, HoldNotLive (captured or released before) and the errors of ``voucher_redeem``.
    """
    hold = hold_get(merchant_id=caller.merchant_id, hold_id=hold_id)
    _check_row_location(caller, hold.location_id)
    if amount is not None:
        _positive_int(amount)
    _check_currency(hold.voucher, currency, required=currency_required and amount is not None)
    with transaction.atomic():
        Voucher.objects.select_for_update().only("pk").get(pk=hold.voucher_id)
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        now = timezone.now()
        if hold.status == HoldStatus.EXPIRED or (hold.status == HoldStatus.LIVE and hold.expires_at <= now):
            raise HoldExpired
        if hold.status != HoldStatus.LIVE:
            raise HoldNotLive(status=hold.status)
        take = hold.amount if amount is None else amount
        if take > hold.amount:
            raise InvalidAmount(f"At most the held {hold.amount} can be captured.", amount=take)
        entry = voucher_redeem(
            voucher_id=hold.voucher_id,
            amount=take,
            actor=caller.actor,
            location_id=hold.location_id,
            reference=hold.reference if reference is None else reference,
            idempotency_key=caller.ledger_key(idempotency_key),
            reserved=held_amount(voucher_id=hold.voucher_id, now=now, exclude_hold_id=hold.pk),
        )
        redemption, _created = Redemption.objects.get_or_create(
            transaction=entry,
            defaults={
                "merchant_id": caller.merchant_id,
                "voucher_id": hold.voucher_id,
                "amount": -entry.amount,
                "location_id": hold.location_id,
                "user_id": caller.user_id,
                "api_token_id": caller.api_token_id,
                "hold": hold,
                "reference": entry.reference,
            },
        )
        hold.status = HoldStatus.CAPTURED
        hold.closed_at = now
        hold.save(update_fields=["status", "closed_at"])
        return Redeemed(redemption, voucher_state_after(redemption))


def hold_release(*, caller: Caller, hold_id: object) -> Hold:
    """Free a hold. Releasing a released or expired hold again changes nothing.

    Raises HoldNotFound, LocationForbidden and HoldNotLive (it was captured).
    """
    hold = hold_get(merchant_id=caller.merchant_id, hold_id=hold_id)
    _check_row_location(caller, hold.location_id)
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.status == HoldStatus.CAPTURED:
            raise HoldNotLive(status=hold.status)
        if hold.status == HoldStatus.LIVE:
            now = timezone.now()
            hold.status = HoldStatus.RELEASED if hold.expires_at > now else HoldStatus.EXPIRED
            hold.closed_at = now
            hold.save(update_fields=["status", "closed_at"])
        return hold


def redemption_create(
    *,
    caller: Caller,
    code: str,
    amount: int,
    location_id: int | None = None,
    reference: str = "",
    currency: str | None = None,
    idempotency_key: str | None = None,
    unit: str | None = None,
    currency_required: bool = False,
) -> Redeemed:
    """Redeem ``amount`` (minor units, or items) of the voucher at ``location_id``; never touches held value.

    ``unit`` ("amount" or "quantity") says what the caller meant; a mismatch with the voucher's kind is refused
    rather than taking one cent for one item; with ``currency_required`` an amount of money must name its
    currency. The same ``idempotency_key`` returns the first redemption. Raises VoucherNotFound,
    CodeGuessingThrottled, LocationForbidden, CurrencyRequired and the errors of ``voucher_redeem``
    (InvalidAmount, CurrencyMismatch, NotRedeemable, InsufficientBalance, IdempotencyConflict).
    """
    _positive_int(amount)
    location_id = location_id if location_id is not None else caller.bound_location_id
    _check_row_location(caller, location_id)
    _throttle_check(caller)
    with transaction.atomic():
        # One statement finds and locks the voucher, a second counts its live holds: holds are only added under
        # the voucher's lock, so the count stays true until this transaction ends.
        voucher, held = _counter_lookup(caller=caller, code=code, lock=True)
        if unit is not None and (unit == "quantity") != (voucher.kind == VoucherKind.ITEM):
            expected = "quantity" if voucher.kind == VoucherKind.ITEM else "amount"
            raise InvalidAmount(f"This voucher is redeemed by {expected}.", field=unit)
        _check_currency(voucher, currency, required=currency_required)
        entry, created = voucher_redeem_locked(
            voucher=voucher,
            amount=amount,
            actor=caller.actor,
            currency=currency,
            location_id=location_id,
            reference=reference,
            idempotency_key=caller.ledger_key(idempotency_key),
            reserved=held,
        )
        # Only a retry with the same key can get back a ledger row that already has its redemption.
        earlier = None if created else Redemption.objects.filter(transaction=entry).first()
        if earlier is not None:
            return Redeemed(earlier, voucher_state_after(earlier))
        redemption = Redemption(
            transaction=entry,
            merchant_id=caller.merchant_id,
            voucher=voucher,  # as this transaction left it: the answer needs no second read
            amount=-entry.amount,
            location_id=location_id,
            user_id=caller.user_id,
            api_token_id=caller.api_token_id,
            reference=entry.reference,
        )
        insert_row(redemption)
        # Holds cannot have changed under the lock: the count from before is still true.
        return Redeemed(redemption, voucher_state(voucher, location_id=location_id, held_amount=held))


BUSINESS_DAY = "business_day"


class ReversalRule:
    """Who may reverse a redemption now: anyone at its counter (OPEN), only with a reason (REASON_REQUIRED: a
    manager or owner after the window), or nobody at this counter (CLOSED: a cashier or a token after it)."""

    OPEN = "open"
    REASON_REQUIRED = "reason_required"
    CLOSED = "closed"


def reversal_window() -> timedelta | None:
    """The ``REVERSAL_WINDOW`` setting: None for ``business_day`` (the calendar day of the redemption in the
    merchant's time zone), else a number of minutes. Raises ImproperlyConfigured for anything else."""
    value = str(getattr(settings, "REVERSAL_WINDOW", BUSINESS_DAY)).strip().lower()
    if value == BUSINESS_DAY:
        return None
    if value.isascii() and value.isdigit() and 0 < int(value) <= 60 * 24 * 366:
        return timedelta(minutes=int(value))
    raise ImproperlyConfigured(
        f"REVERSAL_WINDOW must be '{BUSINESS_DAY}' or a number of minutes (1 to 527040), not {value!r}."
    )


def reversal_window_open(*, redemption: Redemption, time_zone: str, now: datetime | None = None) -> bool:
    """Whether ``redemption`` is still within the reversal window; ``time_zone`` is its merchant's."""
    now = now or timezone.now()
    window = reversal_window()
    if window is not None:
        return now - redemption.created_at <= window
    zone = ZoneInfo(time_zone)
    return timezone.localdate(redemption.created_at, zone) == timezone.localdate(now, zone)


def _manages(caller: Caller, merchant_id: int) -> bool:
    """Whether the caller is a person who is owner or manager of this merchant (a platform superuser counts)."""
    if caller.user_id is None:
        return False
    if StaffMembership.objects.filter(
        user_id=caller.user_id, merchant_id=merchant_id, role__in=MANAGING_ROLES
    ).exists():
        return True
    return get_user_model().objects.filter(pk=caller.user_id, is_active=True, is_superuser=True).exists()


def reversal_rule(*, caller: Caller, redemption: Redemption, now: datetime | None = None) -> str:
    """The ReversalRule for ``caller`` and ``redemption`` (of the caller's merchant, read with it, as
    ``redemption_get`` does) at ``now``."""
    if reversal_window_open(redemption=redemption, time_zone=redemption.merchant.time_zone, now=now):
        return ReversalRule.OPEN
    return ReversalRule.REASON_REQUIRED if _manages(caller, redemption.merchant_id) else ReversalRule.CLOSED


def redemption_reverse(
    *,
    caller: Caller,
    redemption_id: object,
    idempotency_key: str | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Redeemed:
    """Give back exactly what the redemption took, once.

    Within the reversal window (``REVERSAL_WINDOW``) anyone at the redemption's counter may reverse it, with or
    without a reason; after it only an owner or manager of the merchant, and only with a reason. The reason is
    kept on the redemption and is the reversing ledger row's reference.

    Raises RedemptionNotFound, LocationForbidden, ReversalWindowClosed, ReasonRequired, AlreadyReversed and
    InvalidTransition (the voucher was voided or expired since).
    """
    reason = "".join(char for char in reason if char.isprintable()).strip()[:255]
    redemption = redemption_get(merchant_id=caller.merchant_id, redemption_id=redemption_id)
    _check_row_location(caller, redemption.location_id)
    # A reversed redemption answers as before (a replay, or AlreadyReversed), whatever the time.
    if redemption.reversal_id is None:
        rule = reversal_rule(caller=caller, redemption=redemption, now=now)
        if rule == ReversalRule.CLOSED:
            raise ReversalWindowClosed
        if rule == ReversalRule.REASON_REQUIRED and not reason:
            raise ReasonRequired
    with transaction.atomic():
        Voucher.objects.select_for_update().only("pk").get(pk=redemption.voucher_id)
        redemption = Redemption.objects.select_for_update().get(pk=redemption.pk)
        entry = voucher_reverse(
            transaction_id=redemption.transaction_id,
            actor=caller.actor,
            reference=reason,
            idempotency_key=caller.ledger_key(idempotency_key),
        )
        if redemption.reversal_id is None:
            redemption.reversal = entry
            redemption.reversed_at = entry.created_at
            redemption.reversal_reason = reason
            redemption.save(update_fields=["reversal", "reversed_at", "reversal_reason"])
        if VoucherTransaction.voucher.is_cached(entry):
            redemption.voucher = entry.voucher
        return Redeemed(redemption, voucher_state_after(redemption))


def holds_expire_due(*, batch_size: int = 1000) -> int:
    """Record live holds past their time as expired. Their amount was free already; this only tidies up."""
    due = list(
        Hold.objects.filter(status=HoldStatus.LIVE, expires_at__lte=timezone.now()).values_list("pk", flat=True)[
            :batch_size
        ]
    )
    return Hold.objects.filter(pk__in=due, status=HoldStatus.LIVE).update(
        status=HoldStatus.EXPIRED, closed_at=timezone.now()
    )


def idempotency_records_purge() -> int:
    """Delete idempotency records past their keeping time (48 hours; the promise is 24), and in-flight records
    whose request died without an answer."""
    now = timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_KEEP).delete()
    stale, _ = IdempotencyRecord.objects.filter(
        state=IdempotencyState.IN_FLIGHT, created_at__lt=now - IDEMPOTENCY_STALE
    ).delete()
    return deleted + stale


def api_token_create(
    *,
    merchant_id: int,
    name: str,
    scopes: Sequence[str] = (Scope.VOUCHERS_READ, Scope.REDEMPTIONS_WRITE),
    location_id: int | None = None,
    created_by_id: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the merchant (optionally bound to one of its locations) and its secret, which is shown
    this once and stored only as a hash. Raises InvalidScope and LocationNotFound."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown or not scopes:
        raise InvalidScope(unknown=unknown)
    if location_id is not None and not Location.objects.filter(pk=location_id, merchant_id=merchant_id).exists():
        raise LocationNotFound
    secret = new_token()
    token = ApiToken.objects.create(
        merchant_id=merchant_id,
        location_id=location_id,
        name=name[:100],
        scopes=sorted(set(scopes)),
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=hash_token(secret),
        created_by_id=created_by_id,
    )
    return token, secret


def api_token_revoke(*, merchant_id: int, token_id: int) -> ApiToken:
    """Stop the token from working, at once and for good. Revoking it again changes nothing."""
    token = ApiToken.objects.get(pk=token_id, merchant_id=merchant_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
