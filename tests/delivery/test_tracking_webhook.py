"""The email provider's tracking webhook: only the configured provider's endpoint answers, and only to requests
with the configured webhook secret; a forged event changes nothing."""

import base64
import json

import pytest
from django.test import override_settings

from delivery.models import DeliveryStatus, EventKind
from tests.delivery.helpers import make_merchant, make_voucher
from tests.delivery.test_pages_admin_tracking import sent_delivery

pytestmark = pytest.mark.django_db

POSTMARK = "anymail.backends.postmark.EmailBackend"
SECRET = "tracker:k3Yq8vN2pL5xR9wT"
CONFIGURED = {"EMAIL_BACKEND": POSTMARK, "ANYMAIL": {"POSTMARK_SERVER_TOKEN": "pm-token", "WEBHOOK_SECRET": SECRET}}
URL = "/delivery/anymail/postmark/tracking/"


def basic_auth(credentials: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def bounce(message_id: str) -> str:
    return json.dumps(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "MessageID": message_id,
            "Email": "fine@example.com",
            "Description": "The server was unable to deliver your message",
            "BouncedAt": "2026-12-05T08:00:00Z",
        }
    )


@pytest.fixture
def delivered():
    delivery = sent_delivery(make_voucher(make_merchant()), to_email="fine@example.com")
    delivery.status = DeliveryStatus.DELIVERED
    delivery.provider_message_id = "883953f4-6105-42a2-a16a-77a8eac79483"
    delivery.save()
    return delivery


def assert_unchanged(delivery) -> None:
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert not delivery.needs_attention
    assert not delivery.attempts_log.filter(kind=EventKind.BOUNCED).exists()


@pytest.mark.parametrize("auth", [{}, basic_auth("tracker:wrong-password"), basic_auth("someone:" + SECRET)])
def test_a_forged_bounce_without_the_secret_is_rejected_and_changes_nothing(client, delivered, auth):
    with override_settings(**CONFIGURED):
        response = client.post(URL, data=bounce(delivered.provider_message_id), content_type="application/json", **auth)
    assert response.status_code == 400
    assert_unchanged(delivered)


def test_without_a_configured_secret_every_event_is_refused(client, delivered):
    with override_settings(EMAIL_BACKEND=POSTMARK, ANYMAIL={"POSTMARK_SERVER_TOKEN": "pm-token"}):
        response = client.post(URL, data=bounce(delivered.provider_message_id), content_type="application/json")
    assert response.status_code == 403
    assert "WEBHOOK_SECRET" in response.content.decode()
    assert_unchanged(delivered)


@pytest.mark.parametrize(
    "path",
    [
        "/delivery/anymail/mailgun/tracking/",
        "/delivery/anymail/sendgrid/tracking/",
        "/delivery/anymail/mandrill/tracking/",
        "/delivery/anymail/postmark/inbound/",
        "/delivery/anymail/mailgun/inbound/",
        "/delivery/anymail/mandrill/",
    ],
)
def test_other_providers_endpoints_are_not_mounted(client, delivered, path):
    with override_settings(**CONFIGURED):
        response = client.post(
            path, data=bounce(delivered.provider_message_id), content_type="application/json", **basic_auth(SECRET)
        )
    assert response.status_code == 404
    assert_unchanged(delivered)


def test_no_tracking_endpoint_when_email_does_not_go_through_a_provider(client, delivered):
    # The test settings send through Django's in-memory backend, like SMTP or files in other set-ups.
    response = client.post(
        URL, data=bounce(delivered.provider_message_id), content_type="application/json", **basic_auth(SECRET)
    )
    assert response.status_code == 404
    assert_unchanged(delivered)


def test_the_providers_event_with_the_secret_is_applied(client, delivered, mailoutbox):
    with override_settings(**CONFIGURED):
        response = client.post(
            URL, data=bounce(delivered.provider_message_id), content_type="application/json", **basic_auth(SECRET)
        )
    assert response.status_code == 200
    delivered.refresh_from_db()
    assert delivered.status == DeliveryStatus.BOUNCED
    assert delivered.needs_attention
    assert delivered.attempts_log.filter(kind=EventKind.BOUNCED).count() == 1
