from django.urls import path

from shop import two_factor, views

app_name = "shop"

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:merchant_slug>/", views.storefront, name="storefront"),
    path("o/<str:public_token>/", views.order_page, name="order"),
    path("staff/two-factor/", two_factor.two_factor_verify_page, name="two-factor-verify"),
    path("staff/two-factor/setup/", two_factor.two_factor_setup_page, name="two-factor-setup"),
]
