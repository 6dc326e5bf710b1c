"""The project's URLs: each app mounts its own pages, each app's API routes are mounted under ``/api/v1/``; the admin
and language switch live here."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from merchants.views import moved_admin_page
from redemption import urls as redemption_urls

# The POS pages and the API share the redemption namespace (``redemption:pos``, ``redemption:api-voucher``).
redemption_routes = [*redemption_urls.urlpatterns, path("api/v1/", include("redemption.api_urls"))]

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(
        r"^admin/shop/(?P<model>merchant|location|staffmembership)/(?P<rest>.*)$",
        moved_admin_page,
        name="merchants-moved-admin-page",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("merchants.urls")),
    path("", include("shop.urls")),
    path("", include("vouchers.urls")),
    path("", include("delivery.urls")),
    path("payments/", include("payments.urls")),
    path("", include((redemption_routes, "redemption"))),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
