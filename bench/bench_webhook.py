"""Stripe webhook latency: what Stripe waits for (verify the signature, store the event, enqueue its task).

Each of 1 000 distinct, realistically sized ``checkout.session.completed`` events is signed with Stripe's scheme
and posted through Django's full request stack (middleware, URL routing, the view) to ``/payments/stripe/webhook/``;
the time of each request is recorded. Redeliveries of already stored events (stopped at the duplicate check) and
bad signatures (rejected before any write) are measured the same way, interleaved with the new events. The task is
published to Celery's in-memory broker, so the figures hold the cost of publishing but no network to Redis;
processing the event is the worker's job and is not measured.

With ``DATABASE_URL=postgres://.../<name>`` (the name must contain ``bench``: that database is dropped and
re-created) it runs on PostgreSQL; otherwise on a temporary SQLite file.
"""

import json
import os
import statistics
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

EVENTS = 1_000
DUPLICATES = 200
BAD_SIGNATURES = 200
WARM_UP = 50
SECRET = "whsec_bench"  # noqa: S105 - a throwaway signing secret for this run only


def _refuse(message: str) -> None:
    raise SystemExit(f"bench webhook: {message}")


def _prepare_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = parts.path.lstrip("/")
        if "bench" not in name:
            _refuse(f"the database {name!r} is dropped and re-created; use a name containing 'bench'.")
        import psycopg
        from psycopg import sql

        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return "PostgreSQL"
    directory = tempfile.mkdtemp(prefix="bench-webhook-")
    os.environ["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
    return "SQLite"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from config.celery import app

    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.ALLOWED_HOSTS = ["*"]
    # Publish for real (to the in-memory broker) instead of running the task inline.
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    call_command("migrate", verbosity=0, interactive=False)


def _event(number: int) -> dict:  # type: ignore[type-arg]
    session_id = f"cs_test_bench_{number:06d}"
    return {
        "id": f"evt_bench_{number:06d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": 5000,
                "amount_total": 5000,
                "client_reference_id": str(number),
                "currency": "eur",
                "customer_details": {"email": "buyer@example.com", "name": "Berta Buyer", "tax_exempt": "none"},
                "customer_email": "buyer@example.com",
                "expires_at": int(time.time()) + 1800,
                "locale": "de",
                "metadata": {"order_id": str(number), "merchant": "bench"},
                "mode": "payment",
                "payment_intent": f"pi_bench_{number:06d}",
                "payment_method_types": ["card", "sepa_debit"],
                "payment_status": "paid",
                "status": "complete",
                "success_url": f"https://shop.example/o/{'x' * 32}/",
                "cancel_url": "https://shop.example/s/bench/",
                "url": None,
            }
        },
    }


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run() -> str:
    database = _prepare_database()
    _setup_django()
    import logging

    import stripe
    from django.db import connection
    from django.test import Client

    from payments.models import StripeEvent

    # The 400s below are expected; Django would log each one.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    client = Client()
    url = "/payments/stripe/webhook/"

    def post(payload: str, header: str) -> tuple[float, int]:
        started = time.perf_counter()
        response = client.post(url, data=payload, content_type="application/json", headers={"stripe-signature": header})
        return (time.perf_counter() - started) * 1000, response.status_code

    def signed(number: int) -> tuple[str, str]:
        payload = json.dumps(_event(number))
        return payload, stripe.WebhookSignature.generate_signature_header(payload, SECRET)

    for number in range(WARM_UP):
        post(*signed(1_000_000 + number))

    timings: dict[str, list[float]] = {"new event": [], "duplicate": [], "bad signature": []}
    for number in range(EVENTS):
        payload, header = signed(number)
        elapsed, status = post(payload, header)
        assert status == 200, status
        timings["new event"].append(elapsed)
        if number % (EVENTS // DUPLICATES) == 1:
            # Stripe redelivers an event it already sent (re-signed, as Stripe does on each attempt).
            elapsed, status = post(*signed(number - 1))
            assert status == 200, status
            timings["duplicate"].append(elapsed)
        if number % (EVENTS // BAD_SIGNATURES) == 2:
            elapsed, status = post(payload.replace('"amount_total": 5000', '"amount_total": 1'), header)
            assert status == 400, status
            timings["bad signature"].append(elapsed)
        if number % 250 == 0:
            print(f"  {number}/{EVENTS}", file=sys.stderr, flush=True)

    stored = StripeEvent.objects.filter(stripe_id__startswith="evt_bench_").count()
    assert stored == EVENTS + WARM_UP, stored
    # Nothing was applied inline: the figures are the webhook's own work, not the task's.
    assert not StripeEvent.objects.filter(processed_at__isnull=False).exists()
    server = database
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0]}"

    lines = [
        "## Stripe webhook: verify + store + enqueue",
        "",
        f"`POST /payments/stripe/webhook/` through Django's test client and full middleware stack, one process, "
        f"sequential; {server}; the task is published to Celery's in-memory broker. {EVENTS:,} distinct "
        f"signed `checkout.session.completed` events (~0.9 kB each), with {len(timings['duplicate'])} redeliveries "
        f"of stored events and {len(timings['bad signature'])} tampered bodies interleaved. "
        f"{stored:,} events stored (including {WARM_UP} warm-up events), each once.",
        "",
        "| request | n | p50 (ms) | p99 (ms) | mean (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, samples in timings.items():
        lines.append(
            f"| {kind} | {len(samples)} | {statistics.median(samples):.2f} | {_percentile(samples, 0.99):.2f} | "
            f"{statistics.fmean(samples):.2f} | {max(samples):.2f} |"
        )
    lines += [
        "",
        "Reproduce: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/voucher_bench_s .venv/bin/python -m bench "
        "webhook`.",
    ]
    return "\n".join(lines)
