"""Domain errors of the shop, each with a stable code that views turn into 4xx answers or form errors."""

from core.errors import DomainError


class ShopError(DomainError):
    code = "shop_error"


class UnknownProduct(ShopError):
    """The product does not exist, is not on sale, or belongs to another merchant."""

    code = "unknown_product"


class InvalidOrderInput(ShopError):
    """A value of a new order is not acceptable; ``field`` names the form field it belongs to."""

    code = "invalid_order_input"

    def __init__(self, message: str, *, field: str, **details: object) -> None:
        super().__init__(message, field=field, **details)
        self.field = field


class OrderNotFound(ShopError):
    code = "order_not_found"


class InvalidOrderTransition(ShopError):
    """The order's status does not allow this change (e.g. refunding an unpaid order)."""

    code = "invalid_order_transition"
