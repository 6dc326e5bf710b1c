"""The voucher's public page (what the QR code and the email link open) and its PDF. Anyone with the unguessable
token may look; nothing here changes anything."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_safe

from delivery.selectors import voucher_page_context
from vouchers.models import Voucher


def _voucher(token: str) -> Voucher:
    return get_object_or_404(Voucher.objects.select_related("merchant", "order_line__product"), public_token=token)


def _private(response: HttpResponse) -> HttpResponse:
    # The token is the key: keep the page out of shared caches, search engines and other sites' Referer logs.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def voucher_page(request: HttpRequest, token: str) -> HttpResponse:
    voucher = _voucher(token)
    language = translation.get_language() or voucher.merchant.locale
    return _private(render(request, "delivery/voucher_page.html", voucher_page_context(voucher, language)))


@require_safe
def voucher_pdf(request: HttpRequest, token: str) -> HttpResponse:
    from delivery.pdf import voucher_pdf_cached  # WeasyPrint loads only in processes that render

    voucher = _voucher(token)
    pdf = voucher_pdf_cached(voucher, locale=translation.get_language() or voucher.merchant.locale)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="voucher-{voucher.code}.pdf"'
    return _private(response)
