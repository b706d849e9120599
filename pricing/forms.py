from decimal import Decimal

from django import forms

from pricing.models import PriceRule


class PriceRuleForm(forms.ModelForm):
    class Meta:
        model = PriceRule
        fields = ("markup_type", "markup_value", "price_ending")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        markup_type, value = data.get("markup_type"), data.get("markup_value")
        if markup_type == PriceRule.MarkupType.PERCENT and value is not None and value <= Decimal("-100"):
            self.add_error("markup_value", "A percent markup must be above -100.")
        if markup_type == PriceRule.MarkupType.NONE and value:
            self.add_error("markup_value", "Choose percent or fixed amount to apply a markup.")
        return data
