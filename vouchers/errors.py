"""Domain errors of vouchers, each with a stable ``code`` (and a ``reason`` where one helps a cashier)."""

from typing import Any


class VoucherError(Exception):
    code = "voucher_error"
    default_message = "The voucher cannot be changed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class VoucherNotFound(VoucherError):
    """Unknown, malformed or another merchant's code: one answer for all, so codes cannot be probed."""

    code = "not_found"
    default_message = "No voucher with this code."


class NotRedeemable(VoucherError):
    code = "not_redeemable"
    default_message = "The voucher cannot be redeemed."

    def __init__(self, reason: str, message: str | None = None, **details: Any) -> None:
        super().__init__(message or f"The voucher cannot be redeemed: {reason.replace('_', ' ')}.", **details)
        self.reason = reason


class InsufficientBalance(VoucherError):
    code = "insufficient_balance"
    default_message = "The voucher's balance is too low."


class CurrencyMismatch(VoucherError):
    code = "currency_mismatch"
    default_message = "The amount's currency is not the voucher's currency."


class AlreadyReversed(VoucherError):
    code = "already_reversed"
    default_message = "This redemption has already been reversed."


class NotReversible(VoucherError):
    code = "not_reversible"
    default_message = "Only redemptions can be reversed."


class InvalidAmount(VoucherError):
    code = "invalid_amount"
    default_message = "The amount must be a positive whole number of minor units (or items)."


class InvalidTransition(VoucherError):
    code = "invalid_transition"
    default_message = "The voucher is not in a state that allows this."


class IdempotencyConflict(VoucherError):
    code = "idempotency_key_reused"
    default_message = "This idempotency key was already used for a different change."
