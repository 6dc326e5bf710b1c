"""The periodic expiry task: registered with beat, only calls the service, and is safe to run again."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from config.celery import app
from vouchers import tasks
from vouchers.models import TransactionKind, VoucherStatus
from vouchers.tasks import vouchers_expire_due_task

pytestmark = pytest.mark.django_db


def test_beat_runs_the_expiry_task_periodically():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "vouchers.expire_due"]
    assert len(entries) == 1
    assert 0 < float(entries[0]["schedule"]) <= 3600
    assert "vouchers.expire_due" in app.tasks


def test_the_task_is_acknowledged_late_and_retried_with_backoff():
    assert vouchers_expire_due_task.acks_late is True
    assert vouchers_expire_due_task.retry_backoff
    assert vouchers_expire_due_task.max_retries >= 3
    assert Exception in vouchers_expire_due_task.autoretry_for


def test_the_task_expires_what_is_due_once(issue):
    # Given one voucher that expires tomorrow and one that never does
    start = timezone.now()
    expiring = issue(value=1000, expires_at=start + timedelta(days=1))
    forever = issue(value=1000)

    # When the task runs today, nothing happens
    assert vouchers_expire_due_task.delay().get() == 0
    expiring.refresh_from_db()
    assert expiring.status == VoucherStatus.ACTIVE

    # When it runs the day after tomorrow, the expiring one gets its expire row; run again, nothing more happens
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert vouchers_expire_due_task.delay().get() == 1
        assert vouchers_expire_due_task.delay().get() == 0
    expiring.refresh_from_db()
    forever.refresh_from_db()
    assert (expiring.status, expiring.balance) == (VoucherStatus.EXPIRED, 0)
    assert list(expiring.transactions.values_list("kind", flat=True).order_by("pk")) == [
        TransactionKind.ISSUE,
        TransactionKind.EXPIRE,
    ]
    assert (forever.status, forever.balance, forever.transactions.count()) == (VoucherStatus.ACTIVE, 1000, 1)


def test_a_failure_is_retried_not_swallowed(monkeypatch):
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks, "vouchers_expire_due", failing)
    result = vouchers_expire_due_task.apply()
    assert result.failed()
    # Eagerly applied, autoretry re-runs the task up to its limit before giving up
    assert len(calls) == vouchers_expire_due_task.max_retries + 1
