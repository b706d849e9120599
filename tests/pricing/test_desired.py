"""Desired price: the markup, the price ending and the per-listing override give exact values."""

from decimal import Decimal

import pytest

from pricing.desired import PriceRuleValues, price_desired, price_ending_apply


@pytest.mark.parametrize(
    ("price", "ending", "expected"),
    [
        ("12.10", "0.99", "12.99"),
        ("12.99", "0.99", "12.99"),
        ("13.00", "0.99", "13.99"),
        ("13.00", "0.00", "13.00"),
        ("13.01", "0.00", "14.00"),
        ("7.49", "0.49", "7.49"),
        ("7.50", "0.49", "8.49"),
    ],
)
def test_price_ending_rounds_up_to_the_ending(price, ending, expected):
    assert price_ending_apply(Decimal(price), Decimal(ending)) == Decimal(expected)


@pytest.mark.parametrize(
    ("catalog", "rule", "override", "expected"),
    [
        ("10.00", PriceRuleValues(), None, "10.00"),
        ("10.00", PriceRuleValues("percent", Decimal("15")), None, "11.50"),
        ("10.00", PriceRuleValues("percent", Decimal("15"), Decimal("0.99")), None, "11.99"),
        ("19.99", PriceRuleValues("percent", Decimal("12.5")), None, "22.49"),  # 22.48875 half up
        ("10.00", PriceRuleValues("percent", Decimal("-10")), None, "9.00"),
        ("10.00", PriceRuleValues("fixed", Decimal("2.50")), None, "12.50"),
        ("10.00", PriceRuleValues("fixed", Decimal("2.50"), Decimal("0.95")), None, "12.95"),
        ("10.00", PriceRuleValues("percent", Decimal("50"), Decimal("0.99")), Decimal("8.00"), "8.00"),
        ("1.00", PriceRuleValues("fixed", Decimal("-1.00")), None, None),
        ("0.00", PriceRuleValues(), None, None),
    ],
)
def test_price_rule_and_override_give_exact_prices(catalog, rule, override, expected):
    result = price_desired(catalog_price=Decimal(catalog), rule=rule, override=override)
    assert result == (Decimal(expected) if expected is not None else None)
