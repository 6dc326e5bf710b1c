"""Settings for a real Celery worker started by the delivery tests: the test settings, with email leaving through
EMAIL_URL (the test's SMTP server) instead of the in-memory outbox, and tasks it enqueues itself sent to the test's
own queue."""

from config.settings.test import *  # noqa: F403
from core.email import email_settings_from_url

globals().update(email_settings_from_url(env.str("EMAIL_URL")))  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE")  # noqa: F405
