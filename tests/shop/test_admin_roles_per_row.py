"""Admin permissions are decided by the user's role at each row's merchant, never by a role held elsewhere.

The users here hold different roles at two merchants: a manager at Alpha who is a cashier at Beta, and an owner at
Alpha who is a manager at Beta. Every action and page on Beta's rows answers to the Beta role only.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from delivery.models import Delivery, DeliveryStatus, EventKind, Purpose
from delivery.services import delivery_schedule
from merchants.models import Merchant, Role, StaffMembership
from payments.models import Payment
from redemption.models import ApiToken, Scope
from redemption.services import api_token_create
from shop.models import OrderStatus
from tests.factories import MerchantFactory, StaffMembershipFactory, UserFactory
from tests.payments.helpers import checkout, fake_stripe, send  # noqa: F401  (fixtures)
from tests.shop.factories import VoucherProductFactory, place_order
from vouchers.models import VoucherStatus
from vouchers.services import voucher_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha() -> Merchant:
    return MerchantFactory(slug="alpha", name="Alpha")


@pytest.fixture
def beta() -> Merchant:
    return MerchantFactory(slug="beta", name="Beta")


def user_with(*roles: tuple[Merchant, str]):
    """A user holding each (merchant, role); staff, as a manager's or owner's login is."""
    user = UserFactory(is_staff=True)
    for merchant, role in roles:
        StaffMembershipFactory(user=user, merchant=merchant, role=role)
    return user


@pytest.fixture
def manager_a_cashier_b(alpha, beta):
    return user_with((alpha, Role.MANAGER), (beta, Role.CASHIER))


@pytest.fixture
def owner_a_manager_b(alpha, beta):
    return user_with((alpha, Role.OWNER), (beta, Role.MANAGER))


def failed_delivery(merchant: Merchant, to_email: str) -> Delivery:
    voucher = voucher_issue(merchant_id=merchant.pk, value=5000, recipient_name="Rita")
    delivery = delivery_schedule(
        voucher_id=voucher.pk,
        purpose=Purpose.RECIPIENT,
        to_email=to_email,
        to_name="Rita",
        locale="en",
        send_at=timezone.now() + timedelta(days=1),
    )
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, needs_attention=True)
    delivery.refresh_from_db()
    return delivery


def act(client, changelist: str, action: str, rows, **fields):
    data = {"action": action, ACTION_CHECKBOX_NAME: [row.pk for row in rows], "select_across": "0", **fields}
    return client.post(reverse(changelist), data)


def error_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


# -- a manager at Alpha who is a cashier at Beta ---------------------------------------------------------------------


def test_change_recipient_of_a_merchant_where_one_is_cashier_changes_nothing(
    client, beta, manager_a_cashier_b, django_capture_on_commit_callbacks
):
    # Given Beta's voucher email, and a manager at Alpha who is only a cashier at Beta
    delivery = failed_delivery(beta, "rita@example.com")
    client.force_login(manager_a_cashier_b)
    # When he redirects Beta's voucher email to himself
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = act(client, "admin:delivery_delivery_changelist", "change_recipient_and_resend", [delivery])
        second = act(
            client,
            "admin:delivery_delivery_changelist",
            "change_recipient_and_resend",
            [delivery],
            apply="1",
            to_email="thief@example.com",
            to_name="Thief",
        )
    # Then no form was offered, nothing was queued and the address is unchanged
    assert b"thief" not in first.content
    assert b'name="to_email"' not in first.content
    assert second.status_code == 302
    assert callbacks == []
    delivery.refresh_from_db()
    assert (delivery.to_email, delivery.status) == ("rita@example.com", DeliveryStatus.FAILED)
    assert not delivery.attempts_log.filter(kind=EventKind.RESEND).exists()


def test_resend_and_cancel_on_a_merchant_where_one_is_cashier_change_nothing(client, beta, manager_a_cashier_b):
    delivery = failed_delivery(beta, "rita@example.com")
    order = place_order(VoucherProductFactory(merchant=beta))
    client.force_login(manager_a_cashier_b)

    act(client, "admin:delivery_delivery_changelist", "resend", [delivery])
    act(client, "admin:shop_order_changelist", "cancel_orders", [order])

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert not delivery.attempts_log.filter(kind=EventKind.RESEND).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_cashier_role_shows_no_rows_or_pages_of_that_merchant(client, alpha, beta, manager_a_cashier_b):
    voucher_a = voucher_issue(merchant_id=alpha.pk, value=5000)
    voucher_b = voucher_issue(merchant_id=beta.pk, value=7000)
    delivery_b = failed_delivery(beta, "rita@example.com")
    client.force_login(manager_a_cashier_b)

    listing = client.get(reverse("admin:vouchers_voucher_changelist"))
    assert [row.pk for row in listing.context["cl"].result_list] == [voucher_a.pk]
    assert voucher_b.display_code.encode() not in listing.content
    assert client.get(reverse("admin:vouchers_voucher_change", args=[voucher_b.pk])).status_code == 404
    assert client.get(reverse("admin:delivery_delivery_change", args=[delivery_b.pk])).status_code == 404
    assert b"rita@example.com" not in client.get(reverse("admin:delivery_delivery_changelist")).content

    act(client, "admin:vouchers_voucher_changelist", "void_vouchers", [voucher_b], apply="1", reason="mine now")
    voucher_b.refresh_from_db()
    assert voucher_b.status == VoucherStatus.ACTIVE


def test_the_same_user_still_acts_on_rows_of_the_merchant_he_manages(
    client, alpha, manager_a_cashier_b, django_capture_on_commit_callbacks
):
    delivery = failed_delivery(alpha, "anna@example.com")
    client.force_login(manager_a_cashier_b)
    with django_capture_on_commit_callbacks(execute=False):
        act(client, "admin:delivery_delivery_changelist", "resend", [delivery])
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED


# -- an owner at Alpha who is a manager at Beta ----------------------------------------------------------------------


def test_deleting_staff_of_a_merchant_one_only_manages_is_refused_with_a_message(
    client, alpha, beta, owner_a_manager_b
):
    staff_a = StaffMembershipFactory(merchant=alpha, role=Role.CASHIER)
    staff_b = StaffMembershipFactory(merchant=beta, role=Role.CASHIER)
    client.force_login(owner_a_manager_b)

    response = act(
        client, "admin:merchants_staffmembership_changelist", "delete_selected", [staff_a, staff_b], post="yes"
    )

    assert response.status_code == 302
    assert any("Beta" in text for text in error_messages(response))
    # Not half-done: Alpha's row, which alone would have been allowed, is still there too
    assert StaffMembership.objects.filter(pk__in=[staff_a.pk, staff_b.pk]).count() == 2


@pytest.fixture
def paid_payments(alpha, beta, fake_stripe, send):  # noqa: F811
    """One paid and fulfilled order at Alpha and one at Beta, through the webhook; their payments."""
    payments = []
    for merchant in (alpha, beta):
        order = place_order(VoucherProductFactory(merchant=merchant))
        session = fake_stripe.complete(checkout(order))
        send(fake_stripe.event("checkout.session.completed", session))
        payments.append(Payment.objects.get(order=order))
    return payments


def test_refunding_a_mixed_selection_refunds_nothing_and_says_why(
    client,
    owner_a_manager_b,
    paid_payments,
    fake_stripe,  # noqa: F811
):
    payments = paid_payments
    client.force_login(owner_a_manager_b)

    response = act(client, "admin:payments_payment_changelist", "refund_in_full", payments)

    assert fake_stripe.refunds == []
    assert any("Beta" in text for text in error_messages(response))
    for payment in payments:
        payment.order.refresh_from_db()
        assert payment.order.status == OrderStatus.FULFILLED


def test_a_manager_role_gives_a_read_only_merchant_page(client, beta, owner_a_manager_b):
    client.force_login(owner_a_manager_b)
    url = reverse("admin:merchants_merchant_change", args=[beta.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="name"' not in page.content
    assert client.post(url, {"name": "Taken over", "locale": "en", "time_zone": "UTC"}).status_code == 403
    beta.refresh_from_db()
    assert beta.name == "Beta"


def test_a_manager_role_still_revokes_that_merchants_tokens(client, beta, owner_a_manager_b):
    token, _secret = api_token_create(merchant_id=beta.pk, name="Till", scopes=[Scope.VOUCHERS_READ])
    client.force_login(owner_a_manager_b)
    act(client, "admin:redemption_apitoken_changelist", "revoke", [token])
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
