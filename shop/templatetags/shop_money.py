"""``{{ amount|money:currency }}``: minor units shown in the page's language; ``{{ colour|brand_colour }}``: a
merchant's colour that is safe inside CSS."""

from django import template
from django.utils.translation import get_language

from merchants.models import DEFAULT_BRAND_COLOUR, safe_colour
from vouchers.money import format_money

register = template.Library()


@register.filter
def brand_colour(value: object, default: str = DEFAULT_BRAND_COLOUR) -> str:
    return safe_colour(value, default)


@register.filter
def money(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(int(amount), currency, (get_language() or "en")[:2])
