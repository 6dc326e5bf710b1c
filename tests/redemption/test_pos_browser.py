"""The POS page in headless Chromium: the demo cashier redeems part of a voucher and reverses it."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import segno
from django.core.management import call_command
from playwright.sync_api import Page

from delivery.services import voucher_url
from merchants.models import Merchant
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from vouchers.models import Voucher
from vouchers.services import voucher_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_cashier_redeems_part_and_reverses(page, live_server):
    call_command("seed_demo", verbosity=0)
    merchant = Merchant.objects.get(slug="demo")
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000)

    page.goto(f"{live_server.url}/pos/")
    page.locator("#id_username").fill("cashier@demo.example")
    page.locator("#id_password").fill("demo-counter-pass")
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


@contextmanager
def _pos_with_a_camera_showing(playwright, live_server, tmp_path, text: str, page_script: str = "") -> Iterator[Page]:
    """The POS page, logged in as the demo cashier, in a Chromium whose fake camera shows a QR code of ``text``.
    ``page_script`` runs before the page's own scripts (to stand in for a browser's barcode detector)."""
    camera = _camera_video(tmp_path / "camera.y4m", text)
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
        if page_script:
            page.add_init_script(page_script)
        page.goto(f"{live_server.url}/pos/")
        page.locator("#id_username").fill("cashier@demo.example")
        page.locator("#id_password").fill("demo-counter-pass")
        page.locator("#id_password").press("Enter")
        # The POS page fully loaded (styles included), so that a click lands where the button settled.
        page.wait_for_url(f"{live_server.url}/pos/")
        page.wait_for_load_state("load")
        page.locator("#scan-button").wait_for()
        yield page
    finally:
        browser.close()


def _demo_voucher() -> Voucher:
    call_command("seed_demo", verbosity=0)
    return voucher_issue(merchant_id=Merchant.objects.get(slug="demo").pk, value=5000)


# Browsers that announce a barcode detector which cannot help: the page must fall back to its library.
NO_QR_DETECTOR = "window.BarcodeDetector = class { static async getSupportedFormats() { return []; } };"
REFUSING_DETECTOR = """window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  detect() { return Promise.reject(new DOMException("Barcode detection service unavailable.", "NotSupportedError")); }
};"""
BROKEN_DETECTOR = """window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  constructor() { throw new TypeError("no formats"); }
};"""


@pytest.mark.parametrize(
    "page_script",
    ["", NO_QR_DETECTOR, REFUSING_DETECTOR, BROKEN_DETECTOR],
    ids=["no-detector", "detector-without-qr", "detector-that-refuses", "detector-that-throws"],
)
def test_camera_scan_of_the_voucher_qr_code_finds_it(playwright, live_server, tmp_path, page_script):
    voucher = _demo_voucher()
    # Headless Chromium on Linux has no BarcodeDetector of its own: every case here ends with the library.
    with _pos_with_a_camera_showing(
        playwright, live_server, tmp_path, voucher_url(voucher.public_token), page_script
    ) as page:
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        page.locator("#scan-button").click()
        page.locator("#voucher-ok").wait_for(timeout=20_000)
        assert "50.00" in page.locator("#amount").input_value()
        assert page.locator("#code").input_value() == voucher.display_code
        assert any("/vendor/jsQR" in url for url in fetched), fetched


def test_a_failing_scanner_says_so_and_turns_the_camera_off(playwright, live_server, tmp_path):
    voucher = _demo_voucher()
    failing_library = """Object.defineProperty(window, "jsQR", {
      configurable: true, get() { return function () { throw new RangeError("boom"); }; }, set(value) {}
    });"""
    with _pos_with_a_camera_showing(
        playwright, live_server, tmp_path, voucher_url(voucher.public_token), failing_library
    ) as page:
        page.locator("#scan-button").click()
        status = page.locator("#scan-status")
        status.filter(has_text="could not be started").wait_for(timeout=20_000)
        assert page.locator("#scan-video").is_hidden()
        tracks = page.evaluate("document.getElementById('scan-video').srcObject.getTracks().map(t => t.readyState)")
        assert tracks == ["ended"]
        # The button still works: a second try fails the same way instead of hanging on "Starting".
        page.locator("#scan-button").click()
        status.filter(has_text="could not be started").wait_for(timeout=20_000)
        assert page.locator("#voucher-ok").count() == 0
