"""Desired quantity: available plus this store's open reservation, less the buffer, capped: exact values."""

import pytest

from inventory.desired import quantity_desired


@pytest.mark.parametrize(
    ("catalog_quantity", "reserved", "buffer", "cap", "expected"),
    [
        (10, 0, 0, None, 10),
        (10, 0, 3, None, 7),
        (10, 0, 3, 5, 5),
        (4, 0, 3, 5, 1),
        (2, 0, 3, None, 0),
        (0, 0, 0, None, 0),
        (100, 0, 0, 0, 0),
        # Walmart's inputQty still counts the store's sold-not-shipped units
        (7, 3, 0, None, 10),
        (7, 3, 2, None, 8),
        (7, 3, 2, 6, 6),
        (0, 4, 0, None, 4),
        (0, 1, 3, None, 0),
    ],
)
def test_quantity_is_available_plus_reserved_less_buffer_capped_never_negative(
    catalog_quantity, reserved, buffer, cap, expected
):
    assert (
        quantity_desired(catalog_quantity=catalog_quantity, reserved=reserved, safety_buffer=buffer, max_quantity=cap)
        == expected
    )
