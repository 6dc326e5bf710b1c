"""The voucher PDF: one A5 landscape page per voucher, drawn by WeasyPrint from an autoescaped template.

Safe by construction: the only resources a page may load are the bundled assets under ``delivery/static`` and the
merchant's uploaded logo (``AssetFetcher``); the QR code and barcode are generated here as inline SVG; all text
goes through Django's autoescaping; rendering stops after ``RENDER_TIME_LIMIT`` seconds. Fast: the stylesheet and
the font configuration are parsed once per process, and the voucher page's PDF (``voucher_pdf_cached``) is kept in
Django's cache per voucher state and language for up to a day.
"""

import base64
import hashlib
import signal
import threading
import zoneinfo
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import segno
from babel.dates import format_date
from barcode import Code128
from barcode.writer import SVGWriter
from django.core.cache import cache as django_cache
from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from delivery.branding import merchant_colours
from delivery.errors import AssetRefused, PdfRenderError, PdfRenderTimeout
from delivery.services import voucher_url
from merchants.models import Merchant
from vouchers.models import Voucher, VoucherKind
from vouchers.selectors import format_value

ASSET_DIR = (Path(__file__).resolve().parent / "static" / "delivery").resolve()
STYLESHEET = ASSET_DIR / "voucher.css"
RENDER_TIME_LIMIT = 20.0  # seconds, for one document of any size


class AssetFetcher(URLFetcher):
    """Loads ``data:`` URLs, files under the bundled asset directory, and the given logo file; refuses the rest
    (any network scheme, and ``file://`` anywhere else)."""

    def __init__(self, *, extra_files: Sequence[Path] = ()) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, fail_on_errors=False)
        self.extra_files = frozenset(path.resolve() for path in extra_files)

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(url2pathname(unquote(parts.path))).resolve()
        return path in self.extra_files or path.is_relative_to(ASSET_DIR)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not self.allows(url):
            raise AssetRefused(url=url[:200])
        return super().fetch(url, headers)


@cache
def _stylesheet() -> CSS:
    return CSS(filename=str(STYLESHEET), font_config=_font_config(), url_fetcher=AssetFetcher())


@cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


def warm_up() -> None:
    """Parse the stylesheet and load the fonts now (a worker calls this once at start)."""
    _stylesheet()


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    # WeasyPrint cannot be interrupted from outside; an alarm raises inside it. Alarms exist only in the main thread
    # (a Celery prefork child, a test, a management command); elsewhere the task's time limit still applies.
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise PdfRenderTimeout(seconds=seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def qr_svg_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI (vector: sharp at any print size)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#000", light="#fff"))


def barcode_svg_data_uri(code: str) -> str:
    """A Code 128 barcode of ``code`` (canonical form, what a till scanner types) as an SVG data URI."""
    buffer = BytesIO()
    Code128(code, writer=SVGWriter()).write(
        buffer,
        options={
            "module_width": 0.3,
            "module_height": 12.0,
            "quiet_zone": 4.0,
            "write_text": False,
            "background": "white",
            "foreground": "black",
        },
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _logo_path(merchant: Merchant) -> Path | None:
    if not merchant.logo:
        return None
    try:
        path = Path(merchant.logo.path)
    except (NotImplementedError, ValueError):
        return None
    return path if path.is_file() else None


def _long_date(moment: Any, merchant: Merchant, locale: str) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(merchant.time_zone or "UTC"))
    return str(format_date(local.date(), format="long", locale=locale))


def _product_name(voucher: Voucher) -> str:
    if voucher.kind == VoucherKind.ITEM:
        return ""  # the value line already names the item
    line = voucher.order_line
    return line.product.name if line is not None else ""


@dataclass(frozen=True)
class VoucherCard:
    """What one page shows, for a voucher and (optionally) the person and message it is sent with."""

    voucher: Voucher
    recipient_name: str = ""
    buyer_name: str = ""
    message: str = ""


def _card_context(card: VoucherCard, locale: str) -> dict[str, Any]:
    voucher = card.voucher
    merchant = voucher.merchant
    return {
        "voucher": voucher,
        "merchant": merchant,
        "value": format_value(voucher, voucher.initial_value, locale),
        "product_name": _product_name(voucher),
        "is_item": voucher.kind == VoucherKind.ITEM,
        "display_code": voucher.display_code,
        "url": voucher_url(voucher.public_token),
        "qr": qr_svg_data_uri(voucher_url(voucher.public_token)),
        "barcode": barcode_svg_data_uri(voucher.code),
        "recipient_name": card.recipient_name or voucher.recipient_name,
        "buyer_name": card.buyer_name,
        "message": card.message or voucher.message,
        "valid_until": _long_date(voucher.expires_at, merchant, locale),
        "terms": "\n".join(part for part in (merchant.terms, voucher.terms) if part),
        **merchant_colours(merchant),
    }


@dataclass(frozen=True)
class _Document:
    html: str
    logos: list[Path]
    language: str


def _document(cards: Sequence[VoucherCard], locale: str | None) -> _Document:
    if not cards:
        raise PdfRenderError("Nothing to render.")
    language = (locale or cards[0].voucher.merchant.locale or "en")[:2]
    logos = [path for path in (_logo_path(card.voucher.merchant) for card in cards) if path is not None]
    with translation.override(language):
        pages = []
        for card in cards:
            context = _card_context(card, language)
            logo = _logo_path(card.voucher.merchant)
            context["logo_url"] = logo.as_uri() if logo else ""
            pages.append(context)
        html = render_to_string("delivery/pdf/voucher.html", {"pages": pages, "language": language})
    return _Document(html=html, logos=logos, language=language)


def _write_pdf(document: _Document) -> bytes:
    try:
        with _time_limit(RENDER_TIME_LIMIT):
            page = HTML(
                string=document.html,
                base_url=ASSET_DIR.as_uri() + "/",
                url_fetcher=AssetFetcher(extra_files=document.logos),
            )
            return bytes(page.write_pdf(stylesheets=[_stylesheet()], font_config=_font_config()))
    except PdfRenderError:
        raise
    except Exception as error:
        raise PdfRenderError(f"{type(error).__name__}: {error}") from error


def render_cards_pdf(cards: Sequence[VoucherCard], *, locale: str | None = None) -> bytes:
    """One PDF with a page per card, in ``locale`` (default: each merchant's language). Raises PdfRenderError
    (PdfRenderTimeout when it takes longer than RENDER_TIME_LIMIT)."""
    return _write_pdf(_document(cards, locale))


def voucher_pdf_render(
    voucher: Voucher, *, recipient_name: str = "", buyer_name: str = "", message: str = "", locale: str | None = None
) -> bytes:
    """The one-page PDF of ``voucher``. Raises PdfRenderError."""
    card = VoucherCard(voucher=voucher, recipient_name=recipient_name, buyer_name=buyer_name, message=message)
    return render_cards_pdf([card], locale=locale)


def vouchers_pdf_render(vouchers: Sequence[Voucher], *, locale: str | None = None) -> bytes:
    """A batch document: one page per voucher in one PDF, e.g. promotional vouchers to print. Raises
    PdfRenderError."""
    return render_cards_pdf([VoucherCard(voucher=voucher) for voucher in vouchers], locale=locale)


# --- the voucher page's PDF, cached ---------------------------------------------------------------------------
# Rendering takes WeasyPrint a good part of a second, and the link in the QR code and emails is opened again and
# again; the page's PDF is kept in the cache under a key of everything it shows.

PDF_CACHE_SECONDS = 24 * 3600


@cache
def _stylesheet_digest() -> str:
    return hashlib.sha256(STYLESHEET.read_bytes()).hexdigest()


def _file_stamp(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def _cache_key(voucher: Voucher, document: _Document) -> str:
    # The rendered HTML holds every text, date, colour and logo path the PDF shows, in its language; the logo's
    # file and the stylesheet can change under the same name. Balance and status are added so that a future
    # template showing them can never serve a stale PDF.
    digest = hashlib.sha256()
    for part in (
        document.language,
        str(voucher.balance),
        str(voucher.status),
        _stylesheet_digest(),
        *(_file_stamp(path) for path in document.logos),
        document.html,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"delivery:voucher-pdf:{voucher.pk}:{digest.hexdigest()}"


def voucher_pdf_cache_key(voucher: Voucher, *, locale: str | None = None) -> str:
    """The cache key under which ``voucher_pdf_cached`` keeps the voucher's PDF as it is now, in ``locale``."""
    return _cache_key(voucher, _document([VoucherCard(voucher=voucher)], locale))


def voucher_pdf_cached(voucher: Voucher, *, locale: str | None = None) -> bytes:
    """The voucher's own PDF (no sender's names or message), rendered once per state and language and then served
    from the cache for up to PDF_CACHE_SECONDS. Raises PdfRenderError."""
    document = _document([VoucherCard(voucher=voucher)], locale)
    key = _cache_key(voucher, document)
    pdf = django_cache.get(key)
    if isinstance(pdf, bytes):
        return pdf
    pdf = _write_pdf(document)
    django_cache.set(key, pdf, PDF_CACHE_SECONDS)
    return pdf
