"""Sending voucher emails through a real SMTP server: content, retries, schedules, the sweeper, failures."""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from delivery.models import Delivery, DeliveryAttempt, DeliveryStatus, EventKind, Purpose
from delivery.services import (
    RETRY_FOR,
    SENDING_STUCK_AFTER,
    deliveries_sweep,
    delivery_resend,
    delivery_schedule,
    delivery_send,
    retry_delay,
    voucher_url,
)
from tests.delivery.helpers import decode_codes, make_merchant, make_voucher, pdf_attachment, pdf_text

pytestmark = pytest.mark.django_db


def schedule(voucher, *, to_email="anna@example.com", send_at=None, purpose=Purpose.RECIPIENT, locale="en"):
    return delivery_schedule(
        voucher_id=voucher.pk,
        purpose=purpose,
        to_email=to_email,
        to_name="Anna Example",
        locale=locale,
        send_at=send_at,
        buyer_name="Ben Buyer",
        message="Happy birthday, Anna!",
    )


def test_recipient_gets_the_email_with_a_pdf_whose_codes_open_the_voucher(smtp, django_capture_on_commit_callbacks):
    # Given a paid voucher of a German merchant
    voucher = make_voucher(make_merchant(locale="de"), value=5000)
    # When its delivery is scheduled for now
    with django_capture_on_commit_callbacks(execute=True):
        delivery = schedule(voucher, locale="de")
    # Then the SMTP server received one email to the recipient, Reply-To the merchant, with text and HTML
    [message] = smtp.handler.to("anna@example.com")
    assert message["Reply-To"] == "owner@merchant.example"
    assert "Ben Buyer" in str(message["Subject"])
    bodies = {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}
    assert voucher_url(voucher.public_token) in bodies["text/plain"]
    assert voucher_url(voucher.public_token) in bodies["text/html"]
    assert "Happy birthday, Anna!" in bodies["text/plain"]
    # And the attached PDF shows the code in groups, the value in the merchant's locale and the recipient
    pdf = pdf_attachment(message)
    text = pdf_text(pdf)
    assert voucher.display_code in text
    assert "50,00 €" in text
    assert "Anna Example" in text
    # And its QR code opens the voucher's page and its barcode is the code
    codes = decode_codes(pdf)
    assert codes["QRCode"] == voucher_url(voucher.public_token)
    assert codes["Code128"] == voucher.code
    # And the row says sent, with one attempt on its timeline
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.provider_message_id == message["Message-ID"]
    assert list(delivery.attempts_log.values_list("kind", flat=True)) == [EventKind.QUEUED, EventKind.SENT]


def test_buyer_copy_is_a_separate_email_and_scheduling_twice_sends_once(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher()
    with django_capture_on_commit_callbacks(execute=True):
        first = schedule(voucher)
        again = schedule(voucher, to_email="someone-else@example.com")
        copy = schedule(voucher, purpose=Purpose.BUYER_COPY, to_email="ben@example.com")
    assert again.pk == first.pk
    assert copy.pk != first.pk
    assert Delivery.objects.filter(voucher=voucher).count() == 2
    assert len(smtp.handler.to("anna@example.com")) == 1
    assert smtp.handler.to("someone-else@example.com") == []
    [buyer_mail] = smtp.handler.to("ben@example.com")
    assert voucher.display_code in pdf_text(pdf_attachment(buyer_mail))


def test_smtp_down_then_up_delivers_every_email_exactly_once(smtp, django_capture_on_commit_callbacks):
    # Given the mail server is down when three vouchers are paid
    merchant = make_merchant()
    vouchers = [make_voucher(merchant) for _ in range(3)]
    smtp.stop()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            deliveries = [schedule(v, to_email=f"r{i}@example.com") for i, v in enumerate(vouchers)]
        # Then each failed once and waits for a retry, nothing arrived
        for delivery in deliveries:
            delivery.refresh_from_db()
            assert delivery.status == DeliveryStatus.FAILED
            assert delivery.next_attempt_at == start + retry_delay(1)
            assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()
        # And the sweeper does not retry before the time
        assert deliveries_sweep(now=timezone.now()) == []
        # When the server comes back and the retry time has come
        smtp.start()
        clock.move_to(start + retry_delay(1) + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            queued = deliveries_sweep()
        assert sorted(queued) == sorted(d.pk for d in deliveries)
        # And the sweeper runs again, any number of times
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_sweep() == []
            assert deliveries_sweep() == []
    # Then every email arrived exactly once, and each row records two attempts
    for i, delivery in enumerate(deliveries):
        assert len(smtp.handler.to(f"r{i}@example.com")) == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempts == 2
        kinds = list(delivery.attempts_log.values_list("kind", flat=True))
        assert kinds == [EventKind.QUEUED, EventKind.TEMPORARY_FAILURE, EventKind.QUEUED, EventKind.SENT]
    assert len(smtp.handler.messages) == 3


def test_temporary_failures_back_off_exponentially_and_stop_after_three_days(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher()
    smtp.stop()
    start = timezone.now()
    waits = []
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            delivery = schedule(voucher)
        delivery.refresh_from_db()
        while delivery.next_attempt_at is not None:
            waits.append(delivery.next_attempt_at - timezone.now())
            clock.move_to(delivery.next_attempt_at)
            with django_capture_on_commit_callbacks(execute=True):
                assert deliveries_sweep() == [delivery.pk]
            delivery.refresh_from_db()
            assert len(waits) < 100, "retries never stopped"
        finished = timezone.now()
    assert waits[:4] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert all(later >= earlier for earlier, later in itertools.pairwise(waits))
    assert finished - start <= RETRY_FOR
    assert finished - start > RETRY_FOR - timedelta(hours=6)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.needs_attention
    assert delivery.attempts == len(waits) + 1
    assert delivery.attempts_log.filter(kind=EventKind.PERMANENT_FAILURE).count() == 1


def test_scheduled_send_waits_for_its_date(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher()
    start = timezone.now()
    send_at = start + timedelta(days=10)
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            delivery = schedule(voucher, send_at=send_at)
            # Before the date: neither the task nor the sweeper sends it
            delivery_send(delivery.pk)
            assert deliveries_sweep() == []
            clock.move_to(send_at - timedelta(seconds=1))
            assert deliveries_sweep() == []
        assert smtp.handler.messages == []
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SCHEDULED
        assert delivery.attempts == 0
        # On the date: the sweeper queues it and it is sent
        clock.move_to(send_at + timedelta(seconds=30))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_sweep() == [delivery.pk]
    assert len(smtp.handler.to("anna@example.com")) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_a_row_in_flight_is_left_alone_until_it_is_stuck(smtp, django_capture_on_commit_callbacks):
    # Given a worker claimed the row and then died (the row says "sending")
    voucher = make_voucher()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        delivery = schedule(voucher)  # no commit callbacks: the Celery message is lost
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=start, attempts=1)
        # Then a duplicate task and the sweeper do nothing while the claim is fresh
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery_send(delivery.pk) is None
            clock.move_to(start + SENDING_STUCK_AFTER - timedelta(seconds=1))
            assert deliveries_sweep() == []
        assert smtp.handler.messages == []
        # When the claim is older than the threshold, the sweeper takes it back and it is sent once
        clock.move_to(start + SENDING_STUCK_AFTER + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_sweep() == [delivery.pk]
            assert deliveries_sweep() == []
    assert len(smtp.handler.messages) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert delivery.attempts_log.filter(kind=EventKind.REQUEUED).count() == 1


def test_a_lost_queue_message_is_recovered_by_the_sweeper(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        delivery = schedule(voucher)  # the on_commit enqueue never runs: a lost message
        assert deliveries_sweep() == []
        clock.move_to(start + timedelta(minutes=6))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_sweep() == [delivery.pk]
    assert len(smtp.handler.messages) == 1


def test_final_rows_are_not_sent_again(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = schedule(voucher)
    assert delivery_send(delivery.pk) is None
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep(now=timezone.now() + timedelta(days=30)) == []
    assert len(smtp.handler.messages) == 1


def test_permanent_failure_stops_and_tells_the_merchant(smtp, django_capture_on_commit_callbacks):
    # Given the recipient's server refuses the address for good (550)
    merchant = make_merchant(contact_email="owner@merchant.example")
    voucher = make_voucher(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = schedule(voucher, to_email="refused@example.com")
    # Then the row failed for good and needs attention
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    assert delivery.needs_attention
    assert "550" in delivery.last_error
    # And the merchant got an email naming the address and the voucher
    [alert] = smtp.handler.to("owner@merchant.example")
    body = alert.get_body(("plain",)).get_content()
    assert "refused@example.com" in body
    assert voucher.display_code in body
    assert delivery.merchant_notified_at is not None
    # And no sweeper retries it
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep(now=timezone.now() + timedelta(days=1)) == []
    assert smtp.handler.to("refused@example.com") == []
    assert delivery.attempts == 1


def test_resend_to_a_corrected_address(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = schedule(voucher, to_email="refused@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        delivery_resend(delivery.pk, to_email="anna@example.com", to_name="Anna")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert not delivery.needs_attention
    assert len(smtp.handler.to("anna@example.com")) == 1
    assert DeliveryAttempt.objects.filter(delivery=delivery, kind=EventKind.RESEND).count() == 1


@pytest.mark.parametrize(
    ("locale", "subject_part", "pdf_part"),
    [("en", "sent you a gift voucher", "Gift voucher"), ("de", "hat Ihnen einen Gutschein", "Gutschein")],
)
def test_email_and_pdf_speak_the_voucher_language(
    smtp, django_capture_on_commit_callbacks, locale, subject_part, pdf_part
):
    voucher = make_voucher(make_merchant(locale=locale))
    with django_capture_on_commit_callbacks(execute=True):
        schedule(voucher, locale=locale)
    [message] = smtp.handler.to("anna@example.com")
    assert subject_part in str(message["Subject"])
    assert pdf_part.lower() in pdf_text(pdf_attachment(message)).lower()


def test_a_4xx_reply_is_retried_and_a_5xx_reply_is_final():
    import smtplib

    import requests
    from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

    from delivery.services import classify_failure

    assert not classify_failure(smtplib.SMTPDataError(451, b"try later")).permanent
    assert not classify_failure(smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"busy")})).permanent
    assert not classify_failure(ConnectionRefusedError()).permanent
    assert not classify_failure(TimeoutError()).permanent
    assert not classify_failure(smtplib.SMTPServerDisconnected()).permanent
    assert classify_failure(smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")})).permanent
    assert classify_failure(smtplib.SMTPDataError(554, b"rejected")).permanent
    assert classify_failure(AnymailRecipientsRefused()).permanent

    def provider_error(status_code: int) -> AnymailAPIError:
        response = requests.Response()
        response.status_code = status_code
        response.reason = "provider said no"
        response._content = b"{}"
        return AnymailAPIError("provider said no", status_code=status_code, response=response)

    assert not classify_failure(provider_error(503)).permanent
    assert not classify_failure(provider_error(429)).permanent
    assert classify_failure(provider_error(422)).permanent


def test_a_server_answering_451_gets_the_email_later(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher()
    smtp.handler.hold = True
    smtp.handler.release.set()  # hold answers 451 at once
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            delivery = schedule(voucher)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
        assert "451" in delivery.last_error
        assert not delivery.needs_attention
        smtp.handler.hold = False
        clock.move_to(delivery.next_attempt_at)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_sweep() == [delivery.pk]
    assert len(smtp.handler.to("anna@example.com")) == 1


def test_retries_count_from_the_first_try_not_from_an_old_send_date(smtp, django_capture_on_commit_callbacks):
    # Given an email due five days ago that nobody could send (an outage), and the mail server is down now
    voucher = make_voucher()
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=5), tick=False):
        delivery = schedule(voucher, send_at=start - timedelta(days=5) + timedelta(minutes=1))
    smtp.stop()
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep() == [delivery.pk]
    # Then the failure is temporary: three days of retries start now
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at == start + retry_delay(1)
    assert not delivery.needs_attention


def test_a_slow_send_taken_back_meanwhile_is_not_sent_twice(smtp, monkeypatch, django_capture_on_commit_callbacks):
    from delivery import emails

    voucher = make_voucher()
    delivery = schedule(voucher)  # queued; its task is run by hand below
    real_send = emails.send_email
    taken_back_at = timezone.now() + timedelta(minutes=11)

    def slow_send(email):  # type: ignore[no-untyped-def]
        # While this worker talks SMTP for too long, the sweeper takes the row back for another worker.
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.QUEUED, claimed_at=taken_back_at)
        return real_send(email)

    monkeypatch.setattr(emails, "send_email", slow_send)
    delivery_send(delivery.pk)
    # The email went out, so the row records it; the queued retry then finds nothing to do
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    monkeypatch.setattr(emails, "send_email", real_send)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_send(delivery.pk) is None
        assert deliveries_sweep(now=taken_back_at + timedelta(hours=1)) == []
    assert len(smtp.handler.to("anna@example.com")) == 1


def test_a_late_result_leaves_a_row_another_worker_is_sending(smtp, monkeypatch):
    from delivery import emails

    voucher = make_voucher()
    delivery = schedule(voucher)
    real_send = emails.send_email
    other_claim = timezone.now() + timedelta(minutes=11)

    def slow_send(email):  # type: ignore[no-untyped-def]
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=other_claim)
        return real_send(email)

    monkeypatch.setattr(emails, "send_email", slow_send)
    delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING
    assert delivery.claimed_at == other_claim
    assert delivery.attempts_log.filter(kind=EventKind.SENT, detail__startswith="late result").count() == 1
