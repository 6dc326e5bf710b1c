"""Redemption's pages: the POS page under /pos/. Its API routes are in ``redemption.api_urls``; ``config.urls``
mounts both in the ``redemption`` namespace (``redemption:pos``, ``redemption:api-voucher``)."""

from django.urls import URLPattern, URLResolver, path

from redemption import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("pos/", views.pos, name="pos"),
    path("pos/login/", views.PosLoginView.as_view(), name="pos-login"),
    path("pos/logout/", views.pos_logout, name="pos-logout"),
    path("pos/location/", views.pos_location, name="pos-location"),
    path("pos/lookup/", views.pos_lookup, name="pos-lookup"),
    path("pos/redeem/", views.pos_redeem, name="pos-redeem"),
    path("pos/reverse/<int:redemption_id>/", views.pos_reverse, name="pos-reverse"),
]
