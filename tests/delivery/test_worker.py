"""With a real Celery worker on Redis and PostgreSQL: a paid order's email arrives; a worker killed in the middle
of a send is recovered by the sweeper; a future send date is kept."""

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from delivery.models import Delivery, DeliveryStatus, EventKind, Purpose
from delivery.services import SENDING_STUCK_AFTER, deliveries_sweep, delivery_schedule, merchant_alerts_sweep
from delivery.tasks import delivery_send_task, merchant_alert_task
from shop.models import VoucherProduct
from shop.services import order_create, order_fulfil, order_mark_paid
from tests.delivery.conftest import SmtpServer
from tests.delivery.helpers import make_merchant, make_voucher, pdf_attachment, pdf_text
from tests.delivery.worker import Worker, tasks_to_queue, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# One queue per test run: no other engineer's or run's worker takes these tasks.
QUEUE = f"delivery-test-{os.getpid()}"


@pytest.fixture
def worker(transactional_db: None, smtp: SmtpServer) -> Iterator[Worker]:
    # Depends on the database fixture so that the worker is gone before the tables are flushed.
    process = Worker(queue=QUEUE, email_url=f"smtp://127.0.0.1:{smtp.port}?timeout=30")
    with tasks_to_queue(QUEUE):
        process.start()
        yield process
        smtp.handler.release.set()
        process.stop()


def status_of(delivery_id: int) -> str:
    return Delivery.objects.get(pk=delivery_id).status


def test_a_paid_order_ends_with_the_email_received(worker: Worker, smtp: SmtpServer):
    merchant = make_merchant()
    product = VoucherProduct.objects.create(merchant=merchant, name="Gift card", fixed_amounts=[2500, 5000])
    order = order_create(
        merchant_id=merchant.pk,
        product_id=product.pk,
        buyer_name="Ben Buyer",
        buyer_email="ben@example.com",
        amount=5000,
        recipient_name="Anna",
        recipient_email="anna@example.com",
        message="For you",
    )
    with transaction.atomic():
        order_mark_paid(order_id=order.pk, amount=5000, currency="EUR", cause="test payment")
        order_fulfil(order_id=order.pk)
    assert wait_for(lambda: len(smtp.handler.messages) >= 2), "".join(worker.output[-30:])
    [to_recipient] = smtp.handler.to("anna@example.com")
    [to_buyer] = smtp.handler.to("ben@example.com")
    voucher = Delivery.objects.get(purpose=Purpose.RECIPIENT).voucher
    assert voucher.display_code in pdf_text(pdf_attachment(to_recipient))
    assert voucher.display_code in pdf_text(pdf_attachment(to_buyer))
    assert wait_for(lambda: set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT})


def test_a_worker_killed_mid_send_is_recovered_by_the_sweeper(worker: Worker, smtp: SmtpServer):
    # Given the SMTP server holds the message data until told otherwise
    smtp.handler.hold = True
    voucher = make_voucher()
    with transaction.atomic():
        delivery = delivery_schedule(
            voucher_id=voucher.pk,
            purpose=Purpose.RECIPIENT,
            to_email="anna@example.com",
            to_name="Anna",
            locale="en",
            send_at=None,
        )
    # When the worker has claimed the row and is in the middle of the send, it is killed
    assert smtp.handler.in_data.wait(60), "".join(worker.output[-30:])
    assert status_of(delivery.pk) == DeliveryStatus.SENDING
    worker.kill()
    smtp.handler.hold = False
    smtp.handler.release.set()
    assert smtp.handler.messages == []
    # Then a duplicate message and a sweep while the claim is fresh change nothing
    worker.start()
    assert deliveries_sweep() == []
    assert status_of(delivery.pk) == DeliveryStatus.SENDING
    # And once the claim is stale, the sweeper takes the row back and the new worker sends it once
    later = timezone.now() + SENDING_STUCK_AFTER + timedelta(seconds=1)
    assert deliveries_sweep(now=later) == [delivery.pk]
    assert deliveries_sweep(now=later) == []
    assert wait_for(lambda: status_of(delivery.pk) == DeliveryStatus.SENT), "".join(worker.output[-30:])
    assert len(smtp.handler.to("anna@example.com")) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.attempts_log.filter(kind=EventKind.REQUEUED).count() == 1


def test_a_future_send_date_is_kept(worker: Worker, smtp: SmtpServer):
    merchant = make_merchant()
    future, marker = make_voucher(merchant), make_voucher(merchant)
    send_at = timezone.now() + timedelta(days=7)
    with transaction.atomic():
        scheduled = delivery_schedule(
            voucher_id=future.pk,
            purpose=Purpose.RECIPIENT,
            to_email="later@example.com",
            to_name="Later",
            locale="en",
            send_at=send_at,
        )
    # A stray task for it reaches the worker before the date: the worker sends nothing
    delivery_send_task.delay(scheduled.pk)
    # (the worker takes one task at a time in order, so once the marker arrives the stray task was handled)
    with transaction.atomic():
        delivery_schedule(
            voucher_id=marker.pk,
            purpose=Purpose.RECIPIENT,
            to_email="marker@example.com",
            to_name="Marker",
            locale="en",
            send_at=None,
        )
    assert wait_for(lambda: len(smtp.handler.to("marker@example.com")) == 1), "".join(worker.output[-30:])
    assert smtp.handler.to("later@example.com") == []
    assert status_of(scheduled.pk) == DeliveryStatus.SCHEDULED
    # The sweeper on a clock just before the date leaves it; on a clock after the date it is sent
    assert deliveries_sweep(now=send_at - timedelta(seconds=1)) == []
    assert deliveries_sweep(now=send_at + timedelta(minutes=1)) == [scheduled.pk]
    assert wait_for(lambda: len(smtp.handler.to("later@example.com")) == 1), "".join(worker.output[-30:])
    # The mail server has the email a moment before the worker records it
    assert wait_for(lambda: status_of(scheduled.pk) == DeliveryStatus.SENT), "".join(worker.output[-30:])


def test_send_date_from_the_shop_form_is_kept(worker: Worker, smtp: SmtpServer):
    merchant = make_merchant()
    product = VoucherProduct.objects.create(merchant=merchant, name="Gift card", fixed_amounts=[5000])
    order = order_create(
        merchant_id=merchant.pk,
        product_id=product.pk,
        buyer_name="Ben",
        buyer_email="ben@example.com",
        amount=5000,
        recipient_name="Anna",
        recipient_email="anna@example.com",
        send_date=timezone.localdate() + timedelta(days=30),
    )
    with transaction.atomic():
        order_mark_paid(order_id=order.pk, amount=5000, currency="EUR", cause="test payment")
        order_fulfil(order_id=order.pk)
    # The buyer's copy goes now; the recipient's email waits for its date
    assert wait_for(lambda: len(smtp.handler.to("ben@example.com")) == 1), "".join(worker.output[-30:])
    recipient = Delivery.objects.get(purpose=Purpose.RECIPIENT)
    assert recipient.status == DeliveryStatus.SCHEDULED
    assert smtp.handler.to("anna@example.com") == []
    assert recipient.send_at is not None
    assert deliveries_sweep(now=recipient.send_at + timedelta(seconds=1)) == [recipient.pk]
    assert wait_for(lambda: len(smtp.handler.to("anna@example.com")) == 1), "".join(worker.output[-30:])


def test_a_refused_email_ends_with_the_merchant_told_once(worker: Worker, smtp: SmtpServer):
    voucher = make_voucher(make_merchant(contact_email="owner@merchant.example"))
    with transaction.atomic():
        delivery = delivery_schedule(
            voucher_id=voucher.pk,
            purpose=Purpose.RECIPIENT,
            to_email="refused@example.com",
            to_name="",
            locale="en",
            send_at=None,
        )
    # The worker's send is refused for good, and its delivery.merchant_alert task tells the merchant
    assert wait_for(lambda: len(smtp.handler.to("owner@merchant.example")) == 1), "".join(worker.output[-30:])

    def alert_recorded() -> bool:
        row = Delivery.objects.get(pk=delivery.pk)
        return row.merchant_notified_at is not None and row.alert_next_attempt_at is None

    assert wait_for(alert_recorded), "".join(worker.output[-30:])
    # A stray duplicate of the task, and the sweeper, find nothing more to send
    merchant_alert_task.delay(delivery.pk)
    assert merchant_alerts_sweep(now=timezone.now() + timedelta(days=1)) == []
    with transaction.atomic():
        delivery_schedule(
            voucher_id=make_voucher(voucher.merchant).pk,
            purpose=Purpose.RECIPIENT,
            to_email="marker@example.com",
            to_name="",
            locale="en",
            send_at=None,
        )
    # (one task at a time, in order: once the marker arrives the duplicate was handled)
    assert wait_for(lambda: len(smtp.handler.to("marker@example.com")) == 1), "".join(worker.output[-30:])
    assert len(smtp.handler.to("owner@merchant.example")) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts_log.filter(kind=EventKind.MERCHANT_NOTIFIED).count() == 1
