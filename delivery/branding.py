"""A merchant's brand colours as they may appear in CSS (PDF, email, voucher page)."""

import re

from merchants.models import Merchant

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_PRIMARY = "#1F6F5C"
DEFAULT_ACCENT = "#E9B44C"


def safe_colour(value: str, default: str) -> str:
    """``value`` if it is a #RRGGBB colour, else ``default``: colours go into CSS, where text must not."""
    return value if _HEX.match(value or "") else default


def merchant_colours(merchant: Merchant) -> dict[str, str]:
    return {
        "primary": safe_colour(merchant.primary_colour, DEFAULT_PRIMARY),
        "accent": safe_colour(merchant.accent_colour, DEFAULT_ACCENT),
    }
