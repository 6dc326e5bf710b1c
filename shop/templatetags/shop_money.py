"""``{{ amount|money:currency }}``: minor units shown in the page's language; ``{{ colour|brand_colour }}``: a
merchant's colour that is safe inside CSS."""

import re

from django import template
from django.utils.translation import get_language

from vouchers.money import format_money

register = template.Library()

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_BRAND_COLOUR = "#1F6F5C"


def safe_colour(value: object, default: str = DEFAULT_BRAND_COLOUR) -> str:
    """``value`` if it is a #RRGGBB colour, else ``default``: a row saved around the model's validator must not
    put arbitrary CSS into a page."""
    text = str(value or "")
    return text if _HEX_COLOUR.match(text) else default


@register.filter
def brand_colour(value: object, default: str = DEFAULT_BRAND_COLOUR) -> str:
    return safe_colour(value, default)


@register.filter
def money(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(int(amount), currency, (get_language() or "en")[:2])
