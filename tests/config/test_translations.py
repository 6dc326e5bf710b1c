"""The German catalogues are complete (nothing untranslated or fuzzy, placeholders kept), and pages speak German
when the browser asks for it."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils import translation
from django.utils.translation import trans_real

from config.compilemessages import compile_all
from tests.factories import MerchantFactory
from vouchers.errors import NotRedeemable
from vouchers.selectors import voucher_state
from vouchers.services import voucher_issue, voucher_redeem

PROJECT_DIR = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(
    path
    for pattern in ("locale/*/LC_MESSAGES/*.po", "*/locale/*/LC_MESSAGES/*.po")
    for path in PROJECT_DIR.glob(pattern)
    if not {".venv", "var", "node_modules"} & set(path.relative_to(PROJECT_DIR).parts)
)
# A %-placeholder as Python's % operator reads it: %(name)s, %d, %.2f, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def catalogue_id(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR))


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_app_and_the_project_have_a_german_catalogue():
    found = {catalogue_id(path) for path in CATALOGUES}
    for owner in ("locale", "merchants", "shop", "vouchers", "payments", "delivery", "redemption"):
        assert f"{owner}/de/LC_MESSAGES/django.po" in found or f"{owner}/locale/de/LC_MESSAGES/django.po" in found


@pytest.mark.parametrize("path", CATALOGUES, ids=catalogue_id)
def test_catalogue_is_complete(path: Path):
    with path.open("rb") as po_file:
        catalog = read_po(po_file)
    header = path.read_text(encoding="utf-8").partition("\n\n")[0]
    assert '"Language: de\\n"' in header
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header
    assert str(catalog.locale) == "de"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
        if "fuzzy" in message.flags:
            problems.append(f"fuzzy: {ids[0]!r}")
        if "python-format" in message.flags:
            for index, string in enumerate(strings):
                # msgstr[0] is the singular, every other form the plural.
                source = ids[min(index, len(ids) - 1)]
                if string and placeholders(string) != placeholders(source):
                    problems.append(f"placeholders differ: {source!r} -> {string!r}")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def german() -> None:
    """Every catalogue compiled (as ``make install`` does), and Django's loaded catalogues dropped so that it
    reads the fresh .mo files."""
    compile_all(PROJECT_DIR)
    trans_real._translations = {}
    trans_real._default = None


@pytest.mark.django_db
def test_home_page_speaks_german(client, german):
    MerchantFactory(name="Café Anna")
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="de">' in page
    assert "Zum Inhalt springen" in page  # templates/base.html
    assert "Gutscheine – online verkauft, an der Kasse eingelöst" in page  # shop/templates/shop/home.html
    assert "Verwaltung: Produkte, Bestellungen, Gutscheine und Mitarbeiter" in page


@pytest.mark.django_db
def test_home_page_stays_english_for_english_browsers(client, german):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Skip to content" in page
    assert "Zum Inhalt springen" not in page


@pytest.mark.django_db
def test_voucher_display_line_in_german(german):
    merchant = MerchantFactory(currency="EUR")
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000)
    voucher_redeem(voucher_id=voucher.pk, amount=3000, currency="EUR")
    voucher.refresh_from_db()
    assert voucher_state(voucher, locale="de").display.replace("\xa0", " ") == "20,00 € von 50,00 € übrig"
    assert voucher_state(voucher, locale="en").display == "€20.00 of €50.00 left"


@pytest.mark.django_db
def test_voucher_errors_in_german(german):
    with translation.override("de"):
        error = NotRedeemable("expired")
    assert error.message == "Der Gutschein kann nicht eingelöst werden: er ist abgelaufen."
