"""Desired quantity: the buffer and the cap give exact values."""

import pytest

from inventory.desired import quantity_desired


@pytest.mark.parametrize(
    ("catalog_quantity", "buffer", "cap", "expected"),
    [
        (10, 0, None, 10),
        (10, 3, None, 7),
        (10, 3, 5, 5),
        (4, 3, 5, 1),
        (2, 3, None, 0),
        (0, 0, None, 0),
        (100, 0, 0, 0),
    ],
)
def test_quantity_is_catalog_less_buffer_capped_never_negative(catalog_quantity, buffer, cap, expected):
    assert quantity_desired(catalog_quantity=catalog_quantity, safety_buffer=buffer, max_quantity=cap) == expected
