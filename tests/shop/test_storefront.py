"""The storefront's order form: every bad input is an error next to its field and writes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shop.models import Order, OrderLine, OrderStatusChange
from tests.factories import MerchantFactory
from tests.shop.factories import ItemProductFactory, VoucherProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return VoucherProductFactory(merchant=MerchantFactory(slug="cafe", time_zone="Europe/Berlin"))


def valid_data(chosen, **changes):
    data = {
        "product": str(chosen.pk),
        "amount": "50",
        "quantity": "1",
        "buyer_name": "Berta Buyer",
        "buyer_email": "berta@example.com",
        "recipient_name": "",
        "recipient_email": "",
        "message": "",
        "send_date": "",
        "language": "en",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def today_in_berlin():
    return timezone.now().astimezone(timezone.get_default_timezone()).date()


def test_storefront_shows_the_products_and_an_accessible_form(client, product):
    response = client.get("/s/cafe/")
    assert response.status_code == 200
    html = response.content.decode()
    assert product.name in html
    assert "€25.00" in html
    assert 'for="id_buyer_email"' in html
    assert 'name="send_date"' in html


def test_a_valid_order_is_created_and_sent_to_checkout(client, product):
    response = client.post(
        "/s/cafe/",
        valid_data(
            product,
            amount="12,50",
            quantity="2",
            send_to_other="on",
            recipient_name="Rita",
            recipient_email="rita@example.com",
            message="Happy birthday!",
            send_date=(today_in_berlin() + timedelta(days=30)).isoformat(),
            language="de",
        ),
    )
    order = Order.objects.get()
    # (307: the browser posts the form again to the checkout, which goes on to Stripe)
    assert response.status_code == 307
    assert response["Location"] == f"/payments/checkout/{order.public_token}/"
    assert (order.total, order.currency, order.locale, order.status) == (2500, "EUR", "de", "pending")
    line = order.lines.get()
    assert (line.unit_amount, line.quantity, line.voucher_value) == (1250, 2, 1250)
    assert (line.recipient_name, line.recipient_email, line.message) == ("Rita", "rita@example.com", "Happy birthday!")
    assert line.send_at is not None
    assert OrderStatusChange.objects.filter(order=order, to_status="pending").count() == 1


def test_an_item_voucher_needs_no_amount(client):
    item = ItemProductFactory(merchant=MerchantFactory(slug="spa"))
    response = client.post("/s/spa/", valid_data(item, amount=""))
    assert response.status_code == 307
    order = Order.objects.get()
    assert order.total == 6900
    assert order.lines.get().voucher_value == 1


def test_recipient_fields_are_ignored_unless_sending_to_someone_else(client, product):
    client.post("/s/cafe/", valid_data(product, recipient_name="Rita", recipient_email="rita@example.com"))
    assert OrderLine.objects.get().recipient_email == ""


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "5"}, "amount", "not offered"),
        ({"amount": "600"}, "amount", "not offered"),
        ({"amount": "12.345"}, "amount", "Enter an amount"),
        ({"amount": "fifty"}, "amount", "Enter an amount"),
        ({"amount": "-10"}, "amount", "above zero"),
        ({"amount": ""}, "amount", "Enter the amount"),
        ({"product": "999999"}, "product", "not on sale"),
        ({"product": ""}, "product", "Choose a voucher"),
        ({"quantity": "0"}, "quantity", "at least one"),
        ({"quantity": "11"}, "quantity", "at most 10"),
        ({"buyer_email": "not-an-email"}, "buyer_email", "valid email"),
        ({"buyer_name": ""}, "buyer_name", "required"),
        (
            {"send_to_other": "on", "recipient_name": "Rita", "recipient_email": "rita@"},
            "recipient_email",
            "valid email",
        ),
        ({"send_to_other": "on", "recipient_email": "rita@example.com"}, "recipient_name", "recipient's name"),
        ({"send_to_other": "on", "recipient_name": "Rita"}, "recipient_email", "recipient's email"),
        ({"message": "x" * 301}, "message", "300 characters"),
        ({"send_date": "2001-01-01"}, "send_date", "today or a later date"),
        ({"send_date": "tomorrow"}, "send_date", "Enter a date"),
        ({"language": "fr"}, "language", "Select a valid choice"),
    ],
)
def test_every_bad_input_is_an_error_next_to_its_field_and_writes_nothing(client, product, changes, field, message):
    response = client.post("/s/cafe/", valid_data(product, **changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    html = response.content.decode()
    # The message is shown beside the field (in its field block, marked for assistive technology)
    assert f'id="id_{field}_error"' in html
    assert 'aria-invalid="true"' in html or field == "product"
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_a_send_date_more_than_a_year_ahead_is_refused(client, product):
    too_late = today_in_berlin() + timedelta(days=400)
    response = client.post("/s/cafe/", valid_data(product, send_date=too_late.isoformat()))
    assert response.status_code == 400
    assert "within a year" in " ".join(response.context["form"].errors["send_date"])
    assert not Order.objects.exists()


def test_another_merchants_product_is_not_on_sale_here(client, product):
    foreign = VoucherProductFactory()
    response = client.post("/s/cafe/", valid_data(product, product=str(foreign.pk)))
    assert response.status_code == 400
    assert "product" in response.context["form"].errors
    assert not Order.objects.exists()


def test_an_inactive_product_is_not_offered(client, product):
    hidden = VoucherProductFactory(merchant=product.merchant, is_active=False, name="Hidden voucher")
    assert "Hidden voucher" not in client.get("/s/cafe/").content.decode()
    response = client.post("/s/cafe/", valid_data(product, product=str(hidden.pk)))
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_the_storefront_speaks_german(client, product, german_catalogues):
    response = client.get("/s/cafe/", headers={"accept-language": "de"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="de">' in html
    assert "25,00" in html
    assert "Weiter zur Zahlung" in html
    assert "Betrag in EUR" in html
    errors = client.post("/s/cafe/", valid_data(product, amount="5"), headers={"accept-language": "de"})
    assert "Dieser Betrag wird für diesen Gutschein nicht angeboten" in errors.content.decode()
