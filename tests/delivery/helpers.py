"""Helpers for delivery tests: a voucher to deliver, and reading the PDF that arrived by email."""

import io
from datetime import timedelta
from email.message import EmailMessage

import pypdf
import pypdfium2
import zxingcpp
from django.utils import timezone

from merchants.models import Merchant
from tests.factories import MerchantFactory
from vouchers.models import Voucher
from vouchers.services import voucher_issue


def make_merchant(**fields: object) -> Merchant:
    defaults: dict[str, object] = {
        "contact_email": "owner@merchant.example",
        "address": "Hauptstraße 1\n10115 Berlin",
        "terms": "Not exchangeable for cash.",
    }
    defaults.update(fields)
    return MerchantFactory(**defaults)


def make_voucher(merchant: Merchant | None = None, *, value: int = 5000, **fields: object) -> Voucher:
    merchant = merchant or make_merchant()
    return voucher_issue(
        merchant_id=merchant.pk,
        value=value,
        expires_at=timezone.now() + timedelta(days=3 * 365),
        recipient_name=str(fields.pop("recipient_name", "Anna Example")),
        message=str(fields.pop("message", "Happy birthday!")),
        **fields,  # type: ignore[arg-type]
    )


def pdf_attachment(message: EmailMessage) -> bytes:
    for part in message.iter_attachments():
        if part.get_content_type() == "application/pdf":
            return bytes(part.get_content())
    raise AssertionError("no PDF attached")


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # Babel separates amount and currency with a no-break space; compare as a reader would see it.
    return "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")


def pdf_page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def decode_codes(pdf: bytes, page_index: int = 0) -> dict[str, str]:
    """The QR code and barcode found on a rendered image of the page: {"QRCode": text, "Code128": text}."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[page_index]
        image = page.render(scale=4).to_pil()
        page.close()
    finally:
        document.close()
    return {result.format.name: result.text for result in zxingcpp.read_barcodes(image)}
