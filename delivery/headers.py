"""Text that may go into an email header: which characters a name must not hold, and how a stored value is made
safe to send.

A line break in a header value would start a new header (Django refuses to send it at all); other control,
format and separator characters are invisible or reorder what a reader sees. Names are refused with them when an
order is placed; rows written before that, or corrected later, are cleaned when the email is built.
"""

import unicodedata

# Zero-width non-joiner and joiner are part of how names are written in Persian and Indic scripts, and of emoji.
_JOINERS = frozenset({"\u200c", "\u200d"})


def _unprintable(char: str) -> bool:
    category = unicodedata.category(char)
    if category in ("Zl", "Zp"):
        return True
    return category.startswith("C") and char not in _JOINERS


def unprintable_characters(text: str) -> list[str]:
    """The characters of ``text`` that do not belong in a name: control characters (line breaks and tabs among
    them), format characters such as direction overrides, line and paragraph separators, and unassigned or private
    code points."""
    return [char for char in text if _unprintable(char)]


def header_text(value: str) -> str:
    """``value`` on one line for a header (display name, subject): every unprintable character becomes a space,
    runs of spaces become one, and the ends are trimmed."""
    cleaned = "".join(" " if _unprintable(char) else char for char in value)
    return " ".join(cleaned.split())
