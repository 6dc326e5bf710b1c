"""The email provider's tracking webhook (delivered, bounced, complained): only the provider the shop sends
through is answered, and only when the request carries the configured webhook secret as basic auth."""

from collections.abc import Callable
from typing import Any

from anymail import urls as anymail_urls
from anymail.utils import get_anymail_setting
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from core.email import anymail_esp


def _tracking_view(esp: str) -> Callable[..., Any] | None:
    """anymail's tracking webhook view for ``esp`` when that is the provider email goes out through."""
    if esp != anymail_esp(settings.EMAIL_BACKEND):
        return None
    for pattern in anymail_urls.urlpatterns:
        if getattr(pattern, "name", None) == f"{esp}_tracking_webhook":
            return pattern.callback
    return None


def webhook_secrets() -> list[str]:
    """The ``user:password`` pairs a tracking webhook request may carry (anymail's ``WEBHOOK_SECRET``)."""
    configured = get_anymail_setting("webhook_secret", default=[])
    if isinstance(configured, str):
        configured = [configured]
    return [secret for secret in configured if secret]


@csrf_exempt  # the provider posts without a CSRF token; basic auth (and the provider's signature) prove it
def email_tracking_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    view = _tracking_view(esp)
    if view is None:
        raise Http404
    if not webhook_secrets():
        # anymail would accept anyone's events without a secret; a forged bounce would flag a delivered email.
        return HttpResponse(
            # Read by the operator in the provider's webhook log, like the API's messages: not translated.
            "The shop has no webhook secret for its email provider (WEBHOOK_SECRET in ANYMAIL): events refused.",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    response: HttpResponse = view(request)
    return response
