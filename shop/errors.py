"""Domain errors of the shop, each with a stable code that views turn into 4xx answers or form errors."""


class ShopError(Exception):
    code = "shop_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class MerchantExists(ShopError):
    code = "merchant_exists"


class UnknownLocation(ShopError):
    code = "unknown_location"


class UnknownMerchant(ShopError):
    code = "unknown_merchant"
