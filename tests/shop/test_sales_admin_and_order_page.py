"""The product and order admin behind tenant walls, the embeddable button, and the buyer's order page."""

import pytest
from django.urls import reverse

from delivery.models import Delivery
from merchants.models import Role
from shop.models import OrderStatus, VoucherProduct
from shop.services import order_fulfil, order_mark_paid
from tests.factories import MerchantFactory, StaffMembershipFactory
from tests.shop.factories import VoucherProductFactory, place_order
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_shops():
    merchant_a, merchant_b = MerchantFactory(slug="alpha"), MerchantFactory(slug="beta")
    product_a = VoucherProductFactory(merchant=merchant_a, name="Alpha voucher")
    product_b = VoucherProductFactory(merchant=merchant_b, name="Beta voucher")
    return {
        "owner_a": StaffMembershipFactory(merchant=merchant_a, role=Role.OWNER).user,
        "a": merchant_a,
        "product_a": product_a,
        "product_b": product_b,
        "order_a": place_order(product_a),
        "order_b": place_order(product_b, buyer_email="beta-buyer@example.com"),
    }


@pytest.mark.parametrize("view", ["change", "delete", "history"])
@pytest.mark.parametrize("row", ["product_b", "order_b"])
def test_staff_of_a_get_404_for_products_and_orders_of_b(client, two_shops, view, row):
    client.force_login(two_shops["owner_a"])
    obj = two_shops[row]
    response = client.get(reverse(f"admin:shop_{obj._meta.model_name}_{view}", args=[obj.pk]))
    assert response.status_code == 404
    assert b"Beta voucher" not in response.content
    assert b"beta-buyer" not in response.content


def test_changelists_show_only_own_products_and_orders(client, two_shops):
    client.force_login(two_shops["owner_a"])
    products = client.get(reverse("admin:shop_voucherproduct_changelist")).context["cl"].result_list
    orders = client.get(reverse("admin:shop_order_changelist")).context["cl"].result_list
    assert [p.pk for p in products] == [two_shops["product_a"].pk]
    assert [o.pk for o in orders] == [two_shops["order_a"].pk]


def test_an_owner_adds_a_product_only_to_their_merchant(client, two_shops):
    client.force_login(two_shops["owner_a"])
    data = {
        "name": "New voucher",
        "kind": "monetary",
        "fixed_amounts": "[2000]",
        "item_quantity": "1",
        "validity_months": "36",
        "is_active": "on",
        "sort_order": "0",
    }
    foreign = client.post(
        reverse("admin:shop_voucherproduct_add"), {**data, "merchant": two_shops["product_b"].merchant_id}
    )
    assert foreign.status_code == 200
    assert "merchant" in foreign.context["adminform"].form.errors
    own = client.post(reverse("admin:shop_voucherproduct_add"), {**data, "merchant": two_shops["a"].pk})
    assert own.status_code == 302
    assert VoucherProduct.objects.get(name="New voucher").merchant == two_shops["a"]


def test_the_order_admin_cancels_only_own_pending_orders(client, two_shops):
    client.force_login(two_shops["owner_a"])
    client.post(
        reverse("admin:shop_order_changelist"),
        {"action": "cancel_orders", "_selected_action": [two_shops["order_a"].pk, two_shops["order_b"].pk]},
    )
    two_shops["order_a"].refresh_from_db()
    two_shops["order_b"].refresh_from_db()
    assert two_shops["order_a"].status == OrderStatus.CANCELLED
    assert two_shops["order_b"].status == OrderStatus.PENDING


def test_the_merchant_admin_shows_the_buy_a_voucher_snippet(client, two_shops, settings):
    settings.BASE_URL = "https://shop.example"
    client.force_login(two_shops["owner_a"])
    response = client.get(reverse("admin:merchants_merchant_change", args=[two_shops["a"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Buy a voucher" in html
    assert "https://shop.example/s/alpha/" in html


def test_the_order_page_refreshes_until_the_vouchers_are_issued(client, two_shops):
    order = two_shops["order_a"]
    pending = client.get(f"/o/{order.public_token}/")
    assert pending.status_code == 200
    assert 'http-equiv="refresh"' in pending.content.decode()
    assert 'data-status="pending"' in pending.content.decode()
    order_mark_paid(order_id=order.pk, amount=order.total, currency=order.currency, cause="test")
    order_fulfil(order_id=order.pk)
    done = client.get(f"/o/{order.public_token}/")
    html = done.content.decode()
    assert 'http-equiv="refresh"' not in html
    assert 'data-status="fulfilled"' in html
    voucher = Voucher.objects.get(order_line__order=order)
    assert voucher.display_code in html
    assert "berta@example.com" in html


def test_an_unknown_order_token_is_404(client):
    assert client.get("/o/not-a-token/").status_code == 404


def test_a_malformed_brand_colour_never_reaches_the_storefront_order_page_or_snippet(client, two_shops):
    from merchants.admin import merchant_embed_snippet

    merchant = two_shops["a"]
    # Seven characters fit the column on every database, and are enough to break out of a CSS rule.
    merchant.primary_colour = "0}*{a:b"
    merchant.save()
    pages = [
        client.get(f"/s/{merchant.slug}/").content.decode(),
        client.get(f"/o/{two_shops['order_a'].public_token}/").content.decode(),
        merchant_embed_snippet(merchant),
    ]
    for html in pages:
        assert "0}*{a:b" not in html
        assert "#1F6F5C" in html


def test_the_order_and_voucher_admin_show_where_each_email_stands(client, two_shops):
    # Given a paid order whose vouchers were issued and whose emails were recorded
    order = two_shops["order_a"]
    order_mark_paid(order_id=order.pk, amount=order.total, currency=order.currency, cause="test")
    order_fulfil(order_id=order.pk)
    voucher = Voucher.objects.get(order_line__order=order)
    client.force_login(two_shops["owner_a"])
    # When the owner opens the order and the voucher in the admin
    order_html = client.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    voucher_html = client.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk])).content.decode()
    # Then both show each email with its recipient and status, and no other shop's order
    for html in (order_html, voucher_html):
        assert "berta@example.com" in html
        assert "beta-buyer@example.com" not in html
    assert voucher.display_code in order_html
    # The order's lines and status log show for the merchant's owner, who has no model permissions of their own
    assert "Alpha voucher" in order_html
    assert "<td>Paid</td>" in order_html or ">Paid<" in order_html
    deliveries = list(Delivery.objects.filter(voucher=voucher))
    assert deliveries
    for delivery in deliveries:
        assert f"<td>{delivery.get_status_display()}</td>" in order_html
