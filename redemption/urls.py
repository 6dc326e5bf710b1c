from django.urls import URLPattern, URLResolver

app_name = "redemption"

urlpatterns: list[URLPattern | URLResolver] = []
