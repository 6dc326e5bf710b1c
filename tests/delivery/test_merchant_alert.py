"""The merchant's alert about a voucher email that failed for good: owed as a row, retried, swept, sent once."""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery.models import Delivery, DeliveryStatus, EventKind, Purpose
from delivery.services import (
    QUEUED_STUCK_AFTER,
    RETRY_FOR,
    SENDING_STUCK_AFTER,
    delivery_resend,
    delivery_schedule,
    delivery_send,
    merchant_alert_send,
    merchant_alerts_sweep,
    retry_delay,
)
from delivery.tasks import deliveries_sweep_task
from tests.delivery.helpers import make_merchant, make_voucher

OWNER = "owner@merchant.example"


def refused_delivery(merchant=None) -> Delivery:  # type: ignore[no-untyped-def]
    """A delivery whose voucher email the recipient's server refused for good (550); the alert's trigger after
    commit is dropped, as if its Celery message were lost."""
    voucher = make_voucher(merchant or make_merchant(contact_email=OWNER))
    delivery = delivery_schedule(
        voucher_id=voucher.pk,
        purpose=Purpose.RECIPIENT,
        to_email="refused@example.com",
        to_name="",
        locale="en",
        send_at=None,
    )
    delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.needs_attention
    return delivery


def kinds(delivery: Delivery) -> list[str]:
    return list(delivery.attempts_log.values_list("kind", flat=True))


@pytest.mark.django_db
def test_smtp_down_for_the_alert_then_up_the_sweeper_sends_it_exactly_once(smtp, django_capture_on_commit_callbacks):
    # Given the recipient's server refuses the voucher email for good, and the mail server is down when the alert
    # is first tried
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks() as callbacks:
            delivery = refused_delivery()
        smtp.stop()
        for callback in callbacks:
            callback()
        # Then the alert waits for a retry, and nothing reached the merchant
        delivery.refresh_from_db()
        assert delivery.alert_attempts == 1
        assert delivery.alert_next_attempt_at == start + retry_delay(1)
        assert delivery.merchant_notified_at is None
        assert kinds(delivery)[-1] == EventKind.MERCHANT_ALERT_FAILED
        # And the beat task does not try again before the time
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_sweep_task() == 0
        # When the server is back and the retry time has come, the beat task sends it; later runs find nothing
        smtp.start()
        clock.move_to(start + retry_delay(1) + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_sweep_task() == 1
            assert deliveries_sweep_task() == 0
        with django_capture_on_commit_callbacks(execute=True):
            assert merchant_alerts_sweep(now=timezone.now() + timedelta(days=5)) == []
    # Then the merchant got exactly one alert naming the address, and the row records it
    [alert] = smtp.handler.to(OWNER)
    assert "refused@example.com" in alert.get_body(("plain",)).get_content()
    assert len(smtp.handler.messages) == 1
    delivery.refresh_from_db()
    assert delivery.merchant_notified_at == start + retry_delay(1) + timedelta(seconds=1)
    assert delivery.alert_next_attempt_at is None
    assert delivery.alert_attempts == 2
    assert delivery.needs_attention
    assert kinds(delivery)[-3:] == [
        EventKind.PERMANENT_FAILURE,
        EventKind.MERCHANT_ALERT_FAILED,
        EventKind.MERCHANT_NOTIFIED,
    ]
    assert delivery.attempts_log.filter(kind=EventKind.MERCHANT_NOTIFIED, detail=OWNER).count() == 1


@pytest.mark.django_db
def test_a_lost_trigger_is_recovered_by_the_sweeper(smtp, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        delivery = refused_delivery()  # the alert's trigger after commit never runs
        # While its message may still be on its way, the sweeper leaves it alone
        assert merchant_alerts_sweep() == []
        clock.move_to(start + QUEUED_STUCK_AFTER + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert merchant_alerts_sweep() == [delivery.pk]
            assert merchant_alerts_sweep() == []
    assert len(smtp.handler.to(OWNER)) == 1
    # A duplicate message of the task finds nothing to do
    assert merchant_alert_send(delivery.pk) is None
    assert len(smtp.handler.to(OWNER)) == 1


@pytest.mark.django_db
def test_an_alert_a_dead_worker_left_claimed_is_sent_once_its_claim_has_passed(
    smtp, django_capture_on_commit_callbacks
):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        delivery = refused_delivery()
        # Given a worker claimed the alert and died before sending it
        Delivery.objects.filter(pk=delivery.pk).update(
            alert_next_attempt_at=start + SENDING_STUCK_AFTER, alert_attempts=1, alert_first_attempt_at=start
        )
        # Then neither a duplicate task nor the sweeper sends it while the claim is fresh
        with django_capture_on_commit_callbacks(execute=True):
            assert merchant_alert_send(delivery.pk) is None
            clock.move_to(start + SENDING_STUCK_AFTER - timedelta(seconds=1))
            assert merchant_alerts_sweep() == []
        assert smtp.handler.to(OWNER) == []
        # When the claim has passed, the sweeper hands it to a worker and it is sent once
        clock.move_to(start + SENDING_STUCK_AFTER + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert merchant_alerts_sweep() == [delivery.pk]
            assert merchant_alerts_sweep() == []
    assert len(smtp.handler.to(OWNER)) == 1
    delivery.refresh_from_db()
    assert delivery.alert_attempts == 2
    assert delivery.alert_next_attempt_at is None
    assert delivery.merchant_notified_at is not None


@pytest.mark.django_db
def test_a_merchant_without_contact_email_is_owed_no_alert(smtp, django_capture_on_commit_callbacks):
    merchant = make_merchant(contact_email="")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = refused_delivery(merchant)
    delivery.refresh_from_db()
    assert delivery.needs_attention
    assert delivery.alert_next_attempt_at is None
    assert delivery.alert_attempts == 0
    assert delivery.merchant_notified_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert merchant_alerts_sweep(now=timezone.now() + timedelta(days=1)) == []
    assert smtp.handler.messages == []
    assert not delivery.attempts_log.filter(kind__startswith="merchant_").exists()


@pytest.mark.django_db
def test_the_alert_is_given_up_after_the_retry_window(smtp, django_capture_on_commit_callbacks):
    # Given the alert's first try finds the mail server down, and it stays down
    start = timezone.now()
    waits = []
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks() as callbacks:
            delivery = refused_delivery()
        smtp.stop()
        for callback in callbacks:
            callback()
        delivery.refresh_from_db()
        # When the sweeper tries it each time it falls due
        while delivery.alert_next_attempt_at is not None:
            waits.append(delivery.alert_next_attempt_at - timezone.now())
            clock.move_to(delivery.alert_next_attempt_at)
            with django_capture_on_commit_callbacks(execute=True):
                assert merchant_alerts_sweep() == [delivery.pk]
            delivery.refresh_from_db()
            assert len(waits) < 100, "retries never stopped"
        finished = timezone.now()
        # Then the delays grow as for voucher emails, and it stops within the same window
        assert waits[:4] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
        assert all(later >= earlier for earlier, later in itertools.pairwise(waits))
        assert RETRY_FOR - timedelta(hours=6) < finished - start <= RETRY_FOR
        assert delivery.alert_attempts == len(waits) + 1
        assert delivery.attempts_log.filter(kind=EventKind.MERCHANT_ALERT_GAVE_UP).count() == 1
        assert delivery.attempts_log.filter(kind=EventKind.MERCHANT_ALERT_FAILED).count() == len(waits)
        assert kinds(delivery)[-1] == EventKind.MERCHANT_ALERT_GAVE_UP
        # And nothing tries it again, even when the server is back; the badge stays
        smtp.start()
        with django_capture_on_commit_callbacks(execute=True):
            assert merchant_alerts_sweep(now=finished + timedelta(days=30)) == []
    assert smtp.handler.messages == []
    assert delivery.merchant_notified_at is None
    assert delivery.needs_attention


@pytest.mark.django_db
def test_a_refused_merchant_address_is_given_up_at_once(smtp, django_capture_on_commit_callbacks):
    merchant = make_merchant(contact_email="refused-owner@merchant.example")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = refused_delivery(merchant)
    delivery.refresh_from_db()
    assert delivery.alert_attempts == 1
    assert delivery.alert_next_attempt_at is None
    assert delivery.merchant_notified_at is None
    assert kinds(delivery)[-1] == EventKind.MERCHANT_ALERT_GAVE_UP
    assert smtp.handler.messages == []


@pytest.mark.django_db
def test_a_resend_cancels_an_alert_still_owed(smtp, django_capture_on_commit_callbacks):
    # Given the alert is owed but not yet sent (its trigger was lost)
    delivery = refused_delivery()
    # When staff resend to a corrected address
    with django_capture_on_commit_callbacks(execute=True):
        delivery_resend(delivery.pk, to_email="anna@example.com")
    # Then the voucher email arrives, the alert is no longer owed and never sent
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.alert_next_attempt_at is None
    assert EventKind.MERCHANT_ALERT_CANCELLED in kinds(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert merchant_alerts_sweep(now=timezone.now() + timedelta(days=1)) == []
        assert merchant_alert_send(delivery.pk) is None
    assert len(smtp.handler.to("anna@example.com")) == 1
    assert smtp.handler.to(OWNER) == []
    assert delivery.merchant_notified_at is None


@pytest.mark.django_db
def test_a_new_failure_after_a_resend_tells_the_merchant_again(smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = refused_delivery()
    with django_capture_on_commit_callbacks(execute=True):
        delivery_resend(delivery.pk, to_email="refused-too@example.com")
    alerts = smtp.handler.to(OWNER)
    assert len(alerts) == 2
    assert "refused-too@example.com" in alerts[1].get_body(("plain",)).get_content()
    delivery.refresh_from_db()
    assert delivery.alert_attempts == 1
    assert delivery.alert_next_attempt_at is None


@pytest.mark.django_db(transaction=True)
def test_the_migration_applies_and_owes_no_alert_for_existing_rows(smtp):
    # Given a delivery recorded before the alert's fields existed
    delivery = refused_delivery(make_merchant(contact_email=""))
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("delivery", "0002_first_attempt_at")])
        with connection.cursor() as cursor:
            columns = {c.name for c in connection.introspection.get_table_description(cursor, "delivery_delivery")}
        assert "alert_next_attempt_at" not in columns
    finally:
        # When the migration runs (always: the test database is reused by later tests)
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    # Then the row has the fields and owes nothing
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "delivery_delivery")}
    assert {"alert_next_attempt_at", "alert_attempts", "alert_first_attempt_at"} <= columns
    delivery.refresh_from_db()
    assert delivery.alert_next_attempt_at is None
    assert delivery.alert_attempts == 0
    assert merchant_alerts_sweep() == []
