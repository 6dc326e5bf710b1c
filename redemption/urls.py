"""Redemption's pages: the POS page under /pos/ and the API under /api/v1/ (routed by config.api)."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "redemption"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("config.api")),
]
