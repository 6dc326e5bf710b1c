"""Celery tasks of payments: they take ids and call services; the database says what is owed."""

from celery import shared_task

from payments import services


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=12,
)
def process_stripe_event(event_pk: int) -> str:
    """Apply one stored Stripe event (idempotent; a retry of an applied event changes nothing)."""
    return services.event_handle(event_pk=event_pk)


@shared_task(acks_late=True)
def reconcile_payments() -> dict[str, int]:
    """Periodic: apply what webhooks missed (see services.payments_reconcile)."""
    return services.payments_reconcile()
