from django.urls import URLPattern, URLResolver, path

from payments import views

app_name = "payments"

urlpatterns: list[URLPattern | URLResolver] = [
    path("checkout/<str:public_token>/", views.checkout, name="checkout"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("demo/<str:session_id>/", views.demo_checkout, name="demo_checkout"),
    path("demo/<str:session_id>/pay/", views.demo_pay, name="demo_pay"),
]
