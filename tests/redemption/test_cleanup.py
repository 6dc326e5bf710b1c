"""The periodic cleanup: expired holds are recorded as expired; old idempotency records go; live ones stay."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from redemption.models import Hold, HoldStatus
from redemption.services import Caller, hold_create
from redemption.tasks import redemption_cleanup
from tests.redemption.conftest import issue
from vouchers.services import Actor

pytestmark = pytest.mark.django_db


def test_cleanup_marks_only_expired_holds_and_can_run_again(shop):
    voucher = issue(shop, 5000)
    caller = Caller(merchant_id=shop.merchant.pk, actor=Actor())
    short = hold_create(caller=caller, code=voucher.code, amount=100, ttl_seconds=60)
    long = hold_create(caller=caller, code=voucher.code, amount=100, ttl_seconds=3600)
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        assert redemption_cleanup() == {"holds_expired": 1, "idempotency_records_purged": 0}
        assert redemption_cleanup() == {"holds_expired": 0, "idempotency_records_purged": 0}
    assert Hold.objects.get(pk=short.pk).status == HoldStatus.EXPIRED
    assert Hold.objects.get(pk=long.pk).status == HoldStatus.LIVE


def test_cleanup_is_scheduled():
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "redemption.tasks.redemption_cleanup" in entries
