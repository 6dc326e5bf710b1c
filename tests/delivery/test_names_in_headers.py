"""Names with line breaks or other control characters: refused when an order is placed, and made harmless in every
email header of rows that already hold them, so their emails still go out (through a real SMTP server)."""

import pytest

from delivery.headers import header_text, unprintable_characters
from delivery.models import DeliveryStatus, Purpose
from delivery.services import delivery_schedule, delivery_send, merchant_alert_send
from shop.errors import InvalidOrderInput
from shop.models import Order
from tests.delivery.helpers import make_merchant, make_voucher, pdf_attachment, pdf_text
from tests.factories import MerchantFactory
from tests.shop.factories import VoucherProductFactory, place_order

pytestmark = pytest.mark.django_db

BAD_NAMES = [
    "Eve\r\nBcc: victim@example.net",
    "Eve\nX-Injected: yes",
    "Eve\rEvil",
    "Eve\x00Null",
    "Eve\tTab",
    "Eve\u2028Separator",
    "Eve\u202eevil",  # right-to-left override: shows other text than it holds
    "Eve\x1bEscape",
]


def storefront_data(product, **changes):  # type: ignore[no-untyped-def]
    data = {
        "product": str(product.pk),
        "amount": "50",
        "quantity": "1",
        "buyer_name": "Berta Buyer",
        "buyer_email": "berta@example.com",
        "language": "en",
    }
    data.update(changes)
    return data


@pytest.fixture
def product():  # type: ignore[no-untyped-def]
    return VoucherProductFactory(merchant=MerchantFactory(slug="cafe"))


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("field", ["buyer_name", "recipient_name"])
def test_the_storefront_refuses_a_name_with_control_characters_next_to_the_field(client, product, field, name):
    # When a buyer posts a name holding a line break or another invisible control character
    data = storefront_data(product, send_to_other="on", recipient_name="Rita", recipient_email="rita@example.com")
    data[field] = name
    response = client.post("/s/cafe/", data)
    # Then the form answers 400 with an error beside that field, and no order is written
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert "line break or other invisible character" in " ".join(errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("name", ["Zoë Åberg-Núñez", "José O'Brien", "خسرو\u200cپور", "王小明", "Anna  Maria"])
def test_names_of_every_script_are_still_welcome(client, product, name):
    response = client.post("/s/cafe/", storefront_data(product, buyer_name=name))
    assert response.status_code == 307
    assert Order.objects.get().buyer_name == name


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("field", ["buyer_name", "recipient_name"])
def test_the_order_service_refuses_such_names_with_a_domain_error(field, name):
    product = VoucherProductFactory()
    values = {"recipient_name": "Rita", "recipient_email": "rita@example.com", field: name}
    with pytest.raises(InvalidOrderInput) as raised:
        place_order(product, **values)
    assert raised.value.field == field
    assert not Order.objects.exists()


@pytest.mark.parametrize("field", ["buyer_email", "recipient_email"])
def test_the_order_service_refuses_an_address_with_a_line_break(field):
    product = VoucherProductFactory()
    values = {"recipient_name": "Rita", "recipient_email": "rita@example.com", field: "a@example.com\r\nBcc: b@x.org"}
    with pytest.raises(InvalidOrderInput) as raised:
        place_order(product, **values)
    assert raised.value.field == field
    assert not Order.objects.exists()


def test_header_text_keeps_what_is_printable_and_turns_the_rest_into_single_spaces():
    assert header_text("Eve\r\nBcc: victim@example.net") == "Eve Bcc: victim@example.net"
    assert header_text("  Zoë\t\x00 Åberg\u2028") == "Zoë Åberg"
    assert header_text("خسرو\u200cپور") == "خسرو\u200cپور"
    assert unprintable_characters("Eve\r\n\u202e") == ["\r", "\n", "\u202e"]
    assert unprintable_characters("Zoë Åberg-Núñez") == []


def test_an_existing_row_with_line_breaks_in_every_name_is_still_sent(smtp, django_capture_on_commit_callbacks):
    # Given rows written before names were checked: the merchant's name, the recipient's and the buyer's all hold
    # line breaks that would start new headers
    merchant = make_merchant(name="Café\r\nX-Merchant: injected")
    voucher = make_voucher(merchant, recipient_name="Anna\nExample")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = delivery_schedule(
            voucher_id=voucher.pk,
            purpose=Purpose.RECIPIENT,
            to_email="anna@example.com",
            to_name="Anna\r\nBcc: victim@example.net",
            buyer_name="Ben\r\nX-Buyer: injected",
            locale="en",
            send_at=None,
        )
    # Then the email went out, once, to the recipient only
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    [message] = smtp.handler.messages
    assert smtp.handler.envelopes[0][1] == ["anna@example.com"]
    # And every name is in its header on one line, with no header of its own
    assert message["To"].addresses[0].display_name == "Anna Bcc: victim@example.net"
    assert message["To"].addresses[0].addr_spec == "anna@example.com"
    assert message["From"].addresses[0].display_name == "Café X-Merchant: injected"
    # (a long encoded subject is folded onto the next line, which the parser reads back with a leading space)
    assert (
        str(message["Subject"]).strip()
        == "Ben X-Buyer: injected sent you a gift voucher from Café X-Merchant: injected"
    )
    for header in ("Bcc", "X-Merchant", "X-Buyer"):
        assert message[header] is None
    # And the PDF still shows the name (where a line break is only white space)
    assert "For Anna Bcc: victim@example.net" in pdf_text(pdf_attachment(message))


def test_a_buyer_copy_of_a_merchant_with_a_line_break_in_its_name_is_sent(smtp, django_capture_on_commit_callbacks):
    voucher = make_voucher(make_merchant(name="Café\u2028Bar\x1b"))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = delivery_schedule(
            voucher_id=voucher.pk,
            purpose=Purpose.BUYER_COPY,
            to_email="ben@example.com",
            to_name="Ben\rBuyer",
            locale="en",
            send_at=None,
        )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT, delivery.last_error
    [message] = smtp.handler.to("ben@example.com")
    assert str(message["Subject"]).strip() == "Your voucher from Café Bar"
    assert message["To"].addresses[0].display_name == "Ben Buyer"


def test_the_merchant_alert_about_such_a_row_is_sent_too(smtp):
    # Given a voucher email refused for good, of a merchant whose name holds a line break
    voucher = make_voucher(make_merchant(name="Café\r\nBar", contact_email="owner@merchant.example"))
    delivery = delivery_schedule(
        voucher_id=voucher.pk,
        purpose=Purpose.RECIPIENT,
        to_email="refused@example.com",
        to_name="Anna\r\nExample",
        locale="en",
        send_at=None,
    )
    delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    # When the merchant is told
    merchant_alert_send(delivery.pk)
    # Then the alert arrives
    [alert] = smtp.handler.to("owner@merchant.example")
    assert "refused@example.com" in str(alert["Subject"])
    delivery.refresh_from_db()
    assert delivery.merchant_notified_at is not None
