"""Forms of the orders app. They check what a form can check alone; the services check quantities
against the order under a row lock and raise ValidationError, which the views put back on the form."""

from typing import cast

from django import forms
from django.conf import settings
from django.utils import timezone

from orders.mapping import SHIP_DATE_MAX_DAYS_AHEAD, ship_date_error
from orders.models import CancellationReason, MethodCode, Order, OrderLine, OrderSettings
from walmart_client.enums import CARRIERS

OTHER_CARRIER = "__other__"
WALMART_CARRIERS = sorted(CARRIERS, key=str.lower)


def carrier_choices(carrier_mapping: dict[str, str]) -> list:
    """Mapped merchant carriers first (value: the Walmart carrier), then Walmart's own carriers, then
    "Other carrier" (sent as otherCarrier with a tracking URL)."""
    mapped = sorted(
        ((walmart, f"{merchant} (Walmart: {walmart})") for walmart, merchant in carrier_mapping.items() if merchant),
        key=lambda choice: choice[1].lower(),
    )
    choices: list = [("", "Choose a carrier")]
    if mapped:
        choices.append(("Your carriers", mapped))
    choices.append(("Walmart carriers", [(carrier, carrier) for carrier in WALMART_CARRIERS]))
    choices.append((OTHER_CARRIER, "Other carrier"))
    return choices


class LineQuantitiesMixin(forms.Form):
    """One quantity field per line, named quantity_<line id>, limited to what remains."""

    def add_line_fields(self, lines: list[OrderLine], remaining: dict[int, int], initial_all: bool) -> None:
        self.lines = lines
        for line in lines:
            left = remaining.get(line.pk, 0)
            label = f"Line {line.line_number} {line.sku}"
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=label,
                widget=forms.NumberInput(attrs={"aria-label": label, "min": 0, "max": left}),
                min_value=0,
                max_value=left,
                required=False,
                initial=left if initial_all else 0,
                disabled=left == 0,
                error_messages={"max_value": f"Only {left} left on line {line.line_number}."},
            )

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data.get(f"quantity_{line.pk}") or 0
            for line in self.lines
            if not self.fields[f"quantity_{line.pk}"].disabled
        }

    def line_rows(self):
        return [(line, self[f"quantity_{line.pk}"]) for line in self.lines]


class ShipForm(LineQuantitiesMixin, forms.Form):
    carrier = forms.ChoiceField(label="Carrier")
    other_carrier = forms.CharField(label="Other carrier name", max_length=100, required=False)
    tracking_url = forms.URLField(label="Tracking URL", max_length=500, required=False, assume_scheme="https")
    tracking_number = forms.CharField(label="Tracking number", max_length=100)
    method_code = forms.ChoiceField(label="Ship method", choices=MethodCode.choices)
    ship_date = forms.DateTimeField(
        label="Ship date", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )

    def __init__(
        self,
        *args,
        order: Order,
        lines: list[OrderLine],
        remaining: dict[int, int],
        carrier_mapping: dict[str, str],
        **kwargs,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.carrier_mapping = carrier_mapping
        self.order = order
        cast(forms.ChoiceField, self.fields["carrier"]).choices = carrier_choices(carrier_mapping)
        self.fields["method_code"].initial = order.method_code if order.method_code in MethodCode.values else None
        self.fields["ship_date"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.add_line_fields(lines, remaining, initial_all=True)
        # The shipment's own fields (carrier, tracking, ...), shown above the lines. Not `order_fields`: that
        # name is Form's method that reorders the fields.
        self.shipment_fields = list(self.fields)[:6]
        if any(line.intent_to_cancel for line in lines):
            self.fields["intent_to_cancel_override"] = forms.BooleanField(
                label="Ship anyway; the customer asked to cancel",
                required=False,
                help_text="Sends Walmart's intent-to-cancel override for the lines the customer asked to cancel.",
            )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("carrier") == OTHER_CARRIER:
            if not cleaned.get("other_carrier", "").strip():
                self.add_error("other_carrier", "Enter the carrier's name (it is not one of Walmart's carriers).")
            if not cleaned.get("tracking_url"):
                self.add_error("tracking_url", "Walmart requires a tracking URL for a carrier that is not its own.")
        if not any(cleaned.get(f"quantity_{line.pk}") for line in self.lines):
            raise forms.ValidationError("Choose at least one line and a quantity to ship.")
        return cleaned

    def clean_ship_date(self):
        value = self.cleaned_data["ship_date"]
        error = ship_date_error(
            ship_date=value,
            ordered_at=self.order.order_date,
            now=timezone.now(),
            days_ahead=getattr(settings, "ORDERS_SHIP_DATE_MAX_DAYS_AHEAD", SHIP_DATE_MAX_DAYS_AHEAD),
        )
        if error:
            raise forms.ValidationError(error)
        return value

    def service_arguments(self) -> dict:
        carrier = self.cleaned_data["carrier"]
        return {
            "quantities": self.quantities(),
            "carrier": "" if carrier == OTHER_CARRIER else carrier,
            "other_carrier": self.cleaned_data.get("other_carrier", "") if carrier == OTHER_CARRIER else "",
            "tracking_url": self.cleaned_data.get("tracking_url", ""),
            "merchant_carrier": self.carrier_mapping.get(carrier, "") if carrier != OTHER_CARRIER else "",
            "tracking_number": self.cleaned_data["tracking_number"],
            "method_code": self.cleaned_data["method_code"],
            "ship_date": self.cleaned_data["ship_date"],
            "intent_to_cancel_override": bool(self.cleaned_data.get("intent_to_cancel_override")),
        }


class CancelForm(LineQuantitiesMixin, forms.Form):
    reason = forms.ChoiceField(label="Cancellation reason")

    def __init__(
        self,
        *args,
        order: Order,
        lines: list[OrderLine],
        remaining: dict[int, int],
        only_line: int | None = None,
        **kwargs,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a reason")] + [
            choice
            for choice in CancellationReason.choices
            if choice[0] != CancellationReason.CUSTOMER_REQUESTED or order.intent_to_cancel
        ]
        cast(forms.ChoiceField, self.fields["reason"]).choices = choices
        self.add_line_fields(lines, remaining, initial_all=only_line is None)
        if only_line is not None and f"quantity_{only_line}" in self.fields:
            self.fields[f"quantity_{only_line}"].initial = remaining.get(only_line, 0)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not any(cleaned.get(f"quantity_{line.pk}") for line in self.lines):
            raise forms.ValidationError("Choose at least one line and a quantity to cancel.")
        return cleaned


class CarrierMappingForm(forms.Form):
    """Channel Settings -> Shipping Carriers: for each Walmart carrier, the merchant's carrier name."""

    def __init__(self, *args, mapping: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.carrier_names = {}
        for index, carrier in enumerate(WALMART_CARRIERS):
            name = f"carrier_{index}"
            self.carrier_names[name] = carrier
            self.fields[name] = forms.CharField(
                label=carrier, max_length=100, required=False, initial=mapping.get(carrier, "")
            )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        seen: dict[str, str] = {}
        for name, carrier in self.carrier_names.items():
            merchant = (cleaned.get(name) or "").strip()
            if not merchant:
                continue
            if merchant.lower() in seen:
                self.add_error(name, f"{merchant} is already mapped to {seen[merchant.lower()]}.")
            seen[merchant.lower()] = carrier
        return cleaned

    def mapping(self) -> dict[str, str]:
        return {
            carrier: self.cleaned_data[name].strip()
            for name, carrier in self.carrier_names.items()
            if (self.cleaned_data.get(name) or "").strip()
        }


class OrderSettingsForm(forms.ModelForm):
    webhook_basic_password = forms.CharField(
        label="Webhook basic-auth password",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current one.",
    )

    class Meta:
        model = OrderSettings
        fields = [
            "commerce_order_prefix",
            "auto_acknowledge",
            "poll_interval_seconds",
            "poll_overlap_seconds",
            "webhook_auth_method",
            "webhook_auth_header",
            "webhook_basic_username",
        ]

    def clean_poll_interval_seconds(self):
        value = self.cleaned_data["poll_interval_seconds"]
        if value < 60:
            raise forms.ValidationError("Poll at most once a minute (Walmart rate-limits order reads).")
        return value

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("webhook_auth_method") == OrderSettings.WebhookAuth.BASIC:
            if not (cleaned.get("webhook_basic_username") or "").strip():
                self.add_error("webhook_basic_username", "Basic authentication needs a user name.")
            if not cleaned.get("webhook_basic_password") and not self.instance.webhook_basic_password:
                self.add_error(
                    "webhook_basic_password",
                    "Basic authentication needs a password (an empty one would let anyone in).",
                )
        return cleaned

    def clean_commerce_order_prefix(self):
        value = self.cleaned_data["commerce_order_prefix"].strip()
        if not value.isalnum():
            raise forms.ValidationError("Use letters and digits only.")
        return value
