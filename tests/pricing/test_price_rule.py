"""The store price rule: saved through its service (validated, upserted, the price planner nudged)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from pricing.models import PriceRule
from pricing.selectors import price_rule_values
from pricing.services import price_rule_save

pytestmark = pytest.mark.django_db


def test_saving_a_rule_twice_updates_it_and_queues_one_price_run(store, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        price_rule_save(store=store, values={"markup_type": "fixed", "markup_value": Decimal("1.50")})
        price_rule_save(
            store=store,
            values={"markup_type": "percent", "markup_value": Decimal("5"), "price_ending": Decimal("0.95")},
        )
    # then: one row, the last values; a burst of saves queues one debounced run
    rule = PriceRule.objects.get()
    assert (rule.markup_type, rule.markup_value, rule.price_ending) == ("percent", Decimal("5.00"), Decimal("0.95"))
    assert len(callbacks) == 1
    assert price_rule_values(store=store).price_ending == Decimal("0.95")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"markup_type": "percent", "markup_value": Decimal("-100")}, "markup_value"),
        ({"markup_type": "fixed", "markup_value": Decimal("1"), "price_ending": Decimal("1.20")}, "price_ending"),
        ({"markup_type": "double", "markup_value": Decimal("1")}, "markup_type"),
    ],
)
def test_an_invalid_rule_is_refused_and_nothing_is_saved(store, values, field, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as raised:
        price_rule_save(store=store, values=values)
    assert field in raised.value.message_dict
    assert not PriceRule.objects.exists()
    assert callbacks == []


def test_a_store_without_a_rule_sends_catalog_prices(store):
    rule = price_rule_values(store=store)
    assert (rule.markup_type, rule.markup_value, rule.price_ending) == ("none", Decimal("0"), None)
