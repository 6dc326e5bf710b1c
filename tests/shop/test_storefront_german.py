"""A storefront error raised by the shop's services is shown in the customer's language next to its field."""

import pytest

from shop.models import Order
from tests.factories import MerchantFactory
from tests.shop.factories import ItemProductFactory

pytestmark = pytest.mark.django_db


def test_an_error_from_the_order_service_is_shown_in_german_next_to_its_field(client):
    # An item voucher without a price passes the form and is refused by shop.services.order_create.
    product = ItemProductFactory(merchant=MerchantFactory(slug="cafe"), item_price=None)
    data = {
        "product": str(product.pk),
        "amount": "",
        "quantity": "1",
        "buyer_name": "Berta Buyer",
        "buyer_email": "berta@example.com",
        "message": "",
        "send_date": "",
        "language": "de",
    }
    response = client.post("/s/cafe/", data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    expected = "Für diesen Gutschein ist noch kein Preis festgelegt."
    assert response.context["form"].errors["product"] == [expected]
    html = response.content.decode()
    field_error = html[html.index('id="id_product_error"') :]
    assert expected in field_error[: field_error.index("</")]
    assert not Order.objects.exists()
