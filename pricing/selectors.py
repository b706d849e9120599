"""Reads of the pricing app."""

from __future__ import annotations

from channel_manager.models import Store
from pricing.desired import NO_RULE, PriceRuleValues
from pricing.models import PriceRule


def price_rule_values(*, store: Store) -> PriceRuleValues:
    """The store's price rule as plain values; no markup and no rounding when the store has none."""
    rule = PriceRule.objects.filter(store=store).values("markup_type", "markup_value", "price_ending").first()
    if rule is None:
        return NO_RULE
    return PriceRuleValues(**rule)


def price_rule_get(*, store: Store) -> PriceRule:
    """The store's price rule, or an unsaved default (no markup, no rounding)."""
    return PriceRule.objects.filter(store=store).first() or PriceRule(store=store)
