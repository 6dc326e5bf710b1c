"""Voucher codes: random, unambiguous, typo-proof.

Alphanumeric codes are 15 random Crockford base32 characters (75 bits) plus one check character, shown as
``XXXX-XXXX-XXXX-XXXX``. Numeric codes (for tills that take digits only) are 19 random digits (63 bits) plus one
check digit, shown in groups of four. Both check characters come from the Damm algorithm over a totally
anti-symmetric quasigroup, so every single wrong character and every swap of two adjacent characters is caught
before any database lookup.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
ALPHANUMERIC_RANDOM_LENGTH = 15
NUMERIC_RANDOM_LENGTH = 19
GROUP = 4
_INDEX = {char: index for index, char in enumerate(ALPHABET)}
# Read-alikes people type by mistake, as Crockford's base32 specifies.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\t\n")

# The Damm quasigroup of order 10 (Damm, 2004).
_DAMM10 = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _gf32_times_x(value: int) -> int:
    """Multiply by x in GF(2^5) modulo the primitive polynomial x^5 + x^2 + 1."""
    value <<= 1
    return value ^ 0b100101 if value & 0b100000 else value


# x * y = a·x + y over GF(32) with a = x (≠ 0, 1) is a totally anti-symmetric quasigroup: a·(a·c + x) + y equals
# a·(a·c + y) + x only when x == y, which is what makes every adjacent swap detectable.
_DAMM32 = tuple(tuple(_gf32_times_x(row) ^ column for column in range(32)) for row in range(32))


class MalformedCode(ValueError):
    """The text cannot be a voucher code: wrong characters, wrong length or a wrong check character."""


def _damm(digits: list[int], table: tuple[tuple[int, ...], ...]) -> int:
    interim = 0
    for digit in digits:
        interim = table[interim][digit]
    return interim


def _check_char_alphanumeric(body: str) -> str:
    interim = _damm([_INDEX[char] for char in body], _DAMM32)
    # The check character c is the one with interim * c == 0, i.e. a·interim + c = 0, so c = a·interim.
    return ALPHABET[_gf32_times_x(interim)]


def _check_digit_numeric(body: str) -> str:
    interim = _damm([int(char) for char in body], _DAMM10)
    return str(_DAMM10[interim].index(0))


def generate_code(*, numeric: bool = False) -> str:
    """A new random code in canonical form (no separators)."""
    if numeric:
        body = "".join(secrets.choice("0123456789") for _ in range(NUMERIC_RANDOM_LENGTH))
        return body + _check_digit_numeric(body)
    body = "".join(secrets.choice(ALPHABET) for _ in range(ALPHANUMERIC_RANDOM_LENGTH))
    return body + _check_char_alphanumeric(body)


def is_valid_canonical(code: str) -> bool:
    """Whether ``code`` (canonical form) has a correct length, alphabet and check character."""
    if len(code) == NUMERIC_RANDOM_LENGTH + 1 and code.isdigit():
        return _damm([int(char) for char in code], _DAMM10) == 0
    if len(code) == ALPHANUMERIC_RANDOM_LENGTH + 1 and all(char in _INDEX for char in code):
        return _damm([_INDEX[char] for char in code], _DAMM32) == 0
    return False


def normalize_code(raw: str) -> str:
    """The canonical form of what a person typed or a scanner sent; raise MalformedCode if it cannot be a code.

    Ignores case, spaces and dashes, and reads O as 0 and I or L as 1.
    """
    code = raw.strip().upper().translate(_SEPARATORS).translate(_LOOKALIKES)
    if not is_valid_canonical(code):
        raise MalformedCode(raw)
    return code


def format_code(code: str) -> str:
    """``ABCD-EFGH-JKMN-PQRS`` (or four-digit groups) for people and print."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
