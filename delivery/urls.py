"""Delivery's URLs: the voucher's public page and PDF, and the email providers' tracking webhooks."""

from django.urls import URLPattern, URLResolver, path

from delivery import tracking_views, views

app_name = "delivery"

urlpatterns: list[URLPattern | URLResolver] = [
    path("v/<str:token>/", views.voucher_page, name="voucher"),
    path("v/<str:token>/pdf", views.voucher_pdf, name="voucher_pdf"),
    # Only the provider email goes out through answers (others 404); anymail checks the basic auth and the
    # provider's signature and sends the ``tracking`` signal, which delivery.signals turns into a service call.
    path("delivery/anymail/<str:esp>/tracking/", tracking_views.email_tracking_webhook, name="email_tracking"),
]
