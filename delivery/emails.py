"""The emails of delivery: the voucher email (to the recipient, or the buyer's copy) and the merchant's alert.

Messages are plain ``EmailMultiAlternatives``, which every django-anymail backend and Django's SMTP backend accept;
``EMAIL_URL`` picks the transport. Text is in the delivery's language.
"""

from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from delivery.branding import merchant_colours
from delivery.headers import header_text
from delivery.models import Delivery, Purpose
from delivery.services import voucher_url
from vouchers.selectors import format_value


def _from_address(name: str) -> str:
    _default_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    name = header_text(name)
    return formataddr((name, address)) if name else settings.DEFAULT_FROM_EMAIL


def _to_address(name: str, address: str) -> str:
    name = header_text(name)
    return formataddr((name, address)) if name else address


def _message_id() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


def build_delivery_email(delivery: Delivery) -> EmailMultiAlternatives:
    """The voucher email of ``delivery`` with its PDF attached. Raises PdfRenderError."""
    from delivery.pdf import voucher_pdf_render  # WeasyPrint loads only in processes that render

    voucher = delivery.voucher
    merchant = voucher.merchant
    language = (delivery.locale or merchant.locale or "en")[:2]
    is_copy = delivery.purpose == Purpose.BUYER_COPY
    recipient_name = voucher.recipient_name if is_copy else delivery.to_name
    pdf = voucher_pdf_render(
        voucher,
        recipient_name=recipient_name,
        buyer_name=delivery.buyer_name,
        message=delivery.message,
        locale=language,
    )
    with translation.override(language):
        context = {
            "delivery": delivery,
            "voucher": voucher,
            "merchant": merchant,
            "is_copy": is_copy,
            "to_name": delivery.to_name,
            "recipient_name": recipient_name,
            "buyer_name": delivery.buyer_name,
            "message": delivery.message,
            "value": format_value(voucher, voucher.initial_value, language),
            "display_code": voucher.display_code,
            "url": voucher_url(voucher.public_token),
            "language": language,
            "colours": merchant_colours(merchant),
        }
        # Stored names may predate the checks on input (or be corrected in the admin): a line break in a header
        # would make every attempt fail, so headers get a one-line copy and the body and PDF the name as given.
        merchant_name = header_text(merchant.name)
        buyer_name = header_text(delivery.buyer_name)
        if is_copy:
            subject = _("Your voucher from %(merchant)s") % {"merchant": merchant_name}
        elif buyer_name:
            subject = _("%(buyer)s sent you a gift voucher from %(merchant)s") % {
                "buyer": buyer_name,
                "merchant": merchant_name,
            }
        else:
            subject = _("Your gift voucher from %(merchant)s") % {"merchant": merchant_name}
        text = render_to_string("delivery/email/voucher.txt", context)
        html = render_to_string("delivery/email/voucher.html", context)
        filename = _("voucher") + f"-{voucher.code}.pdf"
    email = EmailMultiAlternatives(
        subject=header_text(subject),
        body=text,
        from_email=_from_address(merchant.name),
        to=[_to_address(delivery.to_name, delivery.to_email)],
        reply_to=[merchant.contact_email] if merchant.contact_email else None,
        headers={"Message-ID": _message_id()},
    )
    email.attach_alternative(html, "text/html")
    email.attach(filename, pdf, "application/pdf")
    return email


def build_merchant_alert(delivery: Delivery) -> EmailMultiAlternatives:
    """The email that tells the merchant a voucher email failed for good or bounced."""
    merchant = delivery.voucher.merchant
    language = (merchant.locale or "en")[:2]
    with translation.override(language):
        context = {
            "delivery": delivery,
            "voucher": delivery.voucher,
            "merchant": merchant,
            "admin_url": f"{settings.BASE_URL}/admin/delivery/delivery/{delivery.pk}/change/",
        }
        subject = _("A voucher email to %(email)s could not be delivered") % {"email": delivery.to_email}
        text = render_to_string("delivery/email/merchant_alert.txt", context)
    return EmailMultiAlternatives(
        subject=header_text(subject),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[merchant.contact_email],
        headers={"Message-ID": _message_id()},
    )


def send_email(email: EmailMultiAlternatives) -> str:
    """Send ``email`` through the configured backend; return the provider's message id (or our Message-ID).
    Raises whatever the backend raises (smtplib and anymail errors, OSError)."""
    sent = email.send(fail_silently=False)
    if not sent:
        raise OSError("the email backend accepted no message")
    status = getattr(email, "anymail_status", None)
    provider_id = getattr(status, "message_id", None) if status is not None else None
    if isinstance(provider_id, str) and provider_id:
        return provider_id
    return str(email.extra_headers.get("Message-ID", ""))
