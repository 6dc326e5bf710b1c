"""Payments in the admin: a merchant's staff see only their own payments; raw Stripe events are platform-only."""

import pytest
from django.urls import reverse

from merchants.models import Role
from tests.factories import MerchantFactory, StaffMembershipFactory
from tests.payments.helpers import checkout
from tests.shop.factories import VoucherProductFactory, place_order

pytestmark = pytest.mark.django_db


def test_staff_of_a_see_only_their_payments_and_no_stripe_events(client, demo_mode, send):
    merchant_a, merchant_b = MerchantFactory(), MerchantFactory()
    owner_a = StaffMembershipFactory(merchant=merchant_a, role=Role.OWNER).user
    order_a = place_order(VoucherProductFactory(merchant=merchant_a))
    order_b = place_order(VoucherProductFactory(merchant=merchant_b))
    checkout(order_a)
    checkout(order_b)
    client.force_login(owner_a)
    listed = client.get(reverse("admin:payments_payment_changelist")).context["cl"].result_list
    assert [p.order_id for p in listed] == [order_a.pk]
    payment_b = order_b.payment
    assert client.get(reverse("admin:payments_payment_change", args=[payment_b.pk])).status_code == 404
    assert client.get(reverse("admin:payments_stripeevent_changelist")).status_code == 403
