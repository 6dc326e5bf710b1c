"""core.admin: the read-only admin pages and inlines of every app share one mixin each, and stay read-only for
everyone, platform superusers included."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from delivery.admin import DeliveryAttemptInline, DeliveryInline
from payments.models import Payment, StripeEvent
from redemption.models import Hold, Redemption, ThrottleEvent
from shop.admin import OrderLineInline, OrderStatusChangeInline
from vouchers.admin import LedgerInline
from vouchers.models import VoucherTransaction

READ_ONLY_MODELS = (VoucherTransaction, Redemption, Hold, ThrottleEvent, Payment, StripeEvent)


@pytest.fixture
def superuser_request(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    return request


@pytest.mark.django_db
@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda model: model._meta.label)
def test_read_only_pages_refuse_add_change_and_delete_even_to_a_superuser(model, superuser_request, admin_client):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ReadOnlyAdminMixin)
    assert model_admin.has_view_permission(superuser_request)
    assert not model_admin.has_add_permission(superuser_request)
    assert not model_admin.has_change_permission(superuser_request)
    assert not model_admin.has_delete_permission(superuser_request)
    meta = model._meta
    assert admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 403


@pytest.mark.parametrize(
    "inline",
    [LedgerInline, DeliveryAttemptInline, DeliveryInline, OrderLineInline, OrderStatusChangeInline],
    ids=lambda inline: inline.__name__,
)
def test_read_only_inlines_share_one_base(inline):
    assert issubclass(inline, ReadOnlyInline)
    assert (inline.extra, inline.can_delete) == (0, False)
