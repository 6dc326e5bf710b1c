"""Domain errors of the merchants app (merchants, locations, staff and their two-factor login), each with a stable
code that views and commands turn into clear answers."""

from core.errors import DomainError


class MerchantError(DomainError):
    code = "merchant_error"


class MerchantExists(MerchantError):
    code = "merchant_exists"


class UnknownLocation(MerchantError):
    code = "unknown_location"


class TwoFactorCodeInvalid(MerchantError):
    """The code matches none of the user's devices (wrong, used already, or asked again too soon)."""

    code = "two_factor_code_invalid"


class TwoFactorNotStarted(MerchantError):
    """A first code arrived for an authenticator that was never shown (or was confirmed meanwhile)."""

    code = "two_factor_not_started"
