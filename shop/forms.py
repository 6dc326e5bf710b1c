"""The storefront's order form: every bad input becomes an error next to its field, before anything is written."""

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant
from shop.errors import InvalidOrderInput
from shop.models import ProductKind, VoucherProduct
from shop.services import MAX_MESSAGE_LENGTH, MAX_VOUCHERS_PER_ORDER, name_problem, product_line_price, send_at_for
from vouchers.money import format_money, parse_money


def validate_name(value: str) -> None:
    problem = name_problem(value)
    if problem is not None:
        raise forms.ValidationError(problem, code="unprintable")


class ProductChoiceField(forms.ModelChoiceField):
    def __init__(self, *args: Any, locale: str = "en", **kwargs: Any) -> None:
        self.locale = locale
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: VoucherProduct) -> str:
        currency = obj.merchant.currency
        if obj.kind == ProductKind.ITEM:
            price = format_money(obj.item_price or 0, currency, self.locale)
            return f"{obj.name} – {obj.item_quantity} × {obj.item_label}, {price}"
        offers = [format_money(a, currency, self.locale) for a in obj.fixed_amounts or []]
        if obj.custom_amount_min is not None and obj.custom_amount_max is not None:
            low = format_money(obj.custom_amount_min, currency, self.locale)
            high = format_money(obj.custom_amount_max, currency, self.locale)
            offers.append(str(_("any amount from %(low)s to %(high)s") % {"low": low, "high": high}))
        return f"{obj.name} – {', '.join(offers)}"


class OrderForm(forms.Form):
    """Product, amount and quantity, buyer, optional recipient, message, send date and language."""

    product = ProductChoiceField(
        label=_("Voucher"),
        queryset=VoucherProduct.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose a voucher."),
            "invalid_choice": _("This voucher is not on sale here."),
        },
    )
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("For value vouchers: one of the amounts shown above, e.g. 50 or 50.00."),
    )
    quantity = forms.IntegerField(
        label=_("Number of vouchers"),
        min_value=1,
        max_value=MAX_VOUCHERS_PER_ORDER,
        initial=1,
        error_messages={
            "min_value": _("Choose at least one voucher."),
            "max_value": _("Choose at most %(limit_value)s vouchers."),
        },
    )
    buyer_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput({"autocomplete": "name"}),
        validators=[validate_name],
    )
    buyer_email = forms.EmailField(
        label=_("Your email"),
        help_text=_("We send the confirmation here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": _("Enter a valid email address, e.g. name@example.com.")},
    )
    send_to_other = forms.BooleanField(label=_("Send the voucher to someone else"), required=False)
    recipient_name = forms.CharField(
        label=_("Recipient's name"), max_length=200, required=False, validators=[validate_name]
    )
    recipient_email = forms.EmailField(
        label=_("Recipient's email"),
        required=False,
        error_messages={"invalid": _("Enter a valid email address, e.g. name@example.com.")},
    )
    message = forms.CharField(
        label=_("Personal message"),
        required=False,
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed on the voucher. Up to %(limit)s characters.") % {"limit": MAX_MESSAGE_LENGTH},
        error_messages={"max_length": _("Keep the message to %(limit_value)d characters (it has %(show_value)d).")},
    )
    send_date = forms.DateField(
        label=_("Send on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty to send right after payment; or choose a date up to a year ahead."),
        error_messages={"invalid": _("Enter a date, e.g. 2030-12-24.")},
    )
    language = forms.ChoiceField(label=_("Language of the voucher and emails"), choices=settings.LANGUAGES)

    def __init__(self, *args: Any, merchant: Merchant, locale: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        product_field: ProductChoiceField = self.fields["product"]  # type: ignore[assignment]
        product_field.queryset = VoucherProduct.objects.filter(merchant=merchant, is_active=True).select_related(
            "merchant"
        )
        product_field.locale = locale
        self.fields["amount"].label = _("Amount in %(currency)s") % {"currency": merchant.currency}
        self.fields["language"].initial = locale
        self.amount_minor: int | None = None

    def clean_amount(self) -> str:
        text = (self.cleaned_data.get("amount") or "").strip()
        if text:
            try:
                self.amount_minor = parse_money(text, self.merchant.currency, signed=True)
            except ValueError as error:
                raise forms.ValidationError(_("Enter an amount such as 50 or 49.90."), code="invalid_amount") from error
            if self.amount_minor <= 0:
                raise forms.ValidationError(_("Enter an amount above zero."), code="invalid_amount")
        return text

    def clean_send_date(self) -> date | None:
        send_date = self.cleaned_data.get("send_date")
        try:
            send_at_for(merchant=self.merchant, send_date=send_date)
        except InvalidOrderInput as error:
            messages = {
                "past": _("Choose today or a later date."),
                "ahead": _("Choose a date within a year."),
            }
            raise forms.ValidationError(
                messages.get(str(error.details.get("reason")), messages["ahead"]), code="send_date"
            ) from error
        return send_date

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        product = cleaned.get("product")
        if product is not None and "amount" not in self.errors:
            if product.kind == ProductKind.MONETARY and self.amount_minor is None:
                self.add_error("amount", _("Enter the amount of the voucher."))
            elif product.kind == ProductKind.MONETARY:
                try:
                    product_line_price(product=product, amount=self.amount_minor)
                except InvalidOrderInput:
                    self.add_error("amount", _("This amount is not offered for this voucher; see the amounts above."))
        if cleaned.get("send_to_other"):
            if not cleaned.get("recipient_name") and "recipient_name" not in self.errors:
                self.add_error("recipient_name", _("Enter the recipient's name."))
            if not cleaned.get("recipient_email") and "recipient_email" not in self.errors:
                self.add_error("recipient_email", _("Enter the recipient's email."))
        return cleaned
