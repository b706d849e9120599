"""The client builds inventory and price feed files from typed values, split by Walmart's item and size limits,
and reads a stored feed's values back."""

import json
from decimal import Decimal

import pytest

from walmart_client.requestor import encode_json
from walmart_client.resources.feeds import (
    FEED_SIZE_SAFETY,
    inventory_feed_files,
    inventory_feed_quantities,
    price_feed_files,
    price_feed_prices,
)


def test_inventory_files_follow_the_1_4_schema_and_the_item_limit():
    # when
    files = inventory_feed_files([("A", 3), ("B", 0), ("C", 7)], max_items=2, max_bytes=10_000, max_files=5)
    # then: two files, the first two values then the third, each with its exact byte size
    assert [file.item_count for file in files] == [2, 1]
    assert files[0].payload == {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [
            {"sku": "A", "quantity": {"unit": "EACH", "amount": 3}},
            {"sku": "B", "quantity": {"unit": "EACH", "amount": 0}},
        ],
    }
    assert [file.size_bytes for file in files] == [len(encode_json(file.payload)) for file in files]
    assert {file.feed_type for file in files} == {"inventory"}


def test_files_stop_at_the_byte_budget_and_at_max_files():
    # given: items of 51 bytes each (with the comma) and a budget that fits the header and three of them
    values = [(f"SKU-{i:04d}", 5) for i in range(10)]
    header = len(encode_json({"InventoryHeader": {"version": "1.4"}, "Inventory": []}))
    one_item = len(encode_json({"sku": "SKU-0000", "quantity": {"unit": "EACH", "amount": 5}}))
    max_bytes = int((header + 3 * one_item + 2) / FEED_SIZE_SAFETY) + 1
    # when
    files = inventory_feed_files(values, max_items=100, max_bytes=max_bytes, max_files=2)
    # then: two files of three items; the last four values wait for a later call
    assert [file.item_count for file in files] == [3, 3]
    assert [item["sku"] for item in files[1].payload["Inventory"]] == ["SKU-0003", "SKU-0004", "SKU-0005"]
    assert all(file.size_bytes <= max_bytes * FEED_SIZE_SAFETY for file in files)


def test_price_files_are_json_ready_with_money_as_numbers():
    files = price_feed_files(
        [("A", Decimal("19.99")), ("B", Decimal("5"))], max_items=10, max_bytes=10_000, max_files=1
    )
    assert files[0].payload == {
        "PriceHeader": {"version": "1.7"},
        "Price": [
            {
                "sku": "A",
                "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 19.99}}],
            },
            {"sku": "B", "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 5.0}}]},
        ],
    }
    # storable as JSON as is, and read back to the cent
    stored = json.loads(json.dumps(files[0].payload))
    assert price_feed_prices(stored) == {"A": Decimal("19.99"), "B": Decimal("5.00")}


def test_inventory_values_read_back_from_a_stored_payload():
    files = inventory_feed_files([("A", 3), ("B/2", 0)], max_items=10, max_bytes=10_000, max_files=1)
    assert inventory_feed_quantities(json.loads(json.dumps(files[0].payload))) == {"A": 3, "B/2": 0}


@pytest.mark.parametrize(
    ("build", "values", "message"),
    [
        (inventory_feed_files, [("A", -1)], "must be zero or more"),
        (inventory_feed_files, [("A", 1), ("A", 2)], "appears twice"),
        (inventory_feed_files, [("", 1)], "needs a SKU"),
        (price_feed_files, [("A", Decimal("1.999"))], "more than two decimals"),
        (price_feed_files, [("A", Decimal("0"))], "must be positive"),
    ],
)
def test_bad_values_are_refused_before_anything_is_built(build, values, message):
    with pytest.raises(ValueError, match=message):
        build(values, max_items=10, max_bytes=10_000, max_files=1)


def test_no_values_build_no_file():
    assert inventory_feed_files([], max_items=10, max_bytes=10_000, max_files=1) == []
