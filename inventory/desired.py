"""The quantity Walmart should show for a listing. Pure: no database, unit-tested with exact values."""

from __future__ import annotations


def quantity_desired(
    *, catalog_quantity: int, reserved: int = 0, safety_buffer: int = 0, max_quantity: int | None = None
) -> int:
    """The `inputQty` to send one store: the catalog's available quantity plus the units this store has sold
    and not yet shipped (`reserved`: Walmart still counts them in `inputQty` and takes them out of its
    `availToSellQty`), less the safety buffer, capped at `max_quantity` when set, never below zero.

    So Walmart's available to sell is the catalog's available less the buffer; units other stores and
    channels have reserved are already out of the catalog quantity (see `inventory.services.reservations`).
    """
    quantity = catalog_quantity + reserved - safety_buffer
    if max_quantity is not None:
        quantity = min(quantity, max_quantity)
    return max(quantity, 0)
