"""The Celery app: `celery -A config worker --beat` starts a worker (and the scheduler) for this project.

Configuration comes from Django settings with the CELERY_ namespace. Tasks only trigger work; the database
rows say what is owed, and the periodic sweepers in CELERY_BEAT_SCHEDULE find anything a lost message left.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("voucher_shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Worker and beat log through the settings' LOGGING, whose handlers redact codes and tokens, never through
    handlers of Celery's own, which would write task loggers' lines unredacted. ``--loglevel`` sets the root level,
    as it does with Celery's own set-up."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
