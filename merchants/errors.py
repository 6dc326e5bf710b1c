"""Domain errors of the merchants app (merchants, locations, staff), each with a stable code that views and
commands turn into clear answers."""


class MerchantError(Exception):
    code = "merchant_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class MerchantExists(MerchantError):
    code = "merchant_exists"


class UnknownLocation(MerchantError):
    code = "unknown_location"
