"""Payments' verbs: start a Stripe Checkout for an order, receive Stripe's events, apply them to the order.

Stripe is called over HTTP outside any database transaction (a slow answer must not hold row locks); the
webhook only verifies, stores and enqueues, and the task applies each event once, under a lock on the stored
event, through the shop's order services. Duplicate, late and out-of-order events change nothing a second time.
Without STRIPE_SECRET_KEY the checkout is a local demo page that signs a real event and feeds it to the same
webhook code.
"""

import contextlib
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from payments.errors import (
    EventRejected,
    OrderNotPayable,
    PaymentNotFound,
    ProviderUnavailable,
    RefundNotPossible,
    SignatureInvalid,
)
from payments.models import Payment, StripeEvent
from shop.errors import InvalidOrderTransition
from shop.models import Order, OrderStatus
from shop.selectors import order_unused_value
from shop.services import (
    order_cancel,
    order_dispute_close,
    order_dispute_open,
    order_expire,
    order_fulfil,
    order_mark_paid,
    order_note_add,
    order_refund,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.stripe.com"
# A checkout closes this long after the order was placed (derived from the order, so that a retried session
# creation sends the same parameters under the same idempotency key); the same as ABANDONED_AFTER below.
CHECKOUT_EXPIRES_AFTER = timedelta(hours=2)
# Stripe wants a session to live at least 30 minutes after it is created; the minute more allows for clock skew.
CHECKOUT_SHORTEST = timedelta(minutes=31)
# Orders pending longer than this are asked about at Stripe by the sweeper.
RECONCILE_AFTER = timedelta(minutes=5)
# Orders that never reached a checkout are closed after this long.
ABANDONED_AFTER = CHECKOUT_EXPIRES_AFTER
RECENT_EVENTS = timedelta(days=3)
# An event naming a payment still unknown after this long is not about this shop.
FOREIGN_AFTER = timedelta(hours=1)
HANDLED_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
)


def demo_mode() -> bool:
    """True when no Stripe key is configured: checkout is the local demo page."""
    return not settings.STRIPE_SECRET_KEY


def stripe_configure() -> None:
    """Point the stripe library at our settings (tests point it at a local fake server)."""
    stripe.api_key = settings.STRIPE_SECRET_KEY or None
    stripe.api_base = settings.STRIPE_API_BASE or DEFAULT_API_BASE
    stripe.enable_telemetry = False
    stripe.max_network_retries = 2


def _absolute(path: str) -> str:
    return settings.BASE_URL + path


# ---------------------------------------------------------------------------------------------------------------
# Checkout
# ---------------------------------------------------------------------------------------------------------------


def _session_params(order: Order) -> dict[str, Any]:
    line_items = [
        {
            "price_data": {
                "currency": order.currency.lower(),
                "unit_amount": line.unit_amount,
                "product_data": {"name": line.product.name},
            },
            "quantity": line.quantity,
        }
        for line in order.lines.select_related("product")
    ]
    expires_at = order.created_at + CHECKOUT_EXPIRES_AFTER
    return {
        "mode": "payment",
        "line_items": line_items,
        "client_reference_id": str(order.pk),
        "metadata": {"order_id": str(order.pk), "merchant": order.merchant.slug},
        "payment_intent_data": {"metadata": {"order_id": str(order.pk)}},
        "customer_email": order.buyer_email,
        "success_url": _absolute(reverse("shop:order", args=[order.public_token])),
        "cancel_url": _absolute(reverse("shop:storefront", args=[order.merchant.slug])),
        "expires_at": int(expires_at.timestamp()),
        "locale": order.locale if order.locale in ("de", "en") else "auto",
    }


def checkout_start(*, order_id: int) -> str:
    """Return the URL where the buyer pays order ``order_id``, creating its Checkout Session once.

    Calls Stripe outside any transaction, with parameters derived from the stored order only (the session
    expires CHECKOUT_EXPIRES_AFTER after the order was placed) and an idempotency key derived from them, so a
    repeated or concurrent call gets the same session. Too late for Stripe's shortest session, the order is
    expired instead. Raises OrderNotPayable (unknown order, not pending, checkout closed, too late) and
    ProviderUnavailable (Stripe failed).
    """
    order = Order.objects.select_related("merchant").filter(pk=order_id).first()
    if order is None or order.status != OrderStatus.PENDING:
        raise OrderNotPayable(_("This order cannot be paid (any more)."), order_id=order_id)
    existing = Payment.objects.filter(order=order).first()
    if existing is not None:
        if existing.status != Payment.Status.OPEN:
            raise OrderNotPayable(_("The checkout of this order is closed."), order_id=order_id)
        return existing.checkout_url
    if demo_mode():
        session_id = f"cs_demo_{secrets.token_urlsafe(18)}"
        payment, _created = Payment.objects.get_or_create(
            order=order,
            defaults={
                "session_id": session_id,
                "checkout_url": reverse("payments:demo_checkout", args=[session_id]),
                "amount": order.total,
                "currency": order.currency,
                "is_demo": True,
            },
        )
        return payment.checkout_url

    if order.created_at + CHECKOUT_EXPIRES_AFTER - timezone.now() < CHECKOUT_SHORTEST:
        # Paid or closed meanwhile (InvalidOrderTransition): either way there is nothing to pay.
        with contextlib.suppress(InvalidOrderTransition):
            order_expire(order_id=order.pk, cause="the time to start the checkout ran out")
        raise OrderNotPayable(_("The time to pay this order has run out."), order_id=order_id)

    stripe_configure()
    account = order.merchant.stripe_account or None
    params = _session_params(order)
    # Stripe refuses a key reused with other parameters: the key names them, so it always comes with the same.
    digest = hashlib.sha256(json.dumps([params, account], sort_keys=True).encode()).hexdigest()[:16]
    try:
        session = stripe.checkout.Session.create(
            **params,
            idempotency_key=f"voucher-shop-checkout-{order.pk}-{digest}",
            stripe_account=account,
        )
    except stripe.StripeError as error:
        logger.warning("checkout session for order %s failed: %s", order.pk, error)
        raise ProviderUnavailable(_("The payment provider is not available; please try again.")) from error
    try:
        payment, _created = Payment.objects.get_or_create(
            order=order,
            defaults={
                "session_id": session.id,
                "checkout_url": session.url or "",
                "stripe_account": account or "",
                "amount": session.amount_total if session.amount_total is not None else order.total,
                "currency": (session.currency or order.currency).upper(),
            },
        )
    except IntegrityError:
        # A concurrent call stored the same session (same idempotency key) first.
        payment = Payment.objects.get(order=order)
    return payment.checkout_url


# ---------------------------------------------------------------------------------------------------------------
# Receiving events
# ---------------------------------------------------------------------------------------------------------------


def stripe_key_is_live() -> bool:
    """True when the configured key moves real money (``sk_live_``/``rk_live_``); test keys and the demo are not."""
    return settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))


def _signing_endpoints(payload: bytes, signature: str) -> set[str]:
    """Which of our webhook endpoints signed ``payload``: "account" (the platform's own events, signed with
    STRIPE_WEBHOOK_SECRET) and/or "connect" (connected accounts' events, STRIPE_CONNECT_WEBHOOK_SECRET)."""
    secrets_by_endpoint = (
        ("account", settings.STRIPE_WEBHOOK_SECRET),
        ("connect", settings.STRIPE_CONNECT_WEBHOOK_SECRET),
    )
    endpoints = set()
    for endpoint, secret in secrets_by_endpoint:
        if not secret:
            continue
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
            )
        except (ValueError, stripe.SignatureVerificationError):
            continue
        endpoints.add(endpoint)
    return endpoints


def event_receive(*, payload: bytes, signature: str | None) -> tuple[StripeEvent, bool]:
    """Verify a webhook body against the account endpoint's or the Connect endpoint's signing secret and store
    its event once.

    Returns (event, created); a duplicate is returned with created False and is not processed again. An event
    that is signed but not for this shop (another mode, an account that does not match the endpoint) is stored
    as rejected, with the reason as its outcome, and never applied. Raises SignatureInvalid for a missing, wrong
    or stale signature or a body that is not an event object; nothing is stored then.
    """
    if not signature:
        raise SignatureInvalid("No Stripe-Signature header.")
    endpoints = _signing_endpoints(payload, signature)
    if not endpoints:
        raise SignatureInvalid("The Stripe signature does not match this body.")
    try:
        data = json.loads(payload)
    except ValueError as error:
        raise SignatureInvalid("The body is not JSON.") from error
    if not isinstance(data, dict):
        raise SignatureInvalid("The body is not a Stripe event.")
    account = data.get("account")
    # Events of connected accounts come only through the Connect endpoint, the platform's own only through the
    # account endpoint: a secret never vouches for the other kind.
    needed = "connect" if account else "account"
    refusal = ""
    if needed not in endpoints:
        whose = f"of account {account}" if account else "of the platform account"
        refusal = f"an event {whose} signed with the secret of the {endpoints.pop()} endpoint"
    return event_store(data=data, refusal=refusal)


def _mode_refusal(data: dict[str, Any]) -> str:
    live = stripe_key_is_live()
    if bool(data.get("livemode")) != live:
        return "a test-mode event at a live key" if live else "a live-mode event at a test key"
    return ""


def event_store(*, data: dict[str, Any], account: str | None = None, refusal: str = "") -> tuple[StripeEvent, bool]:
    """Store an event Stripe sent or listed (already authenticated) and enqueue its processing after commit.

    ``account`` is the connected account the event was listed from (its Stripe-Account header); an event naming
    another account is refused. An event refused here (``refusal``, another mode than the key's, an account
    mismatch) is stored as processed with "rejected: <why>" as its outcome and logged, so it can be seen and
    is never applied. Returns (event, created). Raises SignatureInvalid when ``data`` is not an event.
    """
    stripe_id, event_type = data.get("id"), data.get("type")
    if not isinstance(stripe_id, str) or not isinstance(event_type, str) or not stripe_id:
        raise SignatureInvalid("The body is not a Stripe event.")
    event_account = data.get("account")
    if event_account is not None and not isinstance(event_account, str):
        raise SignatureInvalid("The event's account is not an account id.")
    if account is not None:
        if event_account and event_account != account:
            refusal = refusal or f"an event of account {event_account} listed from account {account}"
        event_account = account
    refusal = refusal or _mode_refusal(data)
    existing = StripeEvent.objects.filter(stripe_id=stripe_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = StripeEvent.objects.create(
                stripe_id=stripe_id,
                type=event_type[:100],
                account=(event_account or "")[:255],
                payload=data,
                processed_at=timezone.now() if refusal else None,
                outcome=f"rejected: {refusal}"[:255] if refusal else "",
            )
            if not refusal:
                transaction.on_commit(lambda: _enqueue(event.pk))
    except IntegrityError:
        # The same event arrived concurrently and the other request stored it first.
        return StripeEvent.objects.get(stripe_id=stripe_id), False
    if refusal:
        logger.warning("Stripe event %s (%s) rejected: %s", stripe_id, event_type, refusal)
    return event, True


def _enqueue(event_pk: int) -> None:
    from payments.tasks import process_stripe_event  # tasks import services: break the cycle here

    process_stripe_event.delay(event_pk)


# ---------------------------------------------------------------------------------------------------------------
# Applying events
# ---------------------------------------------------------------------------------------------------------------


def _payment_for_update(*, account: str, **lookup: str) -> Payment:
    """The payment that ``lookup`` names on Stripe ``account`` ("" for the platform's own), locked.

    Raises EventRejected when it belongs to another account (an account names only its own payments), and
    PaymentNotFound when there is none.
    """
    payment = Payment.objects.select_for_update().filter(stripe_account=account, **lookup).first()
    if payment is not None:
        return payment
    owner = Payment.objects.exclude(stripe_account=account).filter(**lookup).values_list("stripe_account", flat=True)
    if owner.exists():
        raise EventRejected(
            f"{'account ' + account if account else 'the platform account'} named a payment of "
            f"{'account ' + owner[0] if owner[0] else 'the platform account'}",
            **lookup,
        )
    raise PaymentNotFound(f"No payment with {lookup} on account {account or 'platform'}.", **lookup)


def session_apply(*, session: dict[str, Any], account: str, cause: str, event_type: str = "") -> str:
    """Bring the order of a Checkout Session of Stripe ``account`` ("" for the platform's own) to what the session
    (or the event about it) says: paid (then fulfilled), expired or failed. Without ``event_type`` (the sweeper)
    the session's own state decides.

    The session is found by its id on that account only (never by the order it claims in its metadata). Runs
    inside the caller's transaction. Returns what happened. Raises PaymentNotFound for an unknown session and
    EventRejected for a session of another account.
    """
    session_id = session.get("id")
    if not isinstance(session_id, str) or not session_id:
        raise PaymentNotFound("The event names no checkout session.")
    payment = _payment_for_update(account=account, session_id=session_id)
    order_id = payment.order_id
    status, payment_status = session.get("status") or "", session.get("payment_status") or ""
    # Never step back: a late "expired" or "unpaid" must not overwrite a completed, paid session.
    if payment.status == Payment.Status.OPEN and status in Payment.Status.values:
        payment.status = status
    if payment.payment_status != "paid" and payment_status:
        payment.payment_status = payment_status
    payment_intent = session.get("payment_intent")
    if payment_intent and not payment.payment_intent_id:
        # A session has one payment intent; once known it is kept, so refunds and disputes find this payment only.
        payment.payment_intent_id = str(payment_intent)[:255]
    payment.save(update_fields=["status", "payment_status", "payment_intent_id", "updated_at"])

    expired = event_type == "checkout.session.expired" or (not event_type and status == "expired")
    failed = event_type == "checkout.session.async_payment_failed"
    if payment_status == "paid" and not (expired or failed):
        order = order_mark_paid(
            order_id=order_id,
            amount=int(session.get("amount_total") or 0),
            currency=str(session.get("currency") or ""),
            cause=cause,
        )
        if order.status == OrderStatus.PAID:
            order = order_fulfil(order_id=order_id, cause=cause)
        return "flagged" if order.needs_attention and order.status == OrderStatus.PENDING else order.status
    try:
        if expired:
            order_expire(order_id=order_id, cause=cause)
            return "expired"
        if failed:
            order_cancel(order_id=order_id, cause=cause)
            return "cancelled"
    except InvalidOrderTransition as error:
        return f"ignored: {error.message}"
    return "awaiting payment"


def _on_session(event: StripeEvent, obj: dict[str, Any]) -> str:
    return session_apply(
        session=obj, account=event.account, cause=f"{event.type} {event.stripe_id}", event_type=event.type
    )


def _order_of_payment_intent(event: StripeEvent, payment_intent: object) -> int:
    if not isinstance(payment_intent, str) or not payment_intent:
        raise PaymentNotFound("The event names no payment intent.")
    # The session's completion may not be applied yet (PaymentNotFound): the task retries.
    return _payment_for_update(account=event.account, payment_intent_id=payment_intent).order_id


def _on_charge_refunded(event: StripeEvent, charge: dict[str, Any]) -> str:
    order_id = _order_of_payment_intent(event, charge.get("payment_intent"))
    order = order_refund(
        order_id=order_id,
        amount_refunded=int(charge.get("amount_refunded") or 0),
        cause=f"{event.type} {event.stripe_id}",
    )
    return f"refunded {order.amount_refunded} of {order.total}"


def _dispute_closed_before(dispute_id: str, *, excluding: int) -> bool:
    return (
        StripeEvent.objects.filter(
            type="charge.dispute.closed", processed_at__isnull=False, payload__data__object__id=dispute_id
        )
        .exclude(pk=excluding)
        .exists()
    )


def _on_dispute_created(event: StripeEvent, dispute: dict[str, Any]) -> str:
    if _dispute_closed_before(str(dispute.get("id")), excluding=event.pk):
        return "ignored: the dispute is already closed"
    order_id = _order_of_payment_intent(event, dispute.get("payment_intent"))
    order_dispute_open(order_id=order_id, cause=f"{event.type} {event.stripe_id}")
    return "disputed"


def _on_dispute_closed(event: StripeEvent, dispute: dict[str, Any]) -> str:
    if _dispute_closed_before(str(dispute.get("id")), excluding=event.pk):
        return "ignored: the dispute is already closed"
    order_id = _order_of_payment_intent(event, dispute.get("payment_intent"))
    cause = f"{event.type} {event.stripe_id}"
    # The "created" event may still be on its way: open first, so the outcome is the same in either order.
    order_dispute_open(order_id=order_id, cause=cause)
    won = dispute.get("status") in ("won", "warning_closed")
    order = order_dispute_close(order_id=order_id, won=won, cause=cause)
    return f"dispute {'won' if won else 'lost'}: {order.status}"


HANDLERS: dict[str, Callable[[StripeEvent, dict[str, Any]], str]] = {
    "checkout.session.completed": _on_session,
    "checkout.session.async_payment_succeeded": _on_session,
    "checkout.session.async_payment_failed": _on_session,
    "checkout.session.expired": _on_session,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
    "charge.dispute.closed": _on_dispute_closed,
}


def event_handle(*, event_pk: int, now: datetime | None = None) -> str:
    """Apply stored event ``event_pk`` once; unknown types are marked ignored. Returns the outcome.

    The event row is locked for the whole change, so concurrent workers given the same event apply it once.
    Raises PaymentNotFound (event arrived before its payment is known) and anything unexpected, after recording
    the error on the event, so the task retries.
    """
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(pk=event_pk)
            if event.processed_at is not None:
                return event.outcome
            handler = HANDLERS.get(event.type)
            obj = (event.payload.get("data") or {}).get("object") or {}
            try:
                outcome = handler(event, obj) if handler else "ignored: unhandled type"
            except EventRejected as rejection:
                logger.warning("Stripe event %s rejected: %s", event.stripe_id, rejection.message)
                outcome = f"rejected: {rejection.message}"
            except PaymentNotFound:
                # Early: the payment it names may not be recorded yet, so retry. Late: it is another
                # integration's payment on the same Stripe account, so let it be.
                if event.received_at > (now or timezone.now()) - FOREIGN_AFTER:
                    raise
                outcome = "ignored: not a payment of this shop"
            event.processed_at = timezone.now()
            event.outcome = outcome[:255]
            event.attempts += 1
            event.error = ""
            event.save(update_fields=["processed_at", "outcome", "attempts", "error"])
            return event.outcome
    except Exception as error:
        StripeEvent.objects.filter(pk=event_pk).update(error=repr(error)[:2000])
        raise


# ---------------------------------------------------------------------------------------------------------------
# The sweeper
# ---------------------------------------------------------------------------------------------------------------


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def payments_reconcile(*, now: datetime | None = None, older_than: timedelta = RECONCILE_AFTER) -> dict[str, int]:
    """Apply what webhooks missed: stored events never processed, Stripe's recent events we never received, the
    sessions of orders pending longer than ``older_than``, paid orders without vouchers, and orders that never
    reached a checkout. Safe to run any time, any number of times. Returns counts of what it did.
    """
    now = now or timezone.now()
    before = now - older_than
    counts = {"events_retried": 0, "events_fetched": 0, "sessions_applied": 0, "fulfilled": 0, "abandoned": 0}

    unprocessed = StripeEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=before, received_at__gte=now - RECENT_EVENTS
    )
    for event_pk in unprocessed.order_by("received_at").values_list("pk", flat=True)[:500]:
        try:
            event_handle(event_pk=event_pk, now=now)
            counts["events_retried"] += 1
        except Exception:
            logger.exception("stored Stripe event %s still fails", event_pk)

    if not demo_mode():
        stripe_configure()
        # The platform's own events, then each connected account's (listed with its Stripe-Account header):
        # a missed Connect webhook is found as surely as a missed platform one.
        accounts = Payment.objects.exclude(stripe_account="").values_list("stripe_account", flat=True).distinct()
        for account in [None, *sorted(accounts)]:
            try:
                listed = stripe.Event.list(
                    created={"gte": int((now - RECENT_EVENTS).timestamp())},
                    types=list(HANDLED_TYPES),
                    limit=100,
                    stripe_account=account,
                )
                for item in listed.auto_paging_iter():
                    _event, created = event_store(data=_as_dict(item), account=account or "")
                    counts["events_fetched"] += int(created)
            except stripe.StripeError as error:
                logger.warning("listing Stripe events of %s failed: %s", account or "the platform account", error)

        pending = Payment.objects.filter(
            is_demo=False,
            order__status=OrderStatus.PENDING,
            order__created_at__lt=before,
            # A flagged order waits for the merchant; asking Stripe again every few minutes would change nothing.
            order__needs_attention=False,
        ).values_list("session_id", "stripe_account")
        for session_id, account in list(pending[:500]):
            try:
                session = stripe.checkout.Session.retrieve(session_id, stripe_account=account or None)
            except stripe.StripeError as error:
                logger.warning("retrieving checkout session %s failed: %s", session_id, error)
                continue
            try:
                with transaction.atomic():
                    outcome = session_apply(
                        session=_as_dict(session),
                        account=account,
                        cause=f"reconciled from checkout session {session_id}",
                    )
            except Exception:
                # One bad order must not stop the sweep; it is logged and tried again next run.
                logger.exception("reconciling checkout session %s failed", session_id)
                continue
            counts["sessions_applied"] += int(outcome != "awaiting payment")

    stuck = Order.objects.filter(status=OrderStatus.PAID, paid_at__lt=before).values_list("pk", flat=True)
    for order_id in list(stuck[:500]):
        try:
            order_fulfil(order_id=order_id, cause="sweeper: paid without vouchers")
        except Exception:
            logger.exception("fulfilling paid order %s failed", order_id)
            continue
        counts["fulfilled"] += 1

    abandoned = Order.objects.filter(
        status=OrderStatus.PENDING, payment__isnull=True, created_at__lt=now - ABANDONED_AFTER
    ).values_list("pk", flat=True)
    for order_id in list(abandoned[:500]):
        try:
            order_expire(order_id=order_id, cause="never reached the checkout")
            counts["abandoned"] += 1
        except InvalidOrderTransition:
            continue
    return counts


# ---------------------------------------------------------------------------------------------------------------
# Refunds started here
# ---------------------------------------------------------------------------------------------------------------


def refund_create(*, order_id: int, amount: int | None = None, reason: str = "", requested_by: str = "") -> str:
    """Ask Stripe to refund ``amount`` minor units of the order's payment (None: the unused value, i.e. what the
    order's vouchers have left).

    More than the unused value (vouchers were used) is refunded only with a ``reason``, which is written into the
    order's log with ``requested_by``; callers let only owners do that. The order and its vouchers change only
    when Stripe's ``charge.refunded`` event arrives, through the same code as a refund made in Stripe's dashboard.
    Calls Stripe outside any transaction with an idempotency key derived from the order and the refunded total,
    so a repeated click refunds once. In demo mode a signed ``charge.refunded`` event is fed to the webhook code
    instead. Returns the refund id. Raises RefundNotPossible (unpaid order, unknown payment, bad amount, nothing
    unused, more than unused without a reason) and ProviderUnavailable.
    """
    order = Order.objects.select_related("merchant").filter(pk=order_id).first()
    payment = Payment.objects.filter(order_id=order_id).first()
    if order is None or payment is None or not payment.payment_intent_id:
        raise RefundNotPossible(_("This order has no payment to refund."), order_id=order_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.FULFILLED):
        raise RefundNotPossible(
            _("An order with status %(status)s cannot be refunded here.") % {"status": order.get_status_display()},
            order_id=order_id,
        )
    remaining = order.total - order.amount_refunded
    unused = order_unused_value(order=order)
    if amount is None:
        if unused <= 0:
            raise RefundNotPossible(_("The vouchers of this order have been used up; nothing is left to refund."))
        amount = unused
    if not 0 < amount <= remaining:
        raise RefundNotPossible(
            _("Refund between 1 and %(remaining)s %(currency)s.")
            % {"remaining": remaining, "currency": order.currency},
            amount=amount,
        )
    reason = " ".join(reason.split())
    if amount > unused:
        if not reason:
            raise RefundNotPossible(
                _("Only %(unused)s %(currency)s of this order is unused; give a reason to refund more.")
                % {"unused": unused, "currency": order.currency},
                amount=amount,
            )
        order_note_add(
            order_id=order.pk,
            note=f"refund of {amount} {order.currency} (unused {unused}) asked by {requested_by or 'unknown'}: "
            f"{reason}",
        )
    refunded_total = order.amount_refunded + amount
    if payment.is_demo:
        charge = {
            "id": f"ch_demo_{payment.pk}",
            "object": "charge",
            "amount": payment.amount,
            "amount_refunded": refunded_total,
            "currency": payment.currency.lower(),
            "payment_intent": payment.payment_intent_id,
            "refunded": refunded_total == payment.amount,
        }
        _demo_send(f"evt_demo_{payment.pk}_refund_{refunded_total}", "charge.refunded", charge)
        return f"re_demo_{payment.pk}_{refunded_total}"
    stripe_configure()
    try:
        refund = stripe.Refund.create(
            payment_intent=payment.payment_intent_id,
            amount=amount,
            metadata={"order_id": str(order.pk)},
            idempotency_key=f"voucher-shop-refund-{order.pk}-{refunded_total}",
            stripe_account=payment.stripe_account or None,
        )
    except stripe.StripeError as error:
        logger.warning("refund for order %s failed: %s", order.pk, error)
        raise ProviderUnavailable(_("The payment provider refused or did not answer; nothing was refunded.")) from error
    return str(refund.id)


# ---------------------------------------------------------------------------------------------------------------
# Demo checkout
# ---------------------------------------------------------------------------------------------------------------


def demo_payment(*, session_id: str) -> Payment | None:
    """The demo payment ``session_id``, or None (also when a real Stripe key is set: no demo then)."""
    if not demo_mode():
        return None
    return Payment.objects.select_related("order__merchant").filter(session_id=session_id, is_demo=True).first()


def demo_pay(*, session_id: str) -> Payment:
    """Pay a demo checkout: sign a ``checkout.session.completed`` event with the webhook secret and feed it to
    ``event_receive``, the webhook's own code, so the demo runs the real path. Paying twice sends the same event
    id, which stops at the duplicate check. Raises OrderNotPayable for an unknown session or outside demo mode.
    """
    payment = demo_payment(session_id=session_id)
    if payment is None:
        raise OrderNotPayable(_("No such demo checkout."), session_id=session_id)
    order = payment.order
    session = {
        "id": payment.session_id,
        "object": "checkout.session",
        "amount_total": payment.amount,
        "currency": payment.currency.lower(),
        "client_reference_id": str(order.pk),
        "metadata": {"order_id": str(order.pk)},
        "customer_email": order.buyer_email,
        "mode": "payment",
        "payment_intent": f"pi_demo_{payment.pk}",
        "payment_status": "paid",
        "status": "complete",
    }
    _demo_send(f"evt_demo_{payment.pk}_completed", "checkout.session.completed", session)
    return payment


def _demo_send(event_id: str, event_type: str, obj: dict[str, Any]) -> None:
    """Sign an event as Stripe would and hand it to the webhook's own code."""
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(timezone.now().timestamp()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET)
    event_receive(payload=payload.encode(), signature=header)
