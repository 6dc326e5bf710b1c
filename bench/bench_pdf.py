"""Voucher PDF rendering, and payment to email received.

1. WeasyPrint (what the shop uses) beside ReportLab drawing the same content, same run: the median milliseconds
   per voucher for a one-voucher document and for a 100-voucher batch document. Needs no database: the vouchers
   are unsaved model instances.
2. With DATABASE_URL on PostgreSQL and REDIS_URL set: 50 orders, one after another, each marked paid and fulfilled
   by the shop's services; the time until the recipient's email (PDF attached) reaches a local SMTP server, sent by
   a real Celery worker. The database is migrated and keeps the bench rows; use a database of its own.
"""

import os
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from io import BytesIO

E2E_ORDERS = 50
SINGLE_RUNS = 15
BATCH_RUNS = 3
BATCH_SIZE = 100


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def _vouchers(count: int) -> list:  # type: ignore[type-arg]
    from merchants.models import Merchant
    from vouchers.codes import generate_code
    from vouchers.models import Voucher

    merchant = Merchant(
        pk=1,
        slug="cafe-blau",
        name="Café Blau",
        locale="de",
        currency="EUR",
        address="Hauptstraße 1\n10115 Berlin",
        contact_email="hallo@cafe-blau.example",
        terms="Keine Barauszahlung. Restguthaben bleibt erhalten.",
    )
    return [
        Voucher(
            pk=i + 1,
            merchant=merchant,
            code=generate_code(),
            currency="EUR",
            initial_value=5000,
            balance=5000,
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            expires_at=datetime(2029, 12, 31, tzinfo=UTC),
            recipient_name="Anna Beispiel",
            message="Alles Gute zum Geburtstag!",
            public_token=f"bench-token-{i:04d}-abcdefghijklmnop",
        )
        for i in range(count)
    ]


def _reportlab(vouchers: Sequence) -> bytes:  # type: ignore[type-arg]
    """The same content as the WeasyPrint card, drawn with ReportLab's canvas (A5 landscape)."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode import code128, qr
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.colors import HexColor, white
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from delivery.services import voucher_url
    from vouchers.money import format_money

    width, height = landscape(A5)
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    for voucher in vouchers:
        merchant = voucher.merchant
        pdf.setFillColor(HexColor(merchant.primary_colour))
        pdf.rect(0, 0, 78 * mm, height, stroke=0, fill=1)
        pdf.setFillColor(HexColor(merchant.accent_colour))
        pdf.rect(78 * mm, 0, 3 * mm, height, stroke=0, fill=1)
        pdf.setFillColor(white)
        pdf.setFont("Helvetica-Bold", 13)
        pdf.drawString(9 * mm, height - 18 * mm, merchant.name)
        pdf.setFont("Helvetica", 8)
        pdf.drawString(9 * mm, height - 35 * mm, "GUTSCHEIN")
        pdf.setFont("Helvetica-Bold", 30)
        pdf.drawString(9 * mm, height - 48 * mm, format_money(voucher.initial_value, voucher.currency, "de"))
        pdf.setFont("Helvetica", 9)
        pdf.drawString(9 * mm, 10 * mm, "Gültig bis 31. Dezember 2029")
        pdf.setFillColor(HexColor(merchant.primary_colour))
        pdf.setFont("Helvetica-Bold", 15)
        pdf.drawString(90 * mm, height - 16 * mm, f"Für {voucher.recipient_name}")
        pdf.setFillColor(HexColor("#222222"))
        pdf.setFont("Helvetica-Oblique", 10)
        pdf.drawString(93 * mm, height - 24 * mm, voucher.message)
        widget = qr.QrCodeWidget(voucher_url(voucher.public_token), barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(31 * mm, 31 * mm, transform=[31 * mm / (x1 - x0), 0, 0, 31 * mm / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, pdf, 88 * mm, height - 65 * mm)
        pdf.setFont("Helvetica", 6.5)
        pdf.drawString(124 * mm, height - 38 * mm, "GUTSCHEINCODE")
        pdf.setFont("Courier-Bold", 13)
        pdf.drawString(124 * mm, height - 44 * mm, voucher.display_code)
        code128.Code128(voucher.code, barWidth=0.3 * mm, barHeight=12 * mm).drawOn(pdf, 122 * mm, height - 62 * mm)
        text = pdf.beginText(88 * mm, height - 75 * mm)
        text.setFont("Helvetica", 8)
        text.textLine("SO LÖST DU IHN EIN")
        text.textLine(f"Zeige diesen Gutschein bei {merchant.name} vor. Der Code wird an der Kasse gescannt")
        text.textLine("oder eingetippt; ein Restwert bleibt auf dem Gutschein.")
        pdf.drawText(text)
        footer = pdf.beginText(88 * mm, 22 * mm)
        footer.setFont("Helvetica", 6.5)
        for line in [*merchant.address.splitlines(), merchant.contact_email, merchant.terms]:
            footer.textLine(line)
        pdf.drawText(footer)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _median_ms_per_voucher(render: Callable[[], bytes], runs: int, count: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        timings.append((time.perf_counter() - started) * 1000 / count)
    return statistics.median(timings)


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _payment_to_email() -> str:
    """p50/p95 seconds from "paid" to the recipient's email received, over E2E_ORDERS orders."""
    import uuid

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        return "Payment to email received: not run (needs DATABASE_URL=postgres://... of its own and REDIS_URL)."
    from merchants.models import Merchant
    from shop.models import VoucherProduct
    from shop.services import order_create, order_fulfil, order_mark_paid
    from tests.delivery.conftest import SmtpServer
    from tests.delivery.worker import Worker, tasks_to_queue

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    merchant = Merchant.objects.create(slug=f"bench-{tag}", name="Café Blau", locale="de", currency="EUR")
    product = VoucherProduct.objects.create(merchant=merchant, name="Gutschein", fixed_amounts=[5000])
    server = SmtpServer()
    server.start()
    queue = f"delivery-bench-{tag}"
    worker = Worker(queue=queue, email_url=f"smtp://127.0.0.1:{server.port}?timeout=30")
    seconds: list[float] = []
    try:
        with tasks_to_queue(queue):
            worker.start()
            for i in range(E2E_ORDERS):
                address = f"r{i}-{tag}@example.com"
                order = order_create(
                    merchant_id=merchant.pk,
                    product_id=product.pk,
                    buyer_name="Ben",
                    buyer_email=f"b{i}-{tag}@example.com",
                    amount=5000,
                    recipient_name="Anna",
                    recipient_email=address,
                    locale="de",
                )
                started = time.perf_counter()
                with transaction.atomic():
                    order_mark_paid(order_id=order.pk, amount=5000, currency="EUR", cause="bench")
                    order_fulfil(order_id=order.pk)
                deadline = started + 60
                while not server.handler.to(address):
                    if time.perf_counter() > deadline:
                        raise RuntimeError("email not received:\n" + "".join(worker.output[-30:]))
                    time.sleep(0.002)
                seconds.append(time.perf_counter() - started)
    finally:
        worker.stop()
        server.stop()
    return "\n".join(
        [
            "## Payment to email received",
            "",
            f"{E2E_ORDERS} orders one after another (each: recipient's email and the buyer's copy, PDF attached): "
            "`order_mark_paid` + `order_fulfil` in one transaction, then one real Celery worker (Redis broker, "
            "one prefork child, PostgreSQL) renders and sends; the clock stops when the local SMTP server has "
            "the recipient's message.",
            "",
            "| orders | p50 (s) | p95 (s) | max (s) |",
            "|---|---|---|---|",
            f"| {len(seconds)} | {_percentile(seconds, 0.5):.3f} | {_percentile(seconds, 0.95):.3f} | "
            f"{max(seconds):.3f} |",
        ]
    )


def run() -> str:
    _setup_django()
    from delivery.pdf import voucher_pdf_render, vouchers_pdf_render, warm_up

    single = _vouchers(1)
    batch = _vouchers(BATCH_SIZE)
    warm_up()
    voucher_pdf_render(single[0], locale="de")  # first render loads fonts and templates
    _reportlab(single)
    rows = []
    for label, weasy, report, runs, count in (
        (
            "1 voucher",
            lambda: voucher_pdf_render(single[0], locale="de"),
            lambda: _reportlab(single),
            SINGLE_RUNS,
            1,
        ),
        (
            f"{BATCH_SIZE}-voucher batch",
            lambda: vouchers_pdf_render(batch, locale="de"),
            lambda: _reportlab(batch),
            BATCH_RUNS,
            BATCH_SIZE,
        ),
    ):
        weasy_ms = _median_ms_per_voucher(weasy, runs, count)
        report_ms = _median_ms_per_voucher(report, runs, count)
        rows.append(f"| {label} | {runs} | {weasy_ms:.1f} | {report_ms:.2f} | {weasy_ms / report_ms:.2f}× |")
    return "\n".join(
        [
            "## Voucher PDF rendering",
            "",
            "Median milliseconds per voucher (A5 landscape card: colour band, merchant name, value, recipient, "
            "message, QR code, Code 128 barcode, how to redeem, address, terms), warm process. ReportLab draws the "
            "same content with its canvas in the same run; the ratio is WeasyPrint ÷ ReportLab.",
            "",
            "| document | runs | WeasyPrint ms/voucher | ReportLab ms/voucher | ratio |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "",
            _payment_to_email(),
            "",
            "Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/voucher_h_d_bench "
            "REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m bench pdf`.",
        ]
    )
