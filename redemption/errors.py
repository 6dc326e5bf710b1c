"""Domain errors of redemption, each with a stable ``code``; vouchers' own errors pass through unchanged."""

from http import HTTPStatus
from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class RedemptionError(DomainError):
    code = "redemption_error"
    default_message: Any = _("The redemption cannot be made.")


class RedemptionNotFound(RedemptionError):
    """Unknown ids and another merchant's ids alike."""

    code = "not_found"
    status = HTTPStatus.NOT_FOUND
    default_message: Any = _("No such redemption.")


class HoldNotFound(RedemptionError):
    code = "not_found"
    status = HTTPStatus.NOT_FOUND
    default_message: Any = _("No such hold.")


class LocationNotFound(RedemptionError):
    code = "unknown_location"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    field = "location"
    default_message: Any = _("No such location at this merchant.")


class LocationForbidden(RedemptionError):
    """The caller is bound to one location and asked to act at (or on a row of) another."""

    code = "location_forbidden"
    status = HTTPStatus.FORBIDDEN
    default_message: Any = _("This token or login may not act at that location.")


class HoldExpired(RedemptionError):
    code = "hold_expired"
    default_message: Any = _("The hold has expired; its amount is free again.")


class HoldNotLive(RedemptionError):
    code = "hold_not_live"
    default_message: Any = _("The hold was already captured or released.")


class InvalidTtl(RedemptionError):
    code = "invalid_ttl"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    field = "ttl_seconds"
    default_message: Any = _("A hold lasts between 1 second and 60 minutes.")


class InvalidScope(RedemptionError):
    code = "invalid_scope"
    default_message: Any = _("Choose one or more known scopes: vouchers:read, redemptions:write.")


class CodeGuessingThrottled(RedemptionError):
    """Too many failed code lookups in the current window; ``retry_after`` is in seconds."""

    code = "throttled"
    status = HTTPStatus.TOO_MANY_REQUESTS
    default_message: Any = _("Too many unknown codes. Wait a moment and try again.")

    def __init__(self, message: str | None = None, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class CurrencyRequired(RedemptionError):
    """An amount of money without its currency: the API never guesses which currency a till meant."""

    code = "currency_required"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    field = "currency"
    default_message: Any = _("Send the amount's currency (e.g. 'EUR') with the amount.")


class ReversalWindowClosed(RedemptionError):
    """The redemption is older than the reversal window, and the caller is not a manager or owner of its merchant
    (API tokens never are)."""

    code = "reversal_window_closed"
    status = HTTPStatus.FORBIDDEN
    default_message: Any = _(
        "The time to reverse this redemption has passed; a manager or owner of the shop can still reverse it, "
        "with a reason."
    )


class ReasonRequired(RedemptionError):
    """A reversal after the reversal window needs a reason."""

    code = "reason_required"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    field = "reason"
    default_message: Any = _("Give a reason: after the reversal window a reversal needs one.")
