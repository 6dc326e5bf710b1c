"""Celery tasks of vouchers: triggers only. The work and its rules live in ``vouchers.services``."""

from celery import shared_task

from vouchers.services import vouchers_expire_due


@shared_task(
    name="vouchers.expire_due",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def vouchers_expire_due_task() -> int:
    """Expire every voucher past its date (run by beat; safe to run any number of times). Returns how many."""
    return vouchers_expire_due()
