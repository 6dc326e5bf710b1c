from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class RedemptionConfig(AppConfig):
    name = "redemption"
    verbose_name = _("Redemption")

    def ready(self) -> None:
        checks.register(check_reversal_window)


def check_reversal_window(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A REVERSAL_WINDOW that cannot be read stops `manage.py check` and every start, not the first reversal."""
    from redemption.services import reversal_window

    try:
        reversal_window()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="redemption.E001")]
    return []
