"""Domain errors of vouchers, each with a stable ``code`` (and a ``reason`` where one helps a cashier).

``code`` and ``reason`` are for machines and never change; ``message`` is for people, in the active language.
"""

from http import HTTPStatus
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

# How a cashier reads each reason a voucher cannot be redeemed.
REASONS = {
    "spent": _("it is fully used"),
    "expired": _("it has expired"),
    "void": _("it is void"),
    "frozen": _("it is on hold"),
    "not_yet_valid": _("it is not valid yet"),
    "wrong_location": _("it is not valid at this location"),
}


class VoucherError(DomainError):
    code = "voucher_error"
    default_message: Any = _("The voucher cannot be changed.")


class VoucherNotFound(VoucherError):
    """Unknown, malformed or another merchant's code: one answer for all, so codes cannot be probed."""

    code = "not_found"
    status = HTTPStatus.NOT_FOUND
    default_message: Any = _("No voucher with this code.")


class NotRedeemable(VoucherError):
    code = "not_redeemable"
    default_message: Any = _("The voucher cannot be redeemed.")

    def __init__(self, reason: str, message: str | None = None, **details: Any) -> None:
        why = REASONS.get(reason, reason.replace("_", " "))
        super().__init__(message or gettext("The voucher cannot be redeemed: %(why)s.") % {"why": why}, **details)
        self.reason = reason


class InsufficientBalance(VoucherError):
    code = "insufficient_balance"
    default_message: Any = _("The voucher's balance is too low.")


class CurrencyMismatch(VoucherError):
    code = "currency_mismatch"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    field = "currency"
    default_message: Any = _("The amount's currency is not the voucher's currency.")


class AlreadyReversed(VoucherError):
    code = "already_reversed"
    default_message: Any = _("This redemption has already been reversed.")


class LedgerEntryNotFound(VoucherError):
    code = "not_found"
    status = HTTPStatus.NOT_FOUND
    default_message: Any = _("No such ledger entry.")


class NotReversible(VoucherError):
    code = "not_reversible"
    default_message: Any = _("Only redemptions can be reversed.")


class InvalidAmount(VoucherError):
    code = "invalid_amount"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    field = "amount"
    default_message: Any = _("The amount must be a positive whole number of minor units (or items).")


class InvalidTransition(VoucherError):
    code = "invalid_transition"
    default_message: Any = _("The voucher is not in a state that allows this.")


class IdempotencyConflict(VoucherError):
    code = "idempotency_key_reused"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    default_message: Any = _("This idempotency key was already used for a different change.")
