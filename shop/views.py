"""Public pages of the shop: the home page and a merchant's storefront."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from shop.models import Merchant


def home(request: HttpRequest) -> HttpResponse:
    merchants = Merchant.objects.filter(is_active=True).order_by("name")[:20]
    return render(request, "shop/home.html", {"merchants": merchants})


def storefront(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = get_object_or_404(Merchant, slug=merchant_slug, is_active=True)
    return render(request, "shop/storefront.html", {"merchant": merchant})
