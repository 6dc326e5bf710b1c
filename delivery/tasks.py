"""Celery tasks of delivery: each takes an id (or nothing) and calls a service. The rows say what is owed."""

from celery import shared_task
from celery.signals import worker_process_init

from delivery import services


@shared_task(name="delivery.send", acks_late=True, ignore_result=True)
def delivery_send_task(delivery_id: int) -> None:
    """Send one delivery if it is still owed; a duplicate or late message finds nothing to do."""
    services.delivery_send(delivery_id)


@shared_task(name="delivery.merchant_alert", acks_late=True, ignore_result=True)
def merchant_alert_task(delivery_id: int) -> None:
    """Tell the merchant about a delivery's bad news if that alert is still owed; a duplicate finds nothing to do."""
    services.merchant_alert_send(delivery_id)


@shared_task(name="delivery.sweep", acks_late=True, ignore_result=True)
def deliveries_sweep_task() -> int:
    """Queue due deliveries, take back stuck ones and trigger due merchant alerts (Celery beat, every minute)."""
    return len(services.deliveries_sweep()) + len(services.merchant_alerts_sweep())


@worker_process_init.connect
def _load_pdf_assets(**kwargs: object) -> None:
    # Each worker process parses the stylesheet and loads fonts once, before its first voucher.
    from delivery.pdf import warm_up

    warm_up()
