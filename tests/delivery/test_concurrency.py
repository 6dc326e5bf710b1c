"""Sweepers and senders racing on PostgreSQL row locks: nothing is queued or sent twice."""

import threading
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from delivery.models import Delivery, DeliveryStatus, EventKind, Purpose
from delivery.services import (
    deliveries_sweep,
    delivery_schedule,
    delivery_send,
    merchant_alert_send,
    merchant_alerts_sweep,
)
from tests.delivery.helpers import make_merchant, make_voucher

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count: int, target) -> list:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            results[index] = target()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def due_deliveries(count: int) -> list[Delivery]:
    merchant = make_merchant()
    deliveries = []
    for i in range(count):
        deliveries.append(
            delivery_schedule(
                voucher_id=make_voucher(merchant).pk,
                purpose=Purpose.RECIPIENT,
                to_email=f"r{i}@example.com",
                to_name="",
                locale="en",
                send_at=timezone.now() + timedelta(hours=1),
            )
        )
    Delivery.objects.update(send_at=timezone.now() - timedelta(minutes=1))
    return deliveries


def test_concurrent_sweepers_queue_and_send_each_delivery_once(smtp):
    deliveries = due_deliveries(8)
    # Tasks run inline (eager): each sweeper sends what it queued, in its own thread.
    results = run_together(3, deliveries_sweep)
    queued = [pk for ids in results for pk in ids]
    assert sorted(queued) == sorted(d.pk for d in deliveries)
    assert len(smtp.handler.messages) == 8
    for i in range(8):
        assert len(smtp.handler.to(f"r{i}@example.com")) == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert deliveries_sweep() == []


def test_duplicate_send_tasks_send_once(smtp):
    [delivery] = due_deliveries(1)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.QUEUED, claimed_at=timezone.now())
    results = run_together(4, lambda: delivery_send(delivery.pk))
    assert sum(1 for result in results if result is not None) == 1
    assert len(smtp.handler.messages) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.status == DeliveryStatus.SENT


def owed_alerts(smtp, count: int) -> list[Delivery]:  # type: ignore[no-untyped-def]
    """Deliveries refused for good (550) whose merchant alert is owed and due: its first try was answered 451."""
    merchant = make_merchant(contact_email="owner@merchant.example")
    deliveries: list[Delivery] = []
    for i in range(count):
        deliveries.append(
            delivery_schedule(
                voucher_id=make_voucher(merchant).pk,
                purpose=Purpose.RECIPIENT,
                to_email=f"refused{i}@example.com",
                to_name="",
                locale="en",
                send_at=timezone.now() + timedelta(hours=1),
            )
        )
    Delivery.objects.update(send_at=timezone.now() - timedelta(minutes=1))
    # Recipients are refused at RCPT (550, for good); the alert's data is answered 451 (try again later).
    smtp.handler.hold = True
    smtp.handler.release.set()
    for delivery in deliveries:
        delivery_send(delivery.pk)
    smtp.handler.hold = False
    # The alerts were tried at commit (tasks are eager here) and await a retry; let it fall due.
    assert set(Delivery.objects.values_list("alert_attempts", flat=True)) == {1}
    Delivery.objects.update(alert_next_attempt_at=timezone.now() - timedelta(seconds=1))
    return deliveries


def test_concurrent_alert_sweeps_tell_the_merchant_once_per_delivery(smtp):
    deliveries = owed_alerts(smtp, 4)
    # Tasks run inline (eager): each sweeper's trigger sends what it found, in its own thread.
    results = run_together(3, merchant_alerts_sweep)
    assert {pk for ids in results for pk in ids} == {d.pk for d in deliveries}
    alerts = smtp.handler.to("owner@merchant.example")
    assert len(alerts) == 4
    for i in range(4):
        assert sum(f"refused{i}@example.com" in m.get_body(("plain",)).get_content() for m in alerts) == 1
    assert len(smtp.handler.messages) == 4
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert delivery.alert_next_attempt_at is None
        assert delivery.alert_attempts == 2
        assert delivery.merchant_notified_at is not None
        assert delivery.attempts_log.filter(kind=EventKind.MERCHANT_NOTIFIED).count() == 1
    assert merchant_alerts_sweep() == []


def test_duplicate_alert_tasks_send_once(smtp):
    [delivery] = owed_alerts(smtp, 1)
    results = run_together(4, lambda: merchant_alert_send(delivery.pk))
    assert sum(1 for result in results if result is not None) == 1
    assert len(smtp.handler.to("owner@merchant.example")) == 1
    delivery.refresh_from_db()
    assert delivery.alert_attempts == 2
    assert delivery.attempts_log.filter(kind=EventKind.MERCHANT_NOTIFIED).count() == 1


def test_a_locked_delivery_leaves_its_voucher_free_for_the_counter():
    from django.db import transaction

    from delivery.services import _lock_delivery

    voucher = make_voucher(make_merchant())
    delivery = delivery_schedule(
        voucher_id=voucher.pk,
        purpose=Purpose.RECIPIENT,
        to_email="r@example.com",
        to_name="R",
        locale="en",
        send_at=None,
    )
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=True,
    )
    try:
        with transaction.atomic():
            assert _lock_delivery(delivery.pk) is not None
            # A redemption's lock on the voucher is not held up by a send's claim...
            assert other.execute(
                "SELECT id FROM vouchers_voucher WHERE id = %s FOR UPDATE NOWAIT", [voucher.pk]
            ).fetchone()
            # ...while the delivery row itself is taken.
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT id FROM delivery_delivery WHERE id = %s FOR UPDATE NOWAIT", [delivery.pk])
    finally:
        other.close()
