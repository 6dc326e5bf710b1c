"""Redemption's pages: the POS page under /pos/ and the API under /api/v1/ (routed by config.api)."""

from django.urls import URLPattern, URLResolver, include, path

from redemption import views

app_name = "redemption"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("config.api")),
    path("pos/", views.pos, name="pos"),
    path("pos/login/", views.PosLoginView.as_view(), name="pos-login"),
    path("pos/logout/", views.pos_logout, name="pos-logout"),
    path("pos/location/", views.pos_location, name="pos-location"),
    path("pos/lookup/", views.pos_lookup, name="pos-lookup"),
    path("pos/redeem/", views.pos_redeem, name="pos-redeem"),
    path("pos/reverse/<int:redemption_id>/", views.pos_reverse, name="pos-reverse"),
]
