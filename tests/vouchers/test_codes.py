"""Voucher codes: random and unique, no look-alike characters, and every typo caught before the database."""

import pytest

from tests.factories import MerchantFactory
from vouchers.codes import (
    ALPHABET,
    ALPHANUMERIC_RANDOM_LENGTH,
    NUMERIC_RANDOM_LENGTH,
    MalformedCode,
    _check_char_alphanumeric,
    format_code,
    generate_code,
    is_valid_canonical,
    normalize_code,
)
from vouchers.errors import VoucherNotFound
from vouchers.selectors import voucher_get_by_code

DIGITS = "0123456789"


def single_typos(code: str, alphabet: str):
    for position, original in enumerate(code):
        for replacement in alphabet:
            if replacement != original:
                yield code[:position] + replacement + code[position + 1 :]


def adjacent_swaps(code: str):
    for position in range(len(code) - 1):
        if code[position] != code[position + 1]:
            yield code[:position] + code[position + 1] + code[position] + code[position + 2 :]


def test_a_hundred_thousand_codes_are_unique_well_formed_and_without_look_alikes():
    # Given 100 000 freshly generated codes
    codes = [generate_code() for _ in range(100_000)]

    # Then none repeats, none uses I, L, O or U, and each is 16 characters with a valid check character
    assert len(set(codes)) == len(codes)
    used = set("".join(codes))
    assert used.isdisjoint(set("ILOU"))
    assert used <= set(ALPHABET)
    assert all(len(code) == ALPHANUMERIC_RANDOM_LENGTH + 1 for code in codes)
    assert all(is_valid_canonical(code) for code in codes)
    # And the random part really uses the whole alphabet (at least 60 bits: 15 characters of 32)
    assert used == set(ALPHABET)
    assert ALPHANUMERIC_RANDOM_LENGTH * 5 >= 60


def test_numeric_codes_are_digits_with_a_check_digit_and_unique():
    codes = [generate_code(numeric=True) for _ in range(20_000)]
    assert len(set(codes)) == len(codes)
    assert all(code.isdigit() and len(code) == NUMERIC_RANDOM_LENGTH + 1 for code in codes)
    assert all(is_valid_canonical(code) for code in codes)
    assert len(codes[0]) >= 16


@pytest.mark.parametrize("numeric", [False, True], ids=["alphanumeric", "numeric"])
def test_every_single_character_typo_and_adjacent_swap_is_caught(numeric):
    # Given a sample of codes
    alphabet = DIGITS if numeric else ALPHABET
    for _ in range(60):
        code = generate_code(numeric=numeric)
        assert is_valid_canonical(code)
        # When any one character is mistyped, or two neighbours swapped, the check character refuses it
        typos = list(single_typos(code, alphabet))
        assert len(typos) == len(code) * (len(alphabet) - 1)
        assert not any(is_valid_canonical(typo) for typo in typos)
        swaps = list(adjacent_swaps(code))
        assert not any(is_valid_canonical(swap) for swap in swaps)


def test_swaps_are_caught_even_next_to_the_check_character():
    # Given codes whose last two characters differ; swapping the check character with its neighbour is refused
    for _ in range(2000):
        code = generate_code()
        if code[-1] != code[-2]:
            assert not is_valid_canonical(code[:-2] + code[-1] + code[-2])


def test_normalize_accepts_what_people_type():
    # Given a code that contains 0 and 1, written the way customers write it
    body = "0123456789ABCDE"
    code = body + _check_char_alphanumeric(body)
    typed = format_code(code).lower().replace("0", "o").replace("1", "l")

    # Then lower case, spaces, dashes and the look-alikes O->0, I/L->1 are all read as the code
    assert normalize_code(typed) == code
    assert normalize_code(f"  {typed.replace('-', ' ')}  ") == code
    assert normalize_code(code.replace("1", "I")) == code
    assert normalize_code(format_code(code)) == code
    assert format_code(code).count("-") == 3
    assert all(len(group) == 4 for group in format_code(code).split("-"))


@pytest.mark.parametrize("raw", ["", "ABCD", "ABCD-EFGH-JKMN-PQR!", "1234-5678", "X" * 40, "ÄBCD-EFGH-JKMN-PQRS"])
def test_normalize_refuses_what_cannot_be_a_code(raw):
    with pytest.raises(MalformedCode):
        normalize_code(raw)


def test_a_wrong_check_character_is_refused():
    code = generate_code()
    wrong = code[:-1] + next(char for char in ALPHABET if char != code[-1])
    with pytest.raises(MalformedCode):
        normalize_code(wrong)


@pytest.mark.django_db
def test_a_wrong_check_character_never_reaches_the_database(merchant, issue, django_assert_num_queries):
    # Given an issued voucher and its code with the check character mistyped
    voucher = issue()
    wrong = voucher.code[:-1] + next(char for char in ALPHABET if char != voucher.code[-1])

    # When it is looked up, the answer is "not found" without a single query
    with django_assert_num_queries(0), pytest.raises(VoucherNotFound):
        voucher_get_by_code(merchant_id=merchant.pk, code=wrong)


@pytest.mark.django_db
def test_lookup_by_code_ignores_how_it_was_typed_and_stays_within_the_merchant(merchant, issue):
    voucher = issue()
    other = MerchantFactory()
    typed = format_code(voucher.code).lower().replace("-", " ")
    assert voucher_get_by_code(merchant_id=merchant.pk, code=typed) == voucher
    # Another merchant's lookup of a real code gets the same answer as a made-up code
    with pytest.raises(VoucherNotFound):
        voucher_get_by_code(merchant_id=other.pk, code=voucher.code)
    with pytest.raises(VoucherNotFound):
        voucher_get_by_code(merchant_id=merchant.pk, code=generate_code())
