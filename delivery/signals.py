"""Receivers of signals from outside the app: anymail's tracking events become delivery_track calls."""

from typing import Any

from delivery.services import delivery_track


def on_anymail_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    delivery_track(
        message_id=str(event.message_id or ""),
        event_type=str(event.event_type or ""),
        description=str(event.description or event.mta_response or event.reject_reason or ""),
    )
