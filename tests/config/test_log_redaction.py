"""Voucher codes, page tokens and URL passwords never reach a log line: real records through the configured
logging (Django's loggers, runserver's request lines, Celery's, the project's own, exception text) and a real
gunicorn process's access and error logs."""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.log_redaction import redact

PROJECT_DIR = Path(__file__).resolve().parents[2]
TOKEN = "Zq3xW9vK1mN7pL2rT5yU8bC4dF6gH0jS"  # as secrets.token_urlsafe(24) makes them
ORDER_TOKEN = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P-"
CODE = "7K3M-Q9XR-2B6T-H4WZ"
CANONICAL = "7K3MQ9XR2B6TH4WZ"
NUMERIC = "4921 0834 7712 5590 3318"
SECRETS = (TOKEN, ORDER_TOKEN, CODE, CANONICAL, CODE.lower(), NUMERIC, "s3cr3t-pw")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'"GET /v/{TOKEN}/ HTTP/1.1" 200', '"GET /v/[redacted]/ HTTP/1.1" 200'),
        (f"Not Found: /v/{TOKEN}/pdf", "Not Found: /v/[redacted]/pdf"),
        (f"https://shop.example.com/o/{ORDER_TOKEN}/", "https://shop.example.com/o/[redacted]/"),
        (f"POST /payments/checkout/{ORDER_TOKEN}/", "POST /payments/checkout/[redacted]/"),
        (f"POST /api/v1/vouchers/{CODE}/redeem", "POST /api/v1/vouchers/[redacted]/redeem"),
        (f"GET /api/v1/vouchers/{CODE.lower()}", "GET /api/v1/vouchers/[redacted]"),
        (f"GET /api/v1/vouchers/typo-{CANONICAL[:5]}/holds", "GET /api/v1/vouchers/[redacted]/holds"),
        (f"GET /pos/?code={CANONICAL}&x=1", "GET /pos/?code=[redacted]&x=1"),
        (f"GET /admin/vouchers/voucher/?q={CODE.lower()}", "GET /admin/vouchers/voucher/?q=[redacted]"),
        # Percent-encoded, as in the login page's next= parameter.
        (f"/pos/login/?next=/pos/%3Fcode%3D{CANONICAL}", "/pos/login/?next=/pos/%3Fcode%3D[redacted]"),
        (f"/admin/login/?next=%2Fv%2F{TOKEN}%2Fpdf", "/admin/login/?next=%2Fv%2F[redacted]%2Fpdf"),
        ("GET /api/v1/vouchers/7k3m%20q9xr%202b6t%20h4wz/redeem", "GET /api/v1/vouchers/[redacted]/redeem"),
        (f"voucher {CODE} redeemed", "voucher [redacted] redeemed"),
        (f"voucher {CANONICAL} issued", "voucher [redacted] issued"),
        (f"numeric {NUMERIC} and 49210834771255903318", "numeric [redacted] and [redacted]"),
        ("smtp://mailer:s3cr3t-pw@mail.example.com:587 refused", "smtp://mailer:***@mail.example.com:587 refused"),
        # What is not a secret stays readable.
        ("GET /s/demo/ HTTP/1.1", "GET /s/demo/ HTTP/1.1"),
        ("POST /api/v1/holds/123/capture", "POST /api/v1/holds/123/capture"),
        ("task 550e8400-e29b-41d4-a716-446655440000 done", "task 550e8400-e29b-41d4-a716-446655440000 done"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("delivery 42 attempt 3 failed", "delivery 42 attempt 3 failed"),
    ],
)
def test_redact(line, expected):
    assert redact(line) == expected


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the project's configured handlers write (their stream pointed at a buffer for the test)."""
    buffer = io.StringIO()
    handlers = [*logging.getLogger().handlers, *logging.getLogger("django.server").handlers]
    ours = [handler for handler in handlers if isinstance(handler, logging.StreamHandler) and handler.filters]
    assert len(ours) == 2  # the root's console handler and runserver's
    previous = [handler.setStream(buffer) for handler in ours]
    yield buffer
    for handler, stream in zip(ours, previous, strict=True):
        handler.setStream(stream)


@pytest.mark.django_db
def test_a_not_found_page_is_logged_without_its_token(client, log_output):
    assert client.get(f"/v/{TOKEN}/").status_code == 404
    assert client.get(f"/o/{ORDER_TOKEN}/").status_code == 404
    output = log_output.getvalue()
    assert "Not Found: /v/[redacted]/" in output
    assert "Not Found: /o/[redacted]/" in output
    assert_no_secret(output)


@pytest.mark.parametrize(
    "logger_name", ["django.request", "celery.app.trace", "celery.task", "shop.services", "redemption.apis", "gunicorn"]
)
def test_every_logger_writes_through_the_redaction(log_output, logger_name):
    logging.getLogger(logger_name).warning("redeem of %s at %s failed", CODE, f"/api/v1/vouchers/{CANONICAL}/redeem")
    output = log_output.getvalue()
    assert f"{logger_name} redeem of [redacted] at /api/v1/vouchers/[redacted]/redeem failed" in output
    assert_no_secret(output)


def test_runserver_request_lines_are_redacted(log_output):
    # What django.core.servers.basehttp.WSGIRequestHandler.log_message sends for a 404.
    logging.getLogger("django.server").warning(
        '"%s" %s %s', f"GET /v/{TOKEN}/pdf?code={CODE} HTTP/1.1", "404", "179", extra={"status_code": 404}
    )
    output = log_output.getvalue()
    assert '"GET /v/[redacted]/pdf?code=[redacted] HTTP/1.1" 404 179' in output
    assert_no_secret(output)


def test_exception_text_and_stack_are_redacted(log_output):
    def fail() -> None:
        raise ValueError(f"no voucher {CODE} behind https://shop.example.com/v/{TOKEN}/")

    try:
        fail()
    except ValueError:
        logging.getLogger("delivery.services").exception("rendering the PDF of %s failed", CANONICAL)
    logging.getLogger("vouchers.services").warning("looked up %s", NUMERIC, stack_info=True)
    output = log_output.getvalue()
    assert "rendering the PDF of [redacted] failed" in output
    assert "Traceback (most recent call last)" in output
    assert "ValueError: no voucher [redacted] behind https://shop.example.com/v/[redacted]/" in output
    assert "looked up [redacted]" in output
    assert "Stack (most recent call last)" in output
    assert_no_secret(output)


def _environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_", "LOG_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", LOG_LEVEL="INFO", **extra)
    return env


def test_celery_worker_logging_keeps_the_redaction():
    # The worker's logging set-up (app.log.setup, as `celery worker` runs it) must not add handlers of its own
    # that bypass the project's: task loggers especially.
    code = (
        "import django; from config.celery import app; django.setup(); app.log.setup(loglevel='INFO'); "
        "from celery.utils.log import get_task_logger; import logging; "
        f"get_task_logger('delivery.tasks').warning('sending %s', 'https://shop.example.com/v/{TOKEN}/'); "
        f"logging.getLogger('celery.app.trace').error('Task redemption.x raised: %s', 'unknown code {CODE}'); "
        f"print('code {CODE}', flush=True)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "delivery.tasks sending https://shop.example.com/v/[redacted]/" in result.stderr
    assert "Task redemption.x raised: unknown code [redacted]" in result.stderr
    assert_no_secret(result.stderr)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(base: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing serves {base}")


def _get(url: str) -> int:
    request = urllib.request.Request(
        url, headers={"Referer": f"https://shop.example.com/v/{TOKEN}/", "User-Agent": "till"}
    )
    try:
        return int(urllib.request.urlopen(request, timeout=10).status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _wait_for_request_lines(log: Path, count: int) -> None:
    # A server writes the request line after the response went out: wait for it before stopping the server.
    for _ in range(100):
        if log.read_text().count('"GET /') >= count:
            return
        time.sleep(0.1)


def test_runserver_request_lines_of_a_real_server_are_redacted(tmp_path):
    port = _free_port()
    output = tmp_path / "runserver.log"
    env = _environment(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]
    with output.open("w") as log:
        server = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(f"http://127.0.0.1:{port}")
            statuses = [_get(f"http://127.0.0.1:{port}{path}") for path in (f"/v/{TOKEN}/", f"/o/{ORDER_TOKEN}/")]
            _wait_for_request_lines(output, 3)  # /healthz and the two pages
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = output.read_text()
    assert statuses == [500, 500]  # the empty database: the pages fail, and their tracebacks are logged too
    assert '"GET /v/[redacted]/ HTTP/1.1" 500' in text
    assert '"GET /o/[redacted]/ HTTP/1.1" 500' in text
    assert "Internal Server Error: /v/[redacted]/" in text
    assert_no_secret(text)


def test_the_image_runs_gunicorn_with_these_settings():
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text()
    [command] = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    assert json.loads(command[len("CMD ") :])[:3] == ["gunicorn", "--config", "python:config.gunicorn_settings"]


def test_gunicorn_access_and_error_logs_are_redacted(tmp_path):
    port = _free_port()
    access, errors = tmp_path / "stdout.log", tmp_path / "stderr.log"
    # An empty database: pages that read vouchers fail with a 500, whose traceback goes to the error output too.
    env = _environment(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}", WEB_CONCURRENCY="1")
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        "python:config.gunicorn_settings",
        "--bind",
        f"127.0.0.1:{port}",
        "config.wsgi:application",
    ]
    with access.open("w") as out, errors.open("w") as err:
        server = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=err)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_serving(base)
            paths = [
                f"/v/{TOKEN}/",
                f"/o/{ORDER_TOKEN}/",
                f"/api/v1/vouchers/{CODE}/transactions",
                f"/pos/?code={CANONICAL}",
            ]
            statuses = [_get(base + path) for path in paths]
            _wait_for_request_lines(access, 1 + len(paths) + 1)  # /healthz, the pages, the POS login redirect
        finally:
            server.terminate()
            server.wait(timeout=30)
    access_log, error_log = access.read_text(), errors.read_text()
    assert len(statuses) == 4
    assert '"GET /v/[redacted]/ HTTP/1.1" 500' in access_log
    assert '"GET /o/[redacted]/ HTTP/1.1"' in access_log
    assert '"GET /api/v1/vouchers/[redacted]/transactions HTTP/1.1"' in access_log
    assert '"GET /pos/?code=[redacted] HTTP/1.1"' in access_log
    assert '"https://shop.example.com/v/[redacted]/" "till"' in access_log
    assert "Internal Server Error: /v/[redacted]/" in error_log
    assert_no_secret(access_log)
    assert_no_secret(error_log)
