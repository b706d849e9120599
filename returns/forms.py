"""Forms of the returns app. They check types only; the refund rules (never more than returned, never
more than charged) live in `returns.services.refund_create`, whose messages the views show."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import cast

from django import forms

from returns.models import Refund, ReturnLine, ReturnSettings
from returns.services import DEFAULT_REFUND_REASON, RefundLineRequest


def _reason_choices() -> list[tuple[str, str]]:
    from walmart_client.enums import REFUND_REASONS

    return [(reason, reason) for reason in sorted(REFUND_REASONS)]


class RefundForm(forms.Form):
    """Per return line: a quantity to refund (0 = not this line), whether those units go back to stock,
    and for items outside Walmart's returns program an optional amount (item price + tax)."""

    reason = forms.ChoiceField(
        label="Refund reason",
        initial=DEFAULT_REFUND_REASON,
        help_text="Sent with order refunds (items outside Walmart's returns program).",
    )

    def __init__(self, *args, lines: Sequence[ReturnLine], available: Mapping[int, int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["reason"]).choices = _reason_choices()
        self.lines = list(lines)
        self.available = dict(available)
        for line in self.lines:
            left = self.available.get(line.pk, 0)
            name = f"line {line.return_order_line_number} ({line.sku})"
            quantity_label = f"Quantity to refund of {name}"
            self.fields[f"quantity_{line.pk}"] = forms.IntegerField(
                label=quantity_label,
                min_value=0,
                initial=left,
                required=False,
                widget=forms.NumberInput(attrs={"min": 0, "max": left, "aria-label": quantity_label}),
            )
            stock_label = f"Return {name} to stock"
            self.fields[f"stock_{line.pk}"] = forms.BooleanField(
                label=stock_label,
                required=False,
                initial=False,
                widget=forms.CheckboxInput(attrs={"aria-label": stock_label}),
            )
            if line.is_return_for_exception:
                amount_label = f"Amount of {name}, tax included"
                self.fields[f"amount_{line.pk}"] = forms.DecimalField(
                    label=amount_label,
                    required=False,
                    min_value=Decimal("0.01"),
                    decimal_places=2,
                    max_digits=12,
                    help_text="Leave empty to refund what was charged for the quantity.",
                    widget=forms.NumberInput(attrs={"step": "0.01", "aria-label": amount_label}),
                )

    def line_rows(self) -> list[dict]:
        """What the template shows per line: the line, units left, and its bound fields."""
        rows = []
        for line in self.lines:
            rows.append(
                {
                    "line": line,
                    "available": self.available.get(line.pk, 0),
                    "quantity": self[f"quantity_{line.pk}"],
                    "stock": self[f"stock_{line.pk}"],
                    "amount": self[f"amount_{line.pk}"] if f"amount_{line.pk}" in self.fields else None,
                    "channel": Refund.Channel.ORDER_REFUND.label
                    if line.is_return_for_exception
                    else Refund.Channel.RETURN_REFUND.label,
                }
            )
        return rows

    def refund_lines(self) -> list[RefundLineRequest]:
        requests = []
        for line in self.lines:
            quantity = self.cleaned_data.get(f"quantity_{line.pk}") or 0
            if not quantity:
                continue
            requests.append(
                RefundLineRequest(
                    return_line_id=line.pk,
                    quantity=quantity,
                    back_to_stock=bool(self.cleaned_data.get(f"stock_{line.pk}")),
                    amount=self.cleaned_data.get(f"amount_{line.pk}"),
                )
            )
        return requests


class ReturnSettingsForm(forms.ModelForm):
    class Meta:
        model = ReturnSettings
        fields = ["poll_interval_seconds", "poll_overlap_seconds"]
