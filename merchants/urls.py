from django.urls import path

from merchants import two_factor

app_name = "merchants"

urlpatterns = [
    path("staff/two-factor/", two_factor.two_factor_verify_page, name="two-factor-verify"),
    path("staff/two-factor/setup/", two_factor.two_factor_setup_page, name="two-factor-setup"),
]
