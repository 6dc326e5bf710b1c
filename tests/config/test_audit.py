"""`python -m config.audit`: pip-audit over the lock file against a local stand-in for the OSV service. A known
vulnerability fails; an audit that could not run says NOTHING WAS AUDITED and fails only when required."""

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCK_FILE = PROJECT_DIR / "requirements.lock"


def locked_version(package: str) -> str:
    for line in LOCK_FILE.read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].split()[0]
    raise AssertionError(f"{package} is not in requirements.lock")


class FakeOsv(BaseHTTPRequestHandler):
    """Answers OSV's ``POST /v1/query`` from ``server.vulnerable`` ({(name, version): [vuln, ...]})."""

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.queries.append(query)  # type: ignore[attr-defined]
        if self.server.status != 200:  # type: ignore[attr-defined]
            self.send_response(self.server.status)  # type: ignore[attr-defined]
            self.end_headers()
            return
        key = (query["package"]["name"], query["version"])
        vulns = self.server.vulnerable.get(key, [])  # type: ignore[attr-defined]
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def osv() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    server.queries = []  # type: ignore[attr-defined]
    server.vulnerable = {}  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def osv_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1/query"


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "config.audit", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_known_vulnerability_in_the_lock_file_fails(osv):
    version = locked_version("django")
    osv.vulnerable[("django", version)] = [
        {
            "id": "PYSEC-2099-1",
            "aliases": ["CVE-2099-0001"],
            "summary": "SQL injection in a made-up lookup",
            "affected": [
                {
                    "package": {"name": "django", "ecosystem": "PyPI"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0.1"}]}],
                }
            ],
        }
    ]
    result = audit("--osv-url", osv_url(osv))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"VULNERABLE django {version}: PYSEC-2099-1, CVE-2099-0001 (fixed in 99.0.1)" in result.stdout
    assert "NOTHING WAS AUDITED" not in result.stdout
    # The locked packages were asked about, at their locked versions (those whose markers apply here).
    for package in ("django", "stripe", "celery", "weasyprint"):
        assert {"package": {"name": package, "ecosystem": "PyPI"}, "version": locked_version(package)} in osv.queries
    assert len(osv.queries) > 150
    # Even when the audit is not required, a finding fails.
    assert audit("--osv-url", osv_url(osv), "--require-audit").returncode == 1


def test_a_clean_lock_file_passes_and_says_how_much_was_audited(osv):
    result = audit("--osv-url", osv_url(osv), "--require-audit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"No known vulnerabilities in {len(osv.queries)} packages of requirements.lock" in result.stdout
    assert "NOTHING WAS AUDITED" not in result.stdout


def test_a_failing_service_is_reported_as_nothing_audited(osv):
    osv.status = 503
    result = audit("--osv-url", osv_url(osv))
    assert result.returncode == 0
    assert "NOTHING WAS AUDITED: " in result.stdout
    assert "503" in result.stdout
    assert "No known vulnerabilities" not in result.stdout
    assert audit("--osv-url", osv_url(osv), "--require-audit").returncode == 2


def test_an_unreachable_service_is_reported_as_nothing_audited():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1/query"
    result = audit("--osv-url", closed, "--timeout", "5")
    assert result.returncode == 0
    assert "NOTHING WAS AUDITED: " in result.stdout
    assert "Connection" in result.stdout
    required = audit("--osv-url", closed, "--timeout", "5", "--require-audit")
    assert required.returncode == 2
    assert "NOTHING WAS AUDITED: " in required.stdout
