"""Domain errors of delivery, each with a stable ``code``."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class DeliveryError(DomainError):
    code = "delivery_error"
    default_message: Any = _("The delivery cannot be changed.")


class UnknownPurpose(DeliveryError):
    code = "unknown_purpose"
    default_message = _("A delivery is for the recipient or a copy for the buyer.")


class DeliveryInFlight(DeliveryError):
    """The email is being sent right now by a worker; changing it now could send it twice."""

    code = "in_flight"
    default_message = _("The email is being sent right now; try again in a few minutes.")


class InvalidRecipient(DeliveryError):
    code = "invalid_recipient"
    default_message = _("Enter a valid email address.")


class InvalidName(DeliveryError):
    """A name with a line break or another control character: it cannot go into an email header."""

    code = "invalid_name"
    default_message = _("Enter the name without line breaks or other control characters.")


class PdfRenderError(DeliveryError):
    code = "pdf_render_failed"
    default_message = _("The voucher PDF could not be rendered.")


class PdfRenderTimeout(PdfRenderError):
    code = "pdf_render_timeout"
    default_message = _("Rendering the voucher PDF took too long.")


class AssetRefused(DeliveryError):
    """The PDF asked for a resource outside the bundled assets and the merchant's logo."""

    code = "asset_refused"
    default_message = _("This resource may not be loaded into a voucher PDF.")
