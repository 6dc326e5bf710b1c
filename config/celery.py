"""The Celery app: `celery -A config worker --beat` starts a worker (and the scheduler) for this project.

Configuration comes from Django settings with the CELERY_ namespace. Tasks only trigger work; the database
rows say what is owed, and the periodic sweepers in CELERY_BEAT_SCHEDULE find anything a lost message left.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("voucher_shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
