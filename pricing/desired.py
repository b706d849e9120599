"""The price Walmart should show for a listing. Pure: no database, unit-tested with exact values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PriceRuleValues:
    """The values of a `pricing.PriceRule` (or the defaults: no markup, no rounding)."""

    markup_type: str = "none"  # "none" | "percent" | "fixed"
    markup_value: Decimal = Decimal("0")
    price_ending: Decimal | None = None


NO_RULE = PriceRuleValues()


def price_ending_apply(price: Decimal, ending: Decimal) -> Decimal:
    """The smallest price >= `price` whose cents are `ending` (12.10 with .99 gives 12.99; 12.99 stays;
    13.00 gives 13.99). Rounding up never sells below the marked-up price."""
    whole = price.quantize(Decimal("1"), rounding=ROUND_FLOOR)
    candidate = whole + ending
    if candidate < price:
        candidate += 1
    return candidate.quantize(CENT)


def price_desired(
    *, catalog_price: Decimal | None, rule: PriceRuleValues = NO_RULE, override: Decimal | None = None
) -> Decimal | None:
    """The price to send, in cents: the listing's override when set (taken as is, the rule is not applied),
    else the catalog price with the rule's markup (percent or fixed, rounded half up to the cent), then the
    rule's price ending. None when there is no positive price to send (nothing is sent then)."""
    if override is not None:
        price = Decimal(override).quantize(CENT, rounding=ROUND_HALF_UP)
        return price if price > 0 else None
    if catalog_price is None:
        return None
    price = Decimal(catalog_price)
    if rule.markup_type == "percent":
        price = price * (Decimal(100) + rule.markup_value) / Decimal(100)
    elif rule.markup_type == "fixed":
        price = price + rule.markup_value
    price = price.quantize(CENT, rounding=ROUND_HALF_UP)
    if rule.price_ending is not None and price > 0:
        price = price_ending_apply(price, Decimal(rule.price_ending))
    return price if price > 0 else None
