"""Redemption API under load: ``GET /api/v1/vouchers/{code}`` and ``POST .../redeem`` against gunicorn on PostgreSQL.

The benchmark re-creates its own database (``BENCH_API_DATABASE_URL``, default ``voucher_bench_r``; the name must
contain ``bench``), migrates it, seeds one merchant with 2 000 vouchers and one hot voucher, runs ``ANALYZE``, and
for each gunicorn configuration (sync workers, 2 × cores + 1; gthread, cores + 1 workers × 4 threads;
``config.settings.production``, a generated SECRET_KEY, persistent database connections, loopback only, random
port) runs, each phase bounded in time and count:

1. validations, closed loop with ``wrk`` (a C load generator, one thread; a Lua script sets the token and spreads
   the codes): three runs, the median counts;
2. redeems, closed loop with ``wrk`` on a few connections, a unique Idempotency-Key per request, four in five
   spread over the vouchers and one in five on the hot voucher: the rate the server sustains;
3. redeems offered at 200 requests/s, open loop: every request has a due time and one light Python client process
   (threads, keep-alive) sends it; latency counts from the due time, so a server that falls behind shows it; three
   runs, the one with the median p99 counts (one stall of the shared machine, a checkpoint's writes or another
   job, moves the p99 of a single run of 2 000 requests);
4. the same at 200 requests/s, all on the hot voucher (every request waits for the same row lock), also three runs;
5. for the first configuration only, the mixed redeems of phase 3 offered at 50, 100 and 150 requests/s: the rate up
   to which the latency target holds on the machine at hand.

``wrk`` is installed with apt-get when it is missing and that is possible; otherwise phases 1 and 2 use the Python
client, and the output says so.

Every phase also reports the server's CPU time per successful request, split into gunicorn (the master the benchmark
starts and its workers), PostgreSQL (every ``postgres`` process: backends and background writers) and Redis
(``redis-server``). The figures are user + system time from ``/proc/<pid>/stat`` (utime + stime, in clock ticks),
read just before and just after the phase; a process that starts during the phase counts in full, one that exits
during it is missed. The throughput of a shared, noisy machine depends on what else runs; the CPU a request costs
depends far less on it, so this column is the steadier one for comparing code. PostgreSQL and Redis are counted
machine-wide: nothing else may use them during the run.

A baseline comparison is optional::

    BENCH_API_BASELINE=<rev> .venv/bin/python -m bench api
    BENCH_API_BASELINE=<rev> make bench BENCH_ARGS=api

checks out ``<rev>`` (a commit id, tag or branch) into a temporary detached ``git worktree`` and, after the phases
above, runs three rounds of [that tree, then the working tree]: each a fresh gunicorn (sync configuration) started
in that tree with the same venv, environment, database and Redis, 2 s of warm-up, then the closed-loop validations
and the closed-loop redeems with ``wrk`` for 5 s each. Interleaving the rounds spreads the machine's drift (other
load, the growing ledger) over both trees instead of charging it to whichever ran last. Both trees use the database
that the working tree migrated, so the comparison refuses to run when the migrations of ``<rev>`` differ from the
working tree's. The worktree is removed afterwards, also when the run fails.
"""

import contextlib
import functools
import http.client
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from string import Template
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/voucher_bench_r"
VOUCHERS = 2_000
VOUCHER_VALUE = 10_000_000
HOT_SHARE = 5  # one request in five goes to the hot voucher in the mixed phases
CORES = os.cpu_count() or 1
VALIDATE_CONNECTIONS = 16
VALIDATE_SECONDS = 5
VALIDATE_RUNS = 3
VALIDATE_MAX = 30_000  # per run of the Python fallback
REDEEM_CONNECTIONS = 8
REDEEM_CLOSED_SECONDS = 5
REDEEM_RATE = 200
# Lower offered rates for the first configuration, mixed as above: where the latency target holds on this machine.
REDEEM_SWEEP_RATES = (50, 100, 150)
REDEEM_SECONDS = 10.0
REDEEM_RUNS = 3  # of each phase at the target rate
REDEEM_THREADS = 48
WRK_TIMEOUT = 60  # seconds beyond a wrk run's own duration before it is killed
BASELINE_ROUNDS = 3
BASELINE_SECONDS = 5  # per phase and round
TICKS = os.sysconf("SC_CLK_TCK")  # the unit of utime and stime in /proc/<pid>/stat
MIGRATIONS = "*/migrations/*"
# name, gunicorn arguments
CONFIGS: list[tuple[str, list[str]]] = [
    (f"sync, {2 * CORES + 1} workers", ["--worker-class", "sync", "--workers", str(2 * CORES + 1)]),
    (
        f"gthread, {CORES + 1} workers × 4 threads",
        ["--worker-class", "gthread", "--workers", str(CORES + 1), "--threads", "4"],
    ),
]

SEED = """
import json, os
import django
django.setup()
from redemption.services import api_token_create
from merchants.models import Location, Merchant
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


def _analyze(url: str) -> None:
    """Planner statistics for the freshly seeded tables, as autovacuum gives a live database (where it is off, as
    on some test machines, the planner would guess and, for example, scan a merchant's vouchers for a code)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


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
        BASE_URL="https://127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DEMO_PAYMENTS="true",
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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1


class ServerCpu(NamedTuple):
    """CPU seconds (user + system) the server's process groups used during one phase."""

    gunicorn: float
    postgres: float
    redis: float


@dataclass
class Result:
    """One phase: requests, successful requests per second, latency percentiles in ms, and what answered."""

    requests: int
    ok: int  # successful requests
    ok_rate: float
    p50: float
    p99: float
    statuses: str
    client_cpu: float  # seconds of CPU the load generator used, per second of the run
    note: str = ""
    server_cpu: ServerCpu | None = None

    def cpu_ms(self) -> tuple[float, ...] | None:
        """Server CPU milliseconds per successful request: gunicorn, PostgreSQL, Redis."""
        if self.server_cpu is None or not self.ok:
            return None
        return tuple(seconds * 1000 / self.ok for seconds in self.server_cpu)


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, reopened after a failure or a close."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, key: str | None = None) -> int:
        headers = dict(self.headers, **({"Idempotency-Key": key} if key else {}))
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def _result(tally: Tally, elapsed: float, cpu: float, note: str = "") -> Result:
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    return Result(
        requests=len(tally.latencies),
        ok=ok,
        ok_rate=ok / elapsed,
        p50=_percentile(tally.latencies, 0.50) * 1000,
        p99=_percentile(tally.latencies, 0.99) * 1000,
        statuses=", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items())),
        client_cpu=cpu / elapsed,
        note=note,
    )


# ---- wrk ----------------------------------------------------------------------------------------------------

WRK_COMMON = """
wrk.headers["Authorization"] = "Bearer $token"
local codes = $codes
local hot = "$hot"
local run = "$run"
local i = 0
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %d %d %d %d %d %d %.1f %.1f\\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""
WRK_VALIDATE = """
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/vouchers/" .. codes[(i * 7919) % #codes + 1])
end
"""
WRK_REDEEM = """
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local code = hot
  if i % 5 ~= 0 then code = codes[(i * 7919) % #codes + 1] end
  -- wrk.format uses the headers it is given instead of wrk.headers: copy them, then add the key.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = run .. "-" .. i
  return wrk.format("POST", "/api/v1/vouchers/" .. code .. "/redeem", headers,
    '{"amount": 1, "currency": "EUR", "reference": "bench-' .. i .. '"}')
end
"""


def _wrk_available() -> tuple[str | None, str]:
    """The wrk binary, installing it with apt-get when missing and allowed; else None and why."""
    found = shutil.which("wrk")
    if found:
        return found, ""
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True, capture_output=True, timeout=300)
        found = shutil.which("wrk")
        if found:
            return found, ""
    return None, "wrk is not installed (apt-get install wrk); the Python client ran instead and shares the CPU"


def _lua_script(directory: Path, name: str, body: str, *, token: str, codes: list[str], hot: str) -> Path:
    listed = "{" + ",".join(f'"{code}"' for code in codes) + "}"
    common = Template(WRK_COMMON).substitute(token=token, codes=listed, hot=hot, run=secrets.token_hex(6))
    path = directory / f"{name}.lua"
    path.write_text(common + body)
    return path


def _wrk(binary: str, script: Path, port: int, connections: int, seconds: int) -> Result:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [binary, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=seconds + WRK_TIMEOUT,
        check=True,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(line for line in out.splitlines() if line.startswith("WRK "))
    requests, duration_us, bad, connect, read, write, timeouts, p50_us, p99_us = line.split()[1:]
    elapsed = int(duration_us) / 1e6
    failed = int(bad) + int(connect) + int(write) + int(timeouts)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    statuses = f"2xx: {int(requests) - int(bad)}" + (f", non-2xx: {bad}" if int(bad) else "")
    if int(connect) + int(read) + int(write) + int(timeouts):
        statuses += f", socket errors: connect {connect}, read {read}, write {write}, timeout {timeouts}"
    return Result(
        requests=int(requests),
        ok=int(requests) - failed,
        ok_rate=(int(requests) - failed) / elapsed,
        p50=float(p50_us) / 1000,
        p99=float(p99_us) / 1000,
        statuses=statuses,
        client_cpu=cpu / elapsed,
    )


# ---- the Python client --------------------------------------------------------------------------------------


def _validate_python(port: int, token: str, codes: list[str], seconds: float) -> Result:
    tally = Tally()
    stop_at = time.perf_counter() + seconds
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

    cpu = time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(VALIDATE_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _result(tally, time.perf_counter() - started, time.process_time() - cpu)


def _redeem_open_loop(
    port: int, token: str, codes: list[str], hot: str, *, hot_only: bool, rate: int = REDEEM_RATE
) -> Result:
    """Request i is due at start + i / rate; its latency counts from that due time (no coordinated omission)."""
    tally = Tally()
    total = int(rate * REDEEM_SECONDS)
    counter = iter(range(total))
    counter_lock = threading.Lock()
    start = time.perf_counter() + 0.2
    run = secrets.token_hex(6)
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
            body = json.dumps({"amount": 1, "currency": "EUR", "reference": f"bench-{index}"}).encode()
            status = conn.request("POST", f"/api/v1/vouchers/{code}/redeem", body, key=f"{run}-{index}")
            tally.add(time.perf_counter() - due, status)

    cpu = time.process_time()
    threads = [threading.Thread(target=worker) for _ in range(REDEEM_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    note = f"; sends up to {lateness[0] * 1000:.0f} ms behind schedule" if lateness[0] > 0.001 else ""
    return _result(tally, elapsed, time.process_time() - cpu, note)


# ---- server CPU ---------------------------------------------------------------------------------------------

GUNICORN, POSTGRES, REDIS = range(3)


def _cpu_snapshot(master: int) -> dict[int, tuple[int, int]]:
    """pid → (process group, utime + stime in clock ticks) for gunicorn (master and children), PostgreSQL, Redis.

    The times in /proc/<pid>/stat cover all threads of a process, so gthread workers and Redis's I/O threads count.
    """
    snapshot = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as file:
                stat = file.read()
        except OSError:  # exited since /proc was listed
            continue
        # The command name is in parentheses and may hold spaces or ')'; the fields after the last ')' are plain.
        head, _, tail = stat.rpartition(")")
        comm = head.partition("(")[2]
        fields = tail.split()  # fields[0] is field 3 of proc(5): ppid is 4, utime 14, stime 15
        pid, ppid = int(entry.name), int(fields[1])
        if master in (pid, ppid):
            group = GUNICORN
        elif comm in ("postgres", "postmaster"):
            group = POSTGRES
        elif comm == "redis-server":
            group = REDIS
        else:
            continue
        snapshot[pid] = (group, int(fields[11]) + int(fields[12]))
    return snapshot


def _cpu_used(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]) -> ServerCpu:
    used = [0, 0, 0]
    for pid, (group, ticks) in after.items():
        earlier = before.get(pid)
        # A process new since the first snapshot (a PostgreSQL backend for a new connection) counts in full.
        start = earlier[1] if earlier is not None and earlier[0] == group and earlier[1] <= ticks else 0
        used[group] += ticks - start
    return ServerCpu(*(ticks / TICKS for ticks in used))


def _measured(master: int, phase: Callable[[], Result]) -> Result:
    """Run one phase and attach the CPU the server's processes used meanwhile."""
    before = _cpu_snapshot(master)
    result = phase()
    return replace(result, server_cpu=_cpu_used(before, _cpu_snapshot(master)))


def _cpu_cell(result: Result) -> str:
    per_request = result.cpu_ms()
    return " / ".join(_ms(ms) for ms in per_request) if per_request else "–"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


# ---- one server configuration -------------------------------------------------------------------------------


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


@dataclass
class ConfigResults:
    name: str
    validate: Result
    validate_runs: list[float]
    closed: Result
    mixed: Result
    hot: Result
    sweep: list[tuple[int, Result]] = field(default_factory=list)
    mixed_p99s: list[float] = field(default_factory=list)
    hot_p99s: list[float] = field(default_factory=list)


@contextlib.contextmanager
def _gunicorn(args: list[str], *, env: dict[str, str], cwd: Path) -> Iterator[tuple[int, int]]:
    """A gunicorn serving the code in ``cwd`` (it puts its working directory first on the path): (port, pid)."""
    port = _free_port()
    gunicorn = str(Path(PYTHON).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{port}", *args, "--log-level", "warning"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port, server)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def _run_config(
    name: str,
    args: list[str],
    *,
    env: dict[str, str],
    data: dict[str, object],
    wrk: str | None,
    scripts: Path,
    sweep: tuple[int, ...] = (),
) -> ConfigResults:
    token, hot, codes = str(data["token"]), str(data["hot"]), list(data["codes"])  # type: ignore[call-overload]
    with _gunicorn(args, env=env, cwd=ROOT) as (port, pid):
        if wrk:
            validate_lua = _lua_script(scripts, "validate", WRK_VALIDATE, token=token, codes=codes, hot=hot)
            redeem_lua = _lua_script(scripts, "redeem", WRK_REDEEM, token=token, codes=codes, hot=hot)
            _wrk(wrk, validate_lua, port, VALIDATE_CONNECTIONS, 2)  # warm-up: connections, imports, caches
            runs = [
                _measured(pid, lambda: _wrk(wrk, validate_lua, port, VALIDATE_CONNECTIONS, VALIDATE_SECONDS))
                for _ in range(VALIDATE_RUNS)
            ]
            closed = _measured(pid, lambda: _wrk(wrk, redeem_lua, port, REDEEM_CONNECTIONS, REDEEM_CLOSED_SECONDS))
        else:
            _validate_python(port, token, codes[:50], 2)
            runs = [
                _measured(pid, lambda: _validate_python(port, token, codes, VALIDATE_SECONDS))
                for _ in range(VALIDATE_RUNS)
            ]
            closed = _measured(pid, lambda: _redeem_open_loop(port, token, codes, hot, hot_only=False))
        mixed_runs = [
            _measured(pid, lambda: _redeem_open_loop(port, token, codes, hot, hot_only=False))
            for _ in range(REDEEM_RUNS)
        ]
        hot_runs = [
            _measured(pid, lambda: _redeem_open_loop(port, token, codes, hot, hot_only=True))
            for _ in range(REDEEM_RUNS)
        ]
        swept = [
            (rate, _measured(pid, functools.partial(_sweep_phase, port, token, codes, hot, rate))) for rate in sweep
        ]
    median = sorted(runs, key=lambda result: result.ok_rate)[len(runs) // 2]
    return ConfigResults(
        name,
        median,
        [r.ok_rate for r in runs],
        closed,
        _median_p99(mixed_runs),
        _median_p99(hot_runs),
        swept,
        [r.p99 for r in mixed_runs],
        [r.p99 for r in hot_runs],
    )


def _median_p99(runs: list[Result]) -> Result:
    """The run whose p99 is the median (the middle one of three)."""
    return sorted(runs, key=lambda result: result.p99)[len(runs) // 2]


def _sweep_phase(port: int, token: str, codes: list[str], hot: str, rate: int) -> Result:
    return _redeem_open_loop(port, token, codes, hot, hot_only=False, rate=rate)


def _sweep_summary(config: ConfigResults) -> list[str]:
    within = [rate for rate, result in config.sweep if result.p99 < 50 and result.ok_rate >= rate * 0.95]
    if not config.sweep:
        return []
    if not within:
        return [f"With {config.name}, redeem p99 exceeds 50 ms at every rate tried ({REDEEM_SWEEP_RATES[0]}/s up)."]
    return [
        f"With {config.name}, redeem p99 stays under 50 ms up to {max(within)}/s offered here (rates tried: "
        f"{', '.join(f'{rate}/s' for rate in REDEEM_SWEEP_RATES)})."
    ]


# ---- comparison with a baseline revision --------------------------------------------------------------------

TREES = ("baseline", "current")
COMPARED = ("validate", "redeem")  # the phases of a baseline round


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def _baseline_commit() -> str | None:
    """The commit BENCH_API_BASELINE names, or None when it is unset; refuses a baseline whose schema differs."""
    revision = os.environ.get("BENCH_API_BASELINE", "").strip()
    if not revision:
        return None
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"bench api: BENCH_API_BASELINE={revision!r} is not a commit of this repository.") from None
    # Both trees serve from the database the working tree migrated: with other migrations the baseline would run
    # on a schema it was not written for, and its figures would mean nothing.
    diff = subprocess.run(["git", "diff", "--quiet", commit, "--", MIGRATIONS], cwd=ROOT, check=False)
    if diff.returncode not in (0, 1):
        raise SystemExit(f"bench api: git diff {revision} -- '{MIGRATIONS}' failed (exit status {diff.returncode}).")
    untracked = _git("ls-files", "--others", "--exclude-standard", "--", MIGRATIONS)
    if diff.returncode or untracked:
        raise SystemExit(
            f"bench api: the migrations of BENCH_API_BASELINE={revision} differ from the working tree's "
            f"(see git diff {revision} -- '{MIGRATIONS}'"
            + (f" and the untracked {', '.join(untracked.split())}" if untracked else "")
            + "); both trees would share one migrated database, so the baseline comparison does not run."
        )
    return commit


def _closed_round(wrk: str, port: int, pid: int, data: dict[str, object], scripts: Path) -> tuple[Result, Result]:
    """Closed-loop validations and redeems with wrk against one running server, after a short warm-up."""
    token, hot, codes = str(data["token"]), str(data["hot"]), list(data["codes"])  # type: ignore[call-overload]
    # New scripts for every server: each carries a fresh run id, and a repeated Idempotency-Key would be answered
    # from the stored response instead of redeeming again.
    validate_lua = _lua_script(scripts, "validate", WRK_VALIDATE, token=token, codes=codes, hot=hot)
    redeem_lua = _lua_script(scripts, "redeem", WRK_REDEEM, token=token, codes=codes, hot=hot)
    _wrk(wrk, validate_lua, port, VALIDATE_CONNECTIONS, 2)
    validate = _measured(pid, lambda: _wrk(wrk, validate_lua, port, VALIDATE_CONNECTIONS, BASELINE_SECONDS))
    redeem = _measured(pid, lambda: _wrk(wrk, redeem_lua, port, REDEEM_CONNECTIONS, BASELINE_SECONDS))
    return validate, redeem


def _compare(
    commit: str, *, env: dict[str, str], data: dict[str, object], wrk: str, scripts: Path
) -> dict[str, dict[str, list[Result]]]:
    """phase ("validate", "redeem") → tree ("baseline", "current") → one result per round."""
    _, args = CONFIGS[0]
    results: dict[str, dict[str, list[Result]]] = {phase: {tree: [] for tree in TREES} for phase in COMPARED}
    with tempfile.TemporaryDirectory(prefix="bench-api-baseline-") as directory:
        worktree = Path(directory) / "tree"
        try:
            try:
                _git("worktree", "add", "--detach", str(worktree), commit)
            except subprocess.CalledProcessError as error:
                raise SystemExit(f"bench api: git worktree add failed: {error.stderr.strip()}") from None
            for _ in range(BASELINE_ROUNDS):
                for tree, cwd in zip(TREES, (worktree, ROOT), strict=True):
                    with _gunicorn(args, env=env, cwd=cwd) as (port, pid):
                        validate, redeem = _closed_round(wrk, port, pid, data, scripts)
                    results["validate"][tree].append(validate)
                    results["redeem"][tree].append(redeem)
        finally:
            removed = subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=ROOT,
                check=False,
                capture_output=True,
                text=True,
            )
            if removed.returncode and worktree.exists():
                print(f"bench api: git worktree remove {worktree} failed: {removed.stderr.strip()}", file=sys.stderr)
    return results


def _median_cpu(results: list[Result]) -> str:
    totals = [sum(per_request) for result in results if (per_request := result.cpu_ms())]
    return _ms(statistics.median(totals)) if totals else "–"


def _comparison_lines(commit: str, results: dict[str, dict[str, list[Result]]]) -> list[str]:
    baseline = _git("log", "-1", "--format=%h %s", commit)
    short, _, subject = baseline.partition(" ")
    head = _git("log", "-1", "--format=%h", "HEAD")
    # The results file itself does not count: it is rewritten by every run.
    changed = (
        subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", ".", ":(exclude)docs/benchmarks.md"], cwd=ROOT, check=False
        ).returncode
        != 0
    )
    name, _ = CONFIGS[0]
    phases = {
        "validate": f"GET /vouchers/{{code}}, closed loop, {VALIDATE_CONNECTIONS} connections",
        "redeem": f"POST .../redeem, closed loop, {REDEEM_CONNECTIONS} connections, 1 in {HOT_SHARE} hot",
    }
    rows, failures = [], []
    for phase, label in phases.items():
        rates = {tree: statistics.median(r.ok_rate for r in results[phase][tree]) for tree in TREES}
        ratio = f"{rates['current'] / rates['baseline']:.2f}" if rates["baseline"] else "–"
        per_round = {tree: ", ".join(f"{r.ok_rate:,.0f}" for r in results[phase][tree]) for tree in TREES}
        rows.append(
            f"| {label} | {rates['baseline']:,.0f} | {rates['current']:,.0f} | {ratio} "
            f"| {_median_cpu(results[phase]['baseline'])} | {_median_cpu(results[phase]['current'])} "
            f"| {per_round['baseline']} | {per_round['current']} |"
        )
        failures += [
            f"{label}, {tree}, round {number}: {result.statuses}"
            for tree in TREES
            for number, result in enumerate(results[phase][tree], 1)
            if result.ok < result.requests or "socket errors" in result.statuses
        ]
    return [
        "",
        "### Against a baseline revision",
        "",
        f"Baseline: `{short}` ({subject}), checked out in a temporary detached worktree; current: the working tree "
        f"at `{head}`{' with uncommitted changes' if changed else ''}. Server: gunicorn {name}, started in each tree "
        "with the same venv, environment, database and Redis. "
        f"{BASELINE_ROUNDS} rounds, each the baseline and then the current tree, each tree a fresh gunicorn with 2 s "
        f"of warm-up and then {BASELINE_SECONDS} s per phase with wrk; medians over the rounds. "
        "'server CPU ms/request' is gunicorn + PostgreSQL + Redis, measured as above. A ratio above 1 means the "
        "current tree serves more requests per second.",
        "",
        "| phase | baseline req/s | current req/s | current / baseline | baseline server CPU ms/request "
        "| current server CPU ms/request | baseline req/s per round | current req/s per round |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Non-2xx answers or socket errors: " + ("; ".join(failures) if failures else "none") + ".",
    ]


def _p99s(p99s: list[float]) -> str:
    if len(p99s) < 2:
        return ""
    return f" (the run with the median p99 of {len(p99s)}: {', '.join(f'{p99:.1f}' for p99 in p99s)} ms)"


def _row(config: str, phase: str, result: Result, target: str) -> str:
    return (
        f"| {config} | {phase} | {result.requests} | {result.ok_rate:,.0f} | {result.p50:.1f} | {result.p99:.1f} "
        f"| {result.client_cpu * 100:.0f} % | {_cpu_cell(result)} | {target} | {result.statuses}{result.note} |"
    )


def run() -> str:
    load = os.getloadavg()[0]  # other work on the machine, before the benchmark adds its own
    url = _database_url()
    # Refuse a baseline that cannot run before spending minutes on the rest.
    baseline = _baseline_commit()
    wrk, missing = _wrk_available()
    if baseline and not wrk:
        raise SystemExit(f"bench api: the baseline comparison needs wrk: {missing.partition(';')[0]}.")
    _recreate_database(url)
    env = _server_env(url)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run([PYTHON, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    data = json.loads(seeded.strip().splitlines()[-1])
    _analyze(url)
    client = "wrk" if wrk else "Python"

    results = []
    comparison: list[str] = []
    with tempfile.TemporaryDirectory() as scripts:
        for index, (name, args) in enumerate(CONFIGS):
            sweep = REDEEM_SWEEP_RATES if index == 0 else ()
            results.append(_run_config(name, args, env=env, data=data, wrk=wrk, scripts=Path(scripts), sweep=sweep))
        if baseline and wrk:
            compared = _compare(baseline, env=env, data=data, wrk=wrk, scripts=Path(scripts))
            comparison = _comparison_lines(baseline, compared)

    rows = []
    for config in results:
        runs = ", ".join(f"{rate:,.0f}" for rate in config.validate_runs)
        rows += [
            _row(
                config.name,
                f"GET /vouchers/{{code}}, closed loop, {VALIDATE_CONNECTIONS} connections ({client}; median of "
                f"{VALIDATE_RUNS} runs of {VALIDATE_SECONDS} s: {runs} req/s)",
                config.validate,
                ">= 1 000 req/s",
            ),
            _row(
                config.name,
                f"POST .../redeem, closed loop, {REDEEM_CONNECTIONS} connections ({client}), 1 in {HOT_SHARE} hot"
                if wrk
                else f"POST .../redeem at {REDEEM_RATE}/s (Python), 1 in {HOT_SHARE} hot",
                config.closed,
                "(capacity)",
            ),
            _row(
                config.name,
                f"POST .../redeem at {REDEEM_RATE}/s, 1 in {HOT_SHARE} hot{_p99s(config.mixed_p99s)}",
                config.mixed,
                "p99 < 50 ms",
            ),
            _row(
                config.name,
                f"POST .../redeem at {REDEEM_RATE}/s, all hot{_p99s(config.hot_p99s)}",
                config.hot,
                "p99 < 50 ms",
            ),
            *(
                _row(config.name, f"POST .../redeem at {rate}/s, 1 in {HOT_SHARE} hot", result, "(below the target)")
                for rate, result in config.sweep
            ),
        ]
    best = max(results, key=lambda config: config.validate.ok_rate)
    best_redeem = min(results, key=lambda config: max(config.mixed.p99, config.hot.p99))
    validations = best.validate.ok_rate
    p99 = max(best_redeem.mixed.p99, best_redeem.hot.p99)
    lines = [
        "## Redemption API (gunicorn, PostgreSQL)",
        "",
        f"Command: `.venv/bin/python -m bench api`. Server: gunicorn with `config.settings.production` "
        f"(LOG_LEVEL=WARNING, CONN_MAX_AGE=600), PostgreSQL and Redis (cache, throttle counters) on loopback, all on "
        f"the same {CORES} cores as the load generator; {VOUCHERS:,} vouchers plus one hot voucher. Every redeem sends "
        "a unique Idempotency-Key, as a till does. "
        f"Load average (1 min) when the run started: {load:.1f} on {CORES} cores.",
        "",
        f"Load generators: validations and the closed-loop redeem capacity run with {client} "
        + (
            "(one thread, keep-alive connections, a Lua script for the token, codes and keys); "
            if wrk
            else f"({missing}); "
        )
        + f"the {REDEEM_RATE}/s phases are open loop from one Python process ({REDEEM_THREADS} threads sending on a "
        "schedule), with latency counted from each request's due time, so time a request waits because the server "
        "fell behind is included. 'client CPU' is the load generator's CPU time per second of the run (out of "
        f"{CORES * 100} %).",
        "",
        "'server CPU ms/request' is the CPU time (user + system) the server used during the phase, divided by the "
        "successful requests, in three parts: gunicorn (the master and its workers) / PostgreSQL (every postgres "
        "process, background writers included) / Redis. It is read from /proc/<pid>/stat just before and after the "
        f"phase, in clock ticks of {1000 / TICKS:.0f} ms per process. What a request costs in CPU depends much less "
        "on the noisy machine than the rates do; on a saturated machine, the rate is roughly the cores divided by "
        "the sum of the three and the client's share.",
        "",
        "| server | phase | requests | successful req/s | p50 ms | p99 ms | client CPU "
        "| server CPU ms/request (gunicorn / PostgreSQL / Redis) | target | statuses |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Validations: {validations:,.0f}/s with {best.name} "
        f"({'meets' if validations >= 1000 else 'misses'} the 1 000/s target). "
        f"Redeem at {REDEEM_RATE}/s with {best_redeem.name}: p99 {best_redeem.mixed.p99:.1f} ms mixed, "
        f"{best_redeem.hot.p99:.1f} ms all on the hot voucher ({'meets' if p99 < 50 else 'misses'} the 50 ms target).",
        *_sweep_summary(results[0]),
        *comparison,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
