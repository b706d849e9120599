"""Receivers of the catalog's signals (`listings.signals`), connected in `InventoryConfig.ready`. Each only
calls a service."""

from __future__ import annotations

from collections.abc import Sequence

from inventory.services import stock_movements_record
from listings.signals import QuantityChange


def product_quantities_set_received(
    sender, *, changes: Sequence[QuantityChange], reason: str, actor: str, reference: str, **kwargs
) -> None:
    stock_movements_record(changes=changes, reason=reason, actor=actor, reference=reference)
