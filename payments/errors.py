"""Domain errors of payments, each with a stable code that views turn into 4xx answers."""

from http import HTTPStatus

from core.errors import DomainError


class PaymentError(DomainError):
    code = "payment_error"


class SignatureInvalid(PaymentError):
    """The webhook body is not signed with our secret, the signature is stale, or the body is not an event."""

    code = "signature_invalid"
    status = HTTPStatus.BAD_REQUEST


class OrderNotPayable(PaymentError):
    code = "order_not_payable"


class ProviderUnavailable(PaymentError):
    """Stripe did not answer or refused the request; the buyer may try again."""

    code = "provider_unavailable"


class PaymentNotFound(PaymentError):
    """An event names a payment we do not know (yet): retried, since events may arrive before the session is
    stored."""

    code = "payment_not_found"


class EventRejected(PaymentError):
    """A signed event that must not change this shop: it names a payment of another Stripe account."""

    code = "event_rejected"


class RefundNotPossible(PaymentError):
    code = "refund_not_possible"
