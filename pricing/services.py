"""Writes of the pricing app."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from channel_manager.models import Store
from pricing.models import PriceRule
from pricing.signals import price_rule_changed

RULE_FIELDS = ("markup_type", "markup_value", "price_ending")


def price_rule_save(*, store: Store, values: dict[str, Any]) -> PriceRule:
    """Create or update the store's price rule (upsert on the store) and announce it (`price_rule_changed`:
    the price planner re-prices every listing on its next run). Raises ValidationError for an invalid rule
    (nothing saved)."""
    fields = {name: values[name] for name in RULE_FIELDS if name in values}
    fields.setdefault("markup_value", Decimal("0"))
    if fields.get("markup_type") == PriceRule.MarkupType.PERCENT and Decimal(fields["markup_value"]) <= -100:
        raise ValidationError({"markup_value": "A percent markup must be above -100."})
    candidate = PriceRule(store=store, **fields)
    candidate.full_clean(exclude=["store"], validate_unique=False)
    with transaction.atomic():
        rule, _ = PriceRule.objects.update_or_create(store=store, defaults=fields)
        price_rule_changed.send(sender=PriceRule, store_id=store.pk)
    return rule
