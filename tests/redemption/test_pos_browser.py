"""The POS page in headless Chromium: the demo cashier redeems part of a voucher and reverses it."""

import re
from pathlib import Path

import pytest
import segno
from django.core.management import call_command

from delivery.services import voucher_url
from shop.models import Merchant
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from vouchers.services import voucher_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_cashier_redeems_part_and_reverses(page, live_server):
    call_command("seed_demo", verbosity=0)
    merchant = Merchant.objects.get(slug="demo")
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000)

    page.goto(f"{live_server.url}/pos/")
    page.locator("#id_username").fill("cashier@demo.example")
    page.locator("#id_password").fill("demo-cashier-pass")
    page.locator("#id_password").press("Enter")

    # A keyboard-wedge scanner types the code and presses Enter.
    page.locator("#code").fill(voucher.display_code.lower())
    page.locator("#code").press("Enter")
    page.locator("#voucher-ok").wait_for()
    assert "50.00" in page.locator("#amount").input_value()

    page.locator("#amount").fill("12.50")
    page.locator("#redeem-button").dblclick()
    page.locator("#receipt").wait_for()
    assert re.search(r"37[.,]50", page.locator("#receipt-balance").inner_text())
    redemption_id = page.locator("#receipt-id").inner_text().strip()
    voucher.refresh_from_db()
    assert voucher.balance == 3750
    assert voucher.redemptions.count() == 1

    page.locator(f'a[href="/pos/reverse/{redemption_id}/"]').click()
    page.locator("#confirm-reverse").click()
    page.locator("#receipt").wait_for()
    assert re.search(r"50[.,]00", page.locator("#receipt-balance").inner_text())
    voucher.refresh_from_db()
    assert voucher.balance == 5000


def _camera_video(path: Path, text: str, width: int = 640, height: int = 480) -> Path:
    """A Y4M video of a QR code holding ``text``, for Chromium's fake camera: the phone held up to the till."""
    matrix = segno.make(text, error="m").matrix
    module = min(width, height) * 3 // 4 // (len(matrix) + 8)
    size = len(matrix) * module
    left, top = (width - size) // 2, (height - size) // 2
    luma = bytearray(b"\xff" * (width * height))
    for row, bits in enumerate(matrix):
        for column, dark in enumerate(bits):
            if dark:
                for y in range(top + row * module, top + (row + 1) * module):
                    start = y * width + left + column * module
                    luma[start : start + module] = b"\x00" * module
    chroma = b"\x80" * (width * height // 2)  # 4:2:0, both planes grey
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + bytes(luma) + chroma)
    return path


def test_camera_scan_of_the_voucher_qr_code_finds_it(playwright, live_server, tmp_path):
    call_command("seed_demo", verbosity=0)
    merchant = Merchant.objects.get(slug="demo")
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000)
    camera = _camera_video(tmp_path / "camera.y4m", voucher_url(voucher.public_token))

    # Chromium's fake camera plays the video; headless Chromium on Linux has no BarcodeDetector, so the page
    # loads its fallback library.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ],
    )
    try:
        page = browser.new_page()
        page.goto(f"{live_server.url}/pos/")
        page.locator("#id_username").fill("cashier@demo.example")
        page.locator("#id_password").fill("demo-cashier-pass")
        page.locator("#id_password").press("Enter")

        has_native_detector = page.evaluate("'BarcodeDetector' in window")
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        page.locator("#scan-button").click()
        page.locator("#voucher-ok").wait_for(timeout=20_000)
        assert "50.00" in page.locator("#amount").input_value()
        assert page.locator("#code").input_value() == voucher.display_code
        assert has_native_detector or any("/vendor/jsQR" in url for url in fetched), fetched
    finally:
        browser.close()
