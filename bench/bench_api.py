"""Redemption API under load: ``GET /api/v1/vouchers/{code}`` and ``POST .../redeem`` against gunicorn on PostgreSQL.

The benchmark re-creates its own database (``BENCH_API_DATABASE_URL``, default ``voucher_bench_r``; the name must
contain ``bench``), migrates it, seeds one merchant with 2 000 vouchers and one hot voucher, and starts gunicorn
(``config.settings.production``, a generated SECRET_KEY, loopback only) on a random port. A small threaded HTTP
client with keep-alive connections then runs, each phase bounded in time and count:

1. validations, closed loop: as many GETs as the client threads can send, spread over the vouchers;
2. redeems offered at 200 requests/s (each request has a due time; a pool of client threads sends them),
   four in five spread over the vouchers and one in five on the hot voucher;
3. redeems offered at 200 requests/s, all on the hot voucher (every request waits for the same row lock);
4. redeems offered at 50 requests/s, to read the latency of a server that keeps up.

Latency is measured from each request's send to its complete answer, on the same machine as the server.
"""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/voucher_bench_r"
VOUCHERS = 2_000
VOUCHER_VALUE = 10_000_000
HOT_SHARE = 5  # one request in five goes to the hot voucher in the mixed phase
VALIDATE_THREADS = 16
VALIDATE_SECONDS = 10.0
VALIDATE_MAX = 30_000
REDEEM_RATE = 200
REDEEM_SECONDS = 10.0
REDEEM_THREADS = 48
LOW_RATE = 50  # a rate this machine sustains, to read the latency of an unsaturated server
WORKERS = 4
THREADS_PER_WORKER = 4

SEED = """
import json, os
import django
django.setup()
from redemption.services import api_token_create
from shop.models import Location, Merchant
from vouchers.services import voucher_issue
merchant = Merchant.objects.create(slug="bench", name="Bench", currency="EUR")
location = Location.objects.create(merchant=merchant, slug="till", name="Till")
_, token = api_token_create(merchant_id=merchant.pk, name="bench")
hot = voucher_issue(merchant_id=merchant.pk, value=10**12)
codes = [voucher_issue(merchant_id=merchant.pk, value=VALUE).code for _ in range(COUNT)]
print(json.dumps({"token": token, "hot": hot.code, "codes": codes}))
""".replace("VALUE", str(VOUCHER_VALUE)).replace("COUNT", str(VOUCHERS))


def _database_url() -> str:
    url = os.environ.get("BENCH_API_DATABASE_URL", DEFAULT_URL)
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"bench api: the database {name!r} is dropped and re-created; use a name with 'bench'.")
    return url


def _recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=url,
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE="600",
        REDIS_URL=os.environ.get("BENCH_API_REDIS_URL", "redis://127.0.0.1:6379/14"),
    )
    return env


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, reopened after a failure."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None) -> int:
        try:
            self.conn.request(method, path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _validate_phase(port: int, token: str, codes: list[str]) -> tuple[Tally, float]:
    tally = Tally()
    stop_at = time.perf_counter() + VALIDATE_SECONDS
    counter = iter(range(VALIDATE_MAX))
    counter_lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = Connection(port, token)
        while time.perf_counter() < stop_at:
            with counter_lock:
                index = next(counter, None)
            if index is None:
                return
            code = codes[(index * 7919 + offset) % len(codes)]
            started = time.perf_counter()
            status = conn.request("GET", f"/api/v1/vouchers/{code}")
            tally.add(time.perf_counter() - started, status)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(VALIDATE_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - started


def _redeem_phase(
    port: int, token: str, codes: list[str], hot: str, *, hot_only: bool, rate: int = REDEEM_RATE
) -> tuple[Tally, float, float]:
    """Open loop at ``rate``: request i is due at start + i / rate. Returns the tally, the elapsed time and
    the worst lateness of a send behind its due time (how far the client itself fell behind)."""
    tally = Tally()
    total = int(rate * REDEEM_SECONDS)
    counter = iter(range(total))
    counter_lock = threading.Lock()
    start = time.perf_counter() + 0.2
    lateness = [0.0]

    def worker() -> None:
        conn = Connection(port, token)
        while True:
            with counter_lock:
                index = next(counter, None)
            if index is None:
                return
            due = start + index / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            else:
                lateness[0] = max(lateness[0], -wait)
            code = hot if hot_only or index % HOT_SHARE == 0 else codes[index % len(codes)]
            body = json.dumps({"amount": 1, "reference": f"bench-{index}"}).encode()
            sent = time.perf_counter()
            status = conn.request("POST", f"/api/v1/vouchers/{code}/redeem", body)
            tally.add(time.perf_counter() - sent, status)

    threads = [threading.Thread(target=worker) for _ in range(REDEEM_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - start, lateness[0]


def _row(name: str, tally: Tally, elapsed: float, target: str, extra: str = "") -> str:
    count = len(tally.latencies)
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    p50 = _percentile(tally.latencies, 0.50) * 1000 if count else float("nan")
    p99 = _percentile(tally.latencies, 0.99) * 1000 if count else float("nan")
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    return f"| {name} | {count} | {ok / elapsed:,.0f} | {p50:.1f} | {p99:.1f} | {target} | {statuses}{extra} |"


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("bench api: gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("bench api: gunicorn did not answer within 30 s")


def run() -> str:
    url = _database_url()
    _recreate_database(url)
    env = _server_env(url)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run([PYTHON, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    data = json.loads(seeded.strip().splitlines()[-1])
    token, hot, codes = data["token"], data["hot"], data["codes"]

    port = _free_port()
    gunicorn = str(Path(PYTHON).with_name("gunicorn"))
    server = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS_PER_WORKER),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port, server)
        _validate_phase(port, token, codes[:50])  # warm-up: connections, imports, caches
        validate, validate_elapsed = _validate_phase(port, token, codes)
        mixed, mixed_elapsed, mixed_late = _redeem_phase(port, token, codes, hot, hot_only=False)
        hot_tally, hot_elapsed, hot_late = _redeem_phase(port, token, codes, hot, hot_only=True)
        low, low_elapsed, low_late = _redeem_phase(port, token, codes, hot, hot_only=False, rate=LOW_RATE)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()

    p99_mixed = _percentile(mixed.latencies, 0.99) * 1000
    p99_hot = _percentile(hot_tally.latencies, 0.99) * 1000
    validations = sum(n for s, n in validate.statuses.items() if s == 200) / validate_elapsed
    lines = [
        "## Redemption API (gunicorn, PostgreSQL)",
        "",
        f"gunicorn {WORKERS} workers × {THREADS_PER_WORKER} threads (gthread), `config.settings.production`, "
        f"PostgreSQL and Redis (cache, throttle counters) on loopback; {VOUCHERS:,} vouchers plus one hot voucher. "
        "Client: Python threads with keep-alive connections on the same machine (it competes with the server for "
        f"CPU). Redeem phases give each request a due time at the offered rate and send it from one of "
        f"{REDEEM_THREADS} threads; when the server is slower than the offered rate all threads wait on answers, the "
        "client falls behind (the 'late' figure) and the successful req/s is what the server sustained.",
        "",
        "| phase | requests | successful req/s | p50 ms | p99 ms | target | statuses |",
        "|---|---|---|---|---|---|---|",
        _row(
            f"GET /vouchers/{{code}}, closed loop, {VALIDATE_THREADS} threads",
            validate,
            validate_elapsed,
            ">= 1 000 req/s",
        ),
        _row(
            f"POST .../redeem at {REDEEM_RATE}/s, 1 in {HOT_SHARE} on the hot voucher",
            mixed,
            mixed_elapsed,
            "p99 < 50 ms",
            f"; client up to {mixed_late * 1000:.0f} ms late",
        ),
        _row(
            f"POST .../redeem at {REDEEM_RATE}/s, all on the hot voucher",
            hot_tally,
            hot_elapsed,
            "p99 < 50 ms",
            f"; client up to {hot_late * 1000:.0f} ms late",
        ),
        _row(
            f"POST .../redeem at {LOW_RATE}/s, 1 in {HOT_SHARE} on the hot voucher",
            low,
            low_elapsed,
            "(reference)",
            f"; client up to {low_late * 1000:.0f} ms late",
        ),
        "",
        f"Validations: {validations:,.0f}/s ({'meets' if validations >= 1000 else 'misses'} the 1 000/s target). "
        f"Redeem p99: {p99_mixed:.1f} ms mixed, {p99_hot:.1f} ms hot "
        f"({'meets' if max(p99_mixed, p99_hot) < 50 else 'misses'} the 50 ms target at {REDEEM_RATE}/s).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
