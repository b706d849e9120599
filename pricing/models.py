"""Models of the pricing app: the per-store price rule (markup and rounding)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PriceRule(models.Model):
    """How a store's Walmart price is made from the catalog price: a markup (percent or fixed amount), then
    an optional price ending (for example .99). A listing's `price_override` bypasses the rule.
    A store without a rule sends the catalog price unchanged. See `pricing.desired.price_desired`."""

    class MarkupType(models.TextChoices):
        NONE = "none", _("No markup")
        PERCENT = "percent", _("Percent")
        FIXED = "fixed", _("Fixed amount")

    store = models.OneToOneField("channel_manager.Store", on_delete=models.CASCADE, related_name="price_rule")
    markup_type = models.CharField(max_length=10, choices=MarkupType.choices, default=MarkupType.NONE)
    markup_value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Percent (10 = +10%, -5 = -5%) or amount added in the store currency."),
    )
    price_ending = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(Decimal("0.99"))],
        help_text=_("Cents every price ends with (0.99 gives 12.99); prices are rounded up to it. Empty: no rounding."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(price_ending__isnull=True) | (Q(price_ending__gte=0) & Q(price_ending__lt=1)),
                name="price_rule_ending_is_cents",
            ),
            models.CheckConstraint(
                condition=~Q(markup_type="percent") | Q(markup_value__gt=-100),
                name="price_rule_percent_above_minus_100",
            ),
        ]

    def __str__(self) -> str:
        return f"Price rule of store {self.store_id}"
