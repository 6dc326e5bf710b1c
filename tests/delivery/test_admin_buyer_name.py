"""Correcting a stored buyer name in the delivery admin: a name with a line break failed every email of the order for
good; a manager types the name once and the emails go out again, through a real SMTP server."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from delivery.errors import InvalidName
from delivery.models import Delivery, DeliveryStatus, Purpose
from delivery.services import delivery_resend, delivery_schedule
from merchants.models import Role
from tests.delivery.helpers import make_merchant, make_voucher
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/delivery/delivery/"
BROKEN = "Ben\r\nBcc: everyone@example.com"


@pytest.fixture
def merchant():
    return make_merchant()


@pytest.fixture
def failed_pair(merchant):
    """The recipient's email and the buyer's copy of one voucher, both failed for good by a broken buyer name
    (stored before names were checked)."""
    voucher = make_voucher(merchant)
    later = timezone.now() + timedelta(days=1)
    common = {"voucher_id": voucher.pk, "locale": "en", "send_at": later, "buyer_name": "Ben", "message": ""}
    recipient = delivery_schedule(purpose=Purpose.RECIPIENT, to_email="anna@example.com", to_name="Anna", **common)
    copy = delivery_schedule(purpose=Purpose.BUYER_COPY, to_email="ben@example.com", to_name="Ben", **common)
    Delivery.objects.filter(pk=recipient.pk).update(buyer_name=BROKEN, status=DeliveryStatus.FAILED)
    Delivery.objects.filter(pk=copy.pk).update(buyer_name=BROKEN, to_name=BROKEN, status=DeliveryStatus.FAILED)
    return recipient, copy


@pytest.fixture
def manager_client(client, merchant):
    client.force_login(StaffMembershipFactory(merchant=merchant, role=Role.MANAGER).user)
    return client


def post_action(client, action, deliveries, **fields):
    return client.post(CHANGELIST, {"action": action, ACTION_CHECKBOX_NAME: [d.pk for d in deliveries], **fields})


def test_the_buyer_name_is_corrected_once_for_every_email_and_they_go_out(
    manager_client, failed_pair, smtp, django_capture_on_commit_callbacks
):
    recipient, copy = failed_pair
    # The action first asks for the name
    page = post_action(manager_client, "correct_buyer_name_and_resend", failed_pair)
    assert page.status_code == 200
    assert b'name="buyer_name"' in page.content
    # Then corrects it on both emails and sends them again
    with django_capture_on_commit_callbacks(execute=True):
        done = post_action(
            manager_client, "correct_buyer_name_and_resend", failed_pair, apply="1", buyer_name=" Ben Buyer "
        )
    assert done.status_code == 302
    recipient.refresh_from_db()
    copy.refresh_from_db()
    assert (recipient.buyer_name, recipient.to_name, recipient.status) == ("Ben Buyer", "Anna", DeliveryStatus.SENT)
    assert (copy.buyer_name, copy.to_name, copy.status) == ("Ben Buyer", "Ben Buyer", DeliveryStatus.SENT)
    [to_anna] = smtp.handler.to("anna@example.com")
    assert "Ben Buyer" in str(to_anna["Subject"])
    [to_ben] = smtp.handler.to("ben@example.com")
    assert str(to_ben["To"]) == "Ben Buyer <ben@example.com>"
    assert "everyone@example.com" not in str(smtp.handler.envelopes)


@pytest.mark.parametrize("typed", ["Ben\nBuyer", "Ben\rBuyer", "Ben\x00Buyer", "Ben\u2028Buyer"])
def test_a_name_with_a_control_character_is_refused_on_the_form(
    manager_client, failed_pair, typed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = post_action(manager_client, "correct_buyer_name_and_resend", failed_pair, apply="1", buyer_name=typed)
    assert page.status_code == 200
    expected = "Null characters are not allowed." if "\x00" in typed else "Enter the name without line breaks"
    assert expected in page.context["form"].errors["buyer_name"][0]
    assert callbacks == []
    assert set(Delivery.objects.values_list("buyer_name", "status")) == {(BROKEN, DeliveryStatus.FAILED)}


def test_change_recipient_also_corrects_the_buyer_name(manager_client, failed_pair, django_capture_on_commit_callbacks):
    recipient, _copy = failed_pair
    form = post_action(manager_client, "change_recipient_and_resend", [recipient])
    assert form.context["form"].initial["buyer_name"] == BROKEN
    refused = post_action(
        manager_client,
        "change_recipient_and_resend",
        [recipient],
        apply="1",
        to_email="anna@example.com",
        to_name="Anna\nX",
        buyer_name="Ben Buyer",
    )
    assert "to_name" in refused.context["form"].errors
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_action(
            manager_client,
            "change_recipient_and_resend",
            [recipient],
            apply="1",
            to_email="anna@example.com",
            to_name="Anna",
            buyer_name="Ben Buyer",
        )
    assert len(callbacks) == 1
    recipient.refresh_from_db()
    assert (recipient.buyer_name, recipient.status) == ("Ben Buyer", DeliveryStatus.QUEUED)


def test_the_service_refuses_a_name_with_a_line_break(failed_pair):
    recipient, _copy = failed_pair
    with pytest.raises(InvalidName):
        delivery_resend(recipient.pk, buyer_name="Ben\r\nBuyer")
    with pytest.raises(InvalidName):
        delivery_resend(recipient.pk, to_name="Anna\n")
    recipient.refresh_from_db()
    assert recipient.status == DeliveryStatus.FAILED
