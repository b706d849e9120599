"""Signals the catalog sends, so the apps above it (stock, sync) hear of changes without listings importing them.

Both are sent *inside* the writing transaction; a receiver that needs the change to be committed (a planner
nudge) defers its work with `transaction.on_commit`, once per transaction, never once per product. A receiver
only calls a service of its own app (connected in that app's `AppConfig.ready`).

- `products_changed`: `send(sender, product_ids: frozenset[int], fields: frozenset[str])` whenever catalog
  fields that matter to Walmart change (quantity, price, SKU, identifiers...). `fields` names the `Product`
  fields that changed; the sync engine nudges only the streams that read them.
- `product_quantities_set`: `send(sender, changes: Sequence[QuantityChange], reason: str, actor: str,
  reference: str)` by listings code that sets catalog quantities itself (the product form, catalog import,
  admin). The inventory app records the stock movements (one bulk insert per send; for a
  `QuantityChangesInTable`, as the catalog import sends, one INSERT ... SELECT from its table). Stock services of the
  inventory app write their movements themselves and send only `products_changed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.dispatch import Signal

products_changed = Signal()
product_quantities_set = Signal()


@dataclass(frozen=True, slots=True)
class QuantityChange:
    """A product's catalog quantity went from `before` to `after` (both >= 0, different)."""

    product_id: int
    before: int
    after: int


class QuantityChangesInTable(tuple[QuantityChange, ...]):
    """Quantity changes a sender computed set-based: a tuple of `QuantityChange`s like any other, that a sender
    also holds in a table of the current database connection (`table`: one row per change, integer columns
    product_id, quantity_before and quantity_after) until its transaction ends, so that a receiver writing a
    row for each (the stock movements) can do it with one INSERT ... SELECT from it."""

    table: str

    def __new__(cls, table: str, changes: Iterable[QuantityChange]) -> QuantityChangesInTable:
        instance = super().__new__(cls, changes)
        instance.table = table
        return instance


def products_changed_send(*, sender: object, product_ids: Iterable[int], fields: Iterable[str]) -> None:
    """Send `products_changed` for the given products and fields; nothing when either is empty."""
    ids, names = frozenset(product_ids), frozenset(fields)
    if ids and names:
        products_changed.send(sender=sender, product_ids=ids, fields=names)


def product_quantities_set_send(
    *, sender: object, changes: Sequence[QuantityChange], reason: str, actor: str, reference: str = ""
) -> None:
    """Send `product_quantities_set` for `changes` (nothing when empty), then `products_changed` for them."""
    if not changes:
        return
    if not isinstance(changes, QuantityChangesInTable):
        changes = tuple(changes)
    product_quantities_set.send(sender=sender, changes=changes, reason=reason, actor=actor, reference=reference)
    products_changed_send(sender=sender, product_ids=(change.product_id for change in changes), fields={"quantity"})
