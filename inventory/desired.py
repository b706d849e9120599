"""The quantity Walmart should show for a listing. Pure: no database, unit-tested with exact values."""

from __future__ import annotations


def quantity_desired(*, catalog_quantity: int, safety_buffer: int = 0, max_quantity: int | None = None) -> int:
    """Catalog quantity less the safety buffer, capped at `max_quantity` when set, never below zero.

    The catalog quantity is already net of stock reserved by open orders (the stock service takes a
    reservation out of `Product.quantity`), so reservations are not subtracted again here.
    """
    quantity = catalog_quantity - safety_buffer
    if max_quantity is not None:
        quantity = min(quantity, max_quantity)
    return max(quantity, 0)
