"""Delivery's URLs: the voucher's public page and PDF, and the email providers' tracking webhooks."""

from django.urls import URLPattern, URLResolver, include, path

from delivery import views

app_name = "delivery"

urlpatterns: list[URLPattern | URLResolver] = [
    path("v/<str:token>/", views.voucher_page, name="voucher"),
    path("v/<str:token>/pdf", views.voucher_pdf, name="voucher_pdf"),
    # Anymail verifies each provider's webhook (basic auth / signature from the ANYMAIL settings) and sends the
    # ``tracking`` signal, which delivery.signals turns into a service call.
    path("delivery/anymail/", include("anymail.urls")),
]
