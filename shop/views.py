"""Public pages of the shop: the home page, a merchant's storefront with its order form, and the order page."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language

from merchants.models import Merchant
from shop import selectors
from shop.errors import InvalidOrderInput, UnknownProduct
from shop.forms import OrderForm
from shop.services import order_create
from shop.throttling import OrderAllowance, order_allowance_check, order_allowance_return, order_allowance_take

# The order page reloads itself this often (seconds) until the order is settled.
ORDER_REFRESH_SECONDS = 3


def home(request: HttpRequest) -> HttpResponse:
    merchants = Merchant.objects.filter(is_active=True).order_by("name")[:20]
    return render(request, "shop/home.html", {"merchants": merchants})


def _too_many_orders(request: HttpRequest, merchant: Merchant, allowance: OrderAllowance) -> HttpResponse:
    minutes = max(1, -(-allowance.retry_after // 60))
    context = {"merchant": merchant, "minutes": minutes}
    response = render(request, "shop/too_many_orders.html", context, status=429)
    response["Retry-After"] = str(allowance.retry_after)
    return response


def storefront(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = get_object_or_404(Merchant, slug=merchant_slug, is_active=True)
    if request.method == "POST" and not (checked := order_allowance_check(request)).allowed:
        return _too_many_orders(request, merchant, checked)
    locale = (get_language() or "en")[:2]
    form = OrderForm(request.POST if request.method == "POST" else None, merchant=merchant, locale=locale)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        other = data["send_to_other"]
        # Taken before the order is written (and given back if it is not), so concurrent posts cannot overshoot.
        allowance = order_allowance_take(request)
        if not allowance.allowed:
            return _too_many_orders(request, merchant, allowance)
        try:
            order = order_create(
                merchant_id=merchant.pk,
                product_id=data["product"].pk,
                amount=form.amount_minor,
                quantity=data["quantity"],
                buyer_name=data["buyer_name"],
                buyer_email=data["buyer_email"],
                recipient_name=data["recipient_name"] if other else "",
                recipient_email=data["recipient_email"] if other else "",
                message=data["message"],
                send_date=data["send_date"],
                locale=data["language"],
            )
        except UnknownProduct:
            order_allowance_return(allowance)
            form.add_error("product", form.fields["product"].error_messages["invalid_choice"])
        except InvalidOrderInput as error:
            order_allowance_return(allowance)
            # The form checks the same rules; this catches a product changed between the two.
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            # Payment is another app's page: the shop hands over by URL, never by import. A 307 makes the browser
            # post this form (and its CSRF token) again to the checkout, which starts only on a POST: the buyer
            # goes on to Stripe in one click, and the checkout's GET page stays for links from emails.
            return HttpResponseRedirect(reverse("payments:checkout", args=[order.public_token]), status=307)
    status = 400 if form.is_bound else 200
    products = selectors.storefront_products(merchant=merchant)
    return render(
        request, "shop/storefront.html", {"merchant": merchant, "form": form, "products": products}, status=status
    )


def _private(response: HttpResponse) -> HttpResponse:
    # The token in the URL is the key to the vouchers' full codes: keep the page out of shared caches, search
    # engines and other sites' Referer logs, as the voucher page does.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def order_page(request: HttpRequest, public_token: str) -> HttpResponse:
    order = selectors.order_by_token(public_token=public_token)
    if order is None:
        return _private(render(request, "shop/order_missing.html", status=404))
    settled = order.status in selectors.SETTLED_STATUSES
    context = {
        "order": order,
        "merchant": order.merchant,
        "lines": list(order.lines.all()),
        "vouchers": selectors.order_vouchers(order=order),
        "settled": settled,
        "refresh_seconds": None if settled else ORDER_REFRESH_SECONDS,
    }
    return _private(render(request, "shop/order.html", context))
