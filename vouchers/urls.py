from django.urls import URLPattern, URLResolver

app_name = "vouchers"

urlpatterns: list[URLPattern | URLResolver] = []
