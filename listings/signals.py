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
- `walmart_items_read`: `send(sender, store, items: Sequence[walmart_client.models.Item], started_at, complete)`
  by the hourly read-back (`GET /v3/items`), once per page of items, then once with no items and
  `complete=True` when every page was read (items not announced since `started_at` are gone from Walmart).
  Sent outside any transaction; the onboarding app keeps the store's Walmart items (and Unmanaged list) by it.
- `walmart_item_event`: `send(sender, store, event: walmart_client.events.WebhookEvent)` for each of Walmart's
  item events a store receives (OFFER_PUBLISHED, OFFER_UNPUBLISHED, BUY_BOX_CHANGED), after the listing with
  that SKU (if any) took it, inside that transaction; the onboarding app updates the store's Walmart item by it.
- `read_back_stores_wanted`: `send(sender)`; each receiver returns store ids that must be read back hourly
  even without a matched listing (e.g. a store whose Walmart items were imported).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import Signal

products_changed = Signal()
product_quantities_set = Signal()
walmart_items_read = Signal()
walmart_item_event = Signal()
read_back_stores_wanted = Signal()


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


def walmart_items_read_send(
    *, sender: object, store: Any, items: Sequence[Any], started_at: datetime, complete: bool
) -> None:
    """Send `walmart_items_read` for one page of the read-back (or its end, `complete=True`)."""
    walmart_items_read.send(sender=sender, store=store, items=tuple(items), started_at=started_at, complete=complete)
