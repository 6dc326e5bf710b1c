"""The voucher PDF: content, batch documents, the asset fetcher's walls and the render time limit."""

import io
from pathlib import Path

import pypdf
import pytest
from django.core.files.base import ContentFile

from delivery import pdf as pdf_module
from delivery.errors import AssetRefused, PdfRenderTimeout
from delivery.pdf import ASSET_DIR, AssetFetcher, voucher_pdf_render, vouchers_pdf_render
from delivery.services import voucher_url
from tests.delivery.helpers import decode_codes, make_merchant, make_voucher, pdf_page_count, pdf_text
from vouchers.models import VoucherKind

pytestmark = pytest.mark.django_db

# A 1×1 PNG, enough to be a logo.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4b00000000049454e44ae426082"
)


def test_item_voucher_shows_the_item_and_english_dates():
    voucher = make_voucher(make_merchant(locale="en"), value=1, kind=VoucherKind.ITEM, item_label="Massage 60 min")
    text = " ".join(pdf_text(voucher_pdf_render(voucher, locale="en")).split())
    assert "1 × Massage 60 min" in text
    assert "Valid until" in text
    assert "Not exchangeable for cash." in text
    assert "Hauptstraße 1" in text


def test_batch_document_has_one_page_per_voucher_each_with_its_own_codes():
    merchant = make_merchant()
    vouchers = [make_voucher(merchant, value=1000 * (i + 1)) for i in range(3)]
    document = vouchers_pdf_render(vouchers)
    assert pdf_page_count(document) == 3
    for index, voucher in enumerate(vouchers):
        codes = decode_codes(document, page_index=index)
        assert codes == {"QRCode": voucher_url(voucher.public_token), "Code128": voucher.code}


def test_text_is_escaped_not_interpreted():
    voucher = make_voucher(message='<img src="http://attacker.example/x.png"> <b>bold</b>')
    text = pdf_text(voucher_pdf_render(voucher))
    assert '<img src="http://attacker.example/x.png">' in text
    assert "<b>bold</b>" in text


def test_fetcher_refuses_the_network_and_files_outside_the_assets(tmp_path: Path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    fetcher = AssetFetcher(extra_files=[logo])
    for url in (
        "http://127.0.0.1:1/x.png",
        "https://example.com/x.css",
        "ftp://example.com/x",
        "file:///etc/passwd",
        (ASSET_DIR / ".." / ".." / "settings.py").as_uri(),
        f"file://{ASSET_DIR}/../../services.py",
        (tmp_path / "other.png").as_uri(),
    ):
        with pytest.raises(AssetRefused):
            fetcher.fetch(url)
    assert fetcher.fetch(logo.as_uri()).read() == PNG
    assert fetcher.fetch((ASSET_DIR / "voucher.css").as_uri()).read().startswith(b"/*")
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


def test_merchant_logo_is_embedded(settings, tmp_path: Path):
    settings.MEDIA_ROOT = str(tmp_path)
    merchant = make_merchant()
    merchant.logo.save("logo.png", ContentFile(PNG), save=True)
    without_logo = voucher_pdf_render(make_voucher(make_merchant()))
    with_logo = voucher_pdf_render(make_voucher(merchant))
    # The QR code and barcode are vectors; the only raster image on the page is the logo.
    assert len(pypdf.PdfReader(io.BytesIO(with_logo)).pages[0].images) == 1
    assert len(pypdf.PdfReader(io.BytesIO(without_logo)).pages[0].images) == 0


def test_render_stops_at_the_time_limit(monkeypatch: pytest.MonkeyPatch):
    voucher = make_voucher()
    monkeypatch.setattr(pdf_module, "RENDER_TIME_LIMIT", 0.0005)
    with pytest.raises(PdfRenderTimeout):
        voucher_pdf_render(voucher)
