"""Money: integer minor units beside an ISO 4217 currency, converted to decimals only to show or read them."""

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision


def minor_unit_digits(currency: str) -> int:
    """How many decimal places the currency has (EUR 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def to_decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-minor_unit_digits(currency))


def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """``€50.00`` in English, ``50,00 €`` in German."""
    return str(format_currency(to_decimal(amount, currency), currency, locale=locale))


def parse_money(text: str, currency: str) -> int:
    """Minor units for a decimal amount typed by a person ("12.50" or "12,50"); ValueError when it is not exact."""
    cleaned = text.strip().replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not an amount") from error
    minor = value.scaleb(minor_unit_digits(currency))
    if minor != minor.to_integral_value() or not value.is_finite():
        raise ValueError(f"{text!r} has more decimal places than {currency} allows")
    return int(minor)
