"""Redemption's periodic task: record expired holds and forget idempotency records past their keeping time."""

from celery import shared_task

from redemption.services import holds_expire_due, idempotency_records_purge


@shared_task(acks_late=True)
def redemption_cleanup() -> dict[str, int]:
    """Safe to run any time, any number of times."""
    return {"holds_expired": holds_expire_due(), "idempotency_records_purged": idempotency_records_purge()}
