"""Domain errors of redemption, each with a stable ``code``; vouchers' own errors pass through unchanged."""

from vouchers.errors import VoucherError


class RedemptionError(VoucherError):
    code = "redemption_error"
    default_message = "The redemption cannot be made."


class RedemptionNotFound(RedemptionError):
    """Unknown ids and another merchant's ids alike."""

    code = "not_found"
    default_message = "No such redemption."


class HoldNotFound(RedemptionError):
    code = "not_found"
    default_message = "No such hold."


class LocationNotFound(RedemptionError):
    code = "unknown_location"
    default_message = "No such location at this merchant."


class LocationForbidden(RedemptionError):
    """The caller is bound to one location and asked to act at (or on a row of) another."""

    code = "location_forbidden"
    default_message = "This token or login may not act at that location."


class HoldExpired(RedemptionError):
    code = "hold_expired"
    default_message = "The hold has expired; its amount is free again."


class HoldNotLive(RedemptionError):
    code = "hold_not_live"
    default_message = "The hold was already captured or released."


class InvalidTtl(RedemptionError):
    code = "invalid_ttl"
    default_message = "A hold lasts between 1 second and 60 minutes."


class InvalidScope(RedemptionError):
    code = "invalid_scope"
    default_message = "Choose one or more known scopes: vouchers:read, redemptions:write."


class CodeGuessingThrottled(RedemptionError):
    """Too many failed code lookups in the current window; ``retry_after`` is in seconds."""

    code = "throttled"
    default_message = "Too many unknown codes. Wait a moment and try again."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class CurrencyRequired(RedemptionError):
    """An amount of money without its currency: the API never guesses which currency a till meant."""

    code = "currency_required"
    default_message = "Send the amount's currency (e.g. 'EUR') with the amount."


class ReversalWindowClosed(RedemptionError):
    """The redemption is older than the reversal window, and the caller is not a manager or owner of its merchant
    (API tokens never are)."""

    code = "reversal_window_closed"
    default_message = (
        "The time to reverse this redemption has passed; a manager or owner of the shop can still reverse it, "
        "with a reason."
    )


class ReasonRequired(RedemptionError):
    """A reversal after the reversal window needs a reason."""

    code = "reason_required"
    default_message = "Give a reason: after the reversal window a reversal needs one."
