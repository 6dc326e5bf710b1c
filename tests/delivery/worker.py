"""A real Celery worker in a subprocess, on the test database and a queue of its own, that a test can kill."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from config.celery import app

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the one DATABASE_URL names)."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """``celery -A config worker`` consuming only ``queue``, with one prefork child."""

    def __init__(self, *, queue: str, email_url: str) -> None:
        self.queue = queue
        self.email_url = email_url
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self.ready = threading.Event()

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.delivery.worker_settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": self.email_url,
            # Tasks the worker enqueues itself (a merchant alert after a failed send) stay on the test's queue.
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "PYTHONPATH": str(PROJECT_DIR),
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--queues", self.queue, "--concurrency", "1", "--pool", "prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"{self.queue}@%h", "--loglevel", "INFO",
        ]  # fmt: skip
        self.ready.clear()
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, so a kill takes the pool children too
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        if not self.ready.wait(READY_TIMEOUT):
            self.stop()
            raise RuntimeError("worker did not start:\n" + "".join(self.output[-40:]))

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)
            if " ready." in line:
                self.ready.set()

    def kill(self) -> None:
        """SIGKILL the worker and its children: no shutdown, no acknowledgement, nothing written."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None


@contextmanager
def tasks_to_queue(queue: str) -> Iterator[None]:
    """Make this process publish tasks to ``queue`` on the broker instead of running them inline."""
    conf = app.conf
    saved = (conf.task_always_eager, conf.task_default_queue)
    conf.task_always_eager = False
    conf.task_default_queue = queue
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_default_queue = saved


def unique_queue() -> str:
    return f"delivery-test-{uuid.uuid4().hex[:8]}"


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
