"""The voucher page's PDF is rendered once per voucher state and language and then served from Django's cache for
up to a day; anything that changes what the PDF shows gives a new one.

Whether a GET rendered is observed through the cache itself: after the first GET the entry under the voucher's
current key is swapped for a marked copy, and a GET that answers with the marked copy cannot have rendered."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from delivery.pdf import PDF_CACHE_SECONDS, voucher_pdf_cache_key
from merchants.models import Merchant
from tests.delivery.helpers import make_merchant, make_voucher, pdf_text
from vouchers.models import Voucher
from vouchers.services import voucher_extend, voucher_redeem, voucher_void

pytestmark = pytest.mark.django_db

MARK = b"\n%served-from-the-cache\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00"
    b"\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def get_pdf(client: Client, voucher: Voucher, language: str = "en") -> bytes:
    response = client.get(f"/v/{voucher.public_token}/pdf", headers={"accept-language": language})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    return bytes(response.content)


def fresh(voucher: Voucher) -> Voucher:
    return Voucher.objects.select_related("merchant", "order_line__product").get(pk=voucher.pk)


def mark_cached(voucher: Voucher, language: str = "en") -> bytes:
    """Swap the cached PDF of the voucher's current state for a marked copy; return the copy."""
    key = voucher_pdf_cache_key(fresh(voucher), locale=language)
    cached = cache.get(key)
    assert isinstance(cached, bytes), "the PDF was not cached under the voucher's current key"
    cache.set(key, cached + MARK, PDF_CACHE_SECONDS)
    return cached + MARK


def test_the_second_get_is_served_from_the_cache_without_rendering(client):
    # Given a voucher whose PDF nobody opened yet
    voucher = make_voucher()
    key = voucher_pdf_cache_key(fresh(voucher), locale="en")
    assert cache.get(key) is None
    # When its PDF is opened, the rendered PDF is kept under the key of its state
    first = get_pdf(client, voucher)
    assert first.startswith(b"%PDF")
    assert cache.get(key) == first
    # Then the next GET answers with what the cache holds (here: a marked copy), so it did not render
    marked = mark_cached(voucher)
    assert get_pdf(client, voucher) == marked
    assert get_pdf(client, voucher) == marked


def _redeem(voucher: Voucher) -> str:
    voucher_redeem(voucher_id=voucher.pk, amount=1000)
    return ""


def _void(voucher: Voucher) -> str:
    voucher_void(voucher_id=voucher.pk, reason="test")
    return ""


def _extend(voucher: Voucher) -> str:
    voucher_extend(voucher_id=voucher.pk, expires_at=timezone.now() + timedelta(days=8 * 365), reason="test")
    return str(timezone.now().year + 8)


def _recipient(voucher: Voucher) -> str:
    Voucher.objects.filter(pk=voucher.pk).update(recipient_name="Bea Other")
    return "Bea Other"


def _message(voucher: Voucher) -> str:
    Voucher.objects.filter(pk=voucher.pk).update(message="Congratulations!")
    return "Congratulations!"


def _colour(voucher: Voucher) -> str:
    Merchant.objects.filter(pk=voucher.merchant_id).update(primary_colour="#112233")
    return ""


def _merchant_terms(voucher: Voucher) -> str:
    Merchant.objects.filter(pk=voucher.merchant_id).update(terms="Valid in every branch.")
    return "Valid in every branch."


def _logo(voucher: Voucher) -> str:
    merchant = Merchant.objects.get(pk=voucher.merchant_id)
    merchant.logo.save("logo.png", ContentFile(PNG), save=True)
    return ""


@pytest.mark.parametrize(
    "change",
    [_redeem, _void, _extend, _recipient, _message, _colour, _merchant_terms, _logo],
    ids=lambda change: change.__name__.strip("_"),
)
def test_a_change_of_state_gives_a_new_pdf(client, settings, tmp_path: Path, change: Callable[[Voucher], str]):
    settings.MEDIA_ROOT = str(tmp_path)
    # Given a voucher whose PDF is cached (as a marked copy)
    voucher = make_voucher(make_merchant())
    get_pdf(client, voucher)
    old_key = voucher_pdf_cache_key(fresh(voucher), locale="en")
    marked = mark_cached(voucher)
    # When something changes that the PDF shows (or that decides whether it may be used)
    shown = change(voucher)
    # Then the next GET renders a new PDF, kept under a new key, while the old entry is left to expire
    new_key = voucher_pdf_cache_key(fresh(voucher), locale="en")
    assert new_key != old_key
    pdf = get_pdf(client, voucher)
    assert pdf != marked
    assert pdf.startswith(b"%PDF")
    assert MARK not in pdf
    assert cache.get(new_key) == pdf
    if shown:
        assert shown in pdf_text(pdf)


def test_each_language_has_its_own_pdf(client):
    voucher = make_voucher(make_merchant(locale="en"))
    english = get_pdf(client, voucher, "en")
    marked = mark_cached(voucher, "en")
    german = get_pdf(client, voucher, "de")
    assert german != marked
    assert "GUTSCHEIN" in pdf_text(german).upper()
    assert "GIFT VOUCHER" in pdf_text(english).upper()
    assert cache.get(voucher_pdf_cache_key(fresh(voucher), locale="de")) == german
    assert get_pdf(client, voucher, "en") == marked


def test_a_cached_pdf_is_kept_for_a_day_at_most(client):
    voucher = make_voucher()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        get_pdf(client, voucher)
        key = voucher_pdf_cache_key(fresh(voucher), locale="en")
        clock.shift(timedelta(hours=23, minutes=59))
        assert cache.get(key) is not None
        clock.shift(timedelta(minutes=2))
        assert cache.get(key) is None
    assert PDF_CACHE_SECONDS == 24 * 3600
