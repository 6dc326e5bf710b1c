"""Delivery: the PDF voucher, its email, the events outbox and signed webhooks to merchants' systems."""

import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Delivery")

    def ready(self) -> None:
        # WeasyPrint reports every rendering step at INFO; a worker rendering thousands of vouchers needs problems.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

        from anymail.signals import tracking

        from delivery.signals import on_anymail_tracking

        tracking.connect(on_anymail_tracking, dispatch_uid="delivery.anymail_tracking")
