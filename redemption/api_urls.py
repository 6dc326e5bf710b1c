"""Redemption's API routes, mounted under ``/api/v1/`` by ``config.urls``: vouchers, redemptions and holds, the
OpenAPI schema and its docs page, and a JSON 404 for any other path under ``/api/v1/``."""

from django.urls import URLPattern, URLResolver, path, re_path
from drf_spectacular.views import SpectacularAPIView

from redemption import apis
from redemption.api_docs import ApiDocsView, api_not_found

urlpatterns: list[URLPattern | URLResolver] = [
    path("vouchers/<str:code>", apis.VoucherDetailApi.as_view(), name="api-voucher"),
    path("vouchers/<str:code>/redeem", apis.VoucherRedeemApi.as_view(), name="api-voucher-redeem"),
    path("vouchers/<str:code>/holds", apis.HoldCreateApi.as_view(), name="api-voucher-holds"),
    path("vouchers/<str:code>/transactions", apis.VoucherTransactionsApi.as_view(), name="api-voucher-transactions"),
    path("redemptions/<str:id>/reverse", apis.RedemptionReverseApi.as_view(), name="api-redemption-reverse"),
    path("holds/<str:id>/capture", apis.HoldCaptureApi.as_view(), name="api-hold-capture"),
    path("holds/<str:id>", apis.HoldReleaseApi.as_view(), name="api-hold"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(), name="api-docs"),
    # Anything else under /api/v1/ answers in the API's language, not with an HTML page.
    re_path(r"^.*$", api_not_found),
]
