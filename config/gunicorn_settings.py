"""gunicorn's settings for the image (``gunicorn -c python:config.gunicorn_settings config.wsgi:application``).

The access log and the error log go to stdout/stderr like the application's, and both pass through
``config.log_redaction``: request lines carry voucher codes and page tokens in their paths. The worker count comes
from ``WEB_CONCURRENCY`` (gunicorn reads it itself).
"""

import logging
from typing import Any

from gunicorn import glogging

from config.log_redaction import RedactingFilter

bind = ["0.0.0.0:8000"]
accesslog = "-"
errorlog = "-"
# gunicorn's default format: client, time, request line, status, size, referrer and user agent.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
logger_class = "config.gunicorn_settings.RedactingLogger"


class RedactingLogger(glogging.Logger):
    """gunicorn's logger with ``RedactingFilter`` on its access and error loggers, whatever handlers they get."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            _add_redaction(log)


def _add_redaction(log: logging.Logger) -> None:
    if not any(isinstance(existing, RedactingFilter) for existing in log.filters):
        log.addFilter(RedactingFilter())
