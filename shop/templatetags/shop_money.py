"""``{{ amount|money:currency }}``: minor units shown in the page's language."""

from django import template
from django.utils.translation import get_language

from vouchers.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(int(amount), currency, (get_language() or "en")[:2])
