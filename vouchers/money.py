"""Money: integer minor units beside an ISO 4217 currency, converted to decimals only to show or read them.

Amounts typed by people are read by a strict parser: ASCII digits, at most one decimal separator ("." or ","),
no more decimal places than the currency has, no exponent, no sign unless asked for, and at most
``MAX_MINOR_UNITS``. Anything else is refused before any arithmetic, so that no input can cost more than a
regular expression over a few dozen characters.
"""

import re
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

# The largest amount a person may type anywhere (999 999.99 in a currency with two decimals): far above any
# voucher, far below anything that could overflow a column or cost time to compute.
MAX_MINOR_UNITS = 99_999_999
# Longer text is refused without looking at it: a valid amount below the cap has at most 8 digits, a separator,
# up to 3 decimals and a sign.
MAX_TEXT_LENGTH = 32

_AMOUNT = re.compile(r"(?P<sign>[-+]?)(?P<whole>[0-9]*)(?:[.,](?P<fraction>[0-9]*))?", re.ASCII)
_WHOLE = re.compile(r"(?P<sign>[-+]?)(?P<whole>[0-9]+)", re.ASCII)


class InvalidMoney(ValueError):
    """Text that is not an amount (or a number of items) as a person would type it."""


def minor_unit_digits(currency: str) -> int:
    """How many decimal places the currency has (EUR 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def to_decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-minor_unit_digits(currency))


def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """``€50.00`` in English, ``50,00 €`` in German."""
    return str(format_currency(to_decimal(amount, currency), currency, locale=locale))


def _cleaned(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise InvalidMoney("The amount is too long.")
    return cleaned


def _signed(sign: str, value: int, *, signed: bool, text: str) -> int:
    if sign and not signed:
        raise InvalidMoney(f"{text!r} has a sign; enter the amount without + or -.")
    if value > MAX_MINOR_UNITS:
        raise InvalidMoney(f"{text!r} is larger than allowed.")
    return -value if sign == "-" else value


def parse_money(text: str, currency: str, *, signed: bool = False) -> int:
    """Minor units for a decimal amount typed by a person ("12.50" or "12,50").

    ``signed`` lets a leading "-" or "+" through (a correction); otherwise a sign is refused. Raises InvalidMoney (a
    ValueError) for anything that is not such an amount: an exponent, NaN or Infinity, digits other than 0-9, grouping
    characters, more decimal places than ``currency`` has, or more than ``MAX_MINOR_UNITS``.
    """
    cleaned = _cleaned(text)
    match = _AMOUNT.fullmatch(cleaned)
    if match is None or not (match["whole"] or match["fraction"]):
        raise InvalidMoney(f"{text!r} is not an amount")
    digits = minor_unit_digits(currency)
    fraction = match["fraction"] or ""
    if len(fraction) > digits:
        raise InvalidMoney(f"{text!r} has more decimal places than {currency} allows")
    # At most MAX_TEXT_LENGTH ASCII digits: int() of them is cheap.
    value = int((match["whole"] or "0") + fraction.ljust(digits, "0"))
    return _signed(match["sign"], value, signed=signed, text=text)


def parse_quantity(text: str, *, signed: bool = False) -> int:
    """A whole number of items typed by a person ("3"), by the same rules as ``parse_money``. Raises InvalidMoney."""
    cleaned = _cleaned(text)
    match = _WHOLE.fullmatch(cleaned)
    if match is None:
        raise InvalidMoney(f"{text!r} is not a whole number")
    return _signed(match["sign"], int(match["whole"]), signed=signed, text=text)
