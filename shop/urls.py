from django.urls import path

from shop import views

app_name = "shop"

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:merchant_slug>/", views.storefront, name="storefront"),
    path("o/<str:public_token>/", views.order_page, name="order"),
]
