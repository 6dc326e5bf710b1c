"""Payment pages: the checkout hand-over, Stripe's webhook, and the demo checkout used without a Stripe key."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payments import services
from payments.errors import OrderNotPayable, ProviderUnavailable, SignatureInvalid
from shop.models import Order, OrderStatus


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, public_token: str) -> HttpResponse:
    """GET shows the order and a pay button; only its POST (with the CSRF token) creates a Stripe session, so
    link previews, prefetchers and other sites cannot start checkouts."""
    order = (
        Order.objects.select_related("merchant").prefetch_related("lines__product").filter(public_token=public_token)
    ).first()
    if order is None:
        raise Http404
    if request.method == "GET":
        if order.status != OrderStatus.PENDING:
            return HttpResponseRedirect(reverse("shop:order", args=[order.public_token]), status=303)
        context = {"order": order, "merchant": order.merchant, "lines": list(order.lines.all())}
        return render(request, "payments/checkout.html", context)
    try:
        url = services.checkout_start(order_id=order.pk)
    except OrderNotPayable:
        return HttpResponseRedirect(reverse("shop:order", args=[order.public_token]), status=303)
    except ProviderUnavailable:
        return render(request, "payments/unavailable.html", {"order": order}, status=503)
    return HttpResponseRedirect(url, status=303)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store, enqueue, answer: processing happens in a task after the event is committed."""
    try:
        event, created = services.event_receive(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except SignatureInvalid as error:
        return JsonResponse({"error": error.code, "detail": error.message}, status=error.status)
    return JsonResponse({"received": event.stripe_id, "duplicate": not created})


@require_GET
def demo_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    payment = services.demo_payment(session_id=session_id)
    if payment is None:
        raise Http404
    order = payment.order
    return render(
        request,
        "payments/demo_checkout.html",
        {"payment": payment, "order": order, "merchant": order.merchant, "lines": list(order.lines.all())},
    )


@require_POST
def demo_pay(request: HttpRequest, session_id: str) -> HttpResponse:
    try:
        payment = services.demo_pay(session_id=session_id)
    except OrderNotPayable as error:
        raise Http404 from error
    return HttpResponseRedirect(reverse("shop:order", args=[payment.order.public_token]), status=303)
