"""Sweepers and senders racing on PostgreSQL row locks: nothing is queued or sent twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from delivery.models import Delivery, DeliveryStatus, Purpose
from delivery.services import deliveries_sweep, delivery_schedule, delivery_send
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
