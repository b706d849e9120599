"""Per-store reservations: units sold on a store's Walmart channel that have not shipped or been cancelled.

Walmart's inventory semantics, which the quantities here mirror (developer.walmart.com, read in 2026):
- ca-marketplace/docs/get-and-update-item-inventory-per-ship-node (same words on the US "get ... inventory ...
  per ship node" pages): `inputQty` is the total item inventory *including items that are sold but not yet
  shipped*; `availToSellQty` is the inventory available for purchase only; `reservedQty` is the count of
  items sold but not yet shipped.
- us-marketplace/docs/return-the-first-10-items (`GET /v3/inventories` sample: inputQty 100, availToSellQty
  95, reservedQty 5): available to sell = input - reserved.
- us-marketplace/docs/inventory-api-overview: `PUT /v3/inventory` and the inventory feed update the seller's
  quantity, i.e. `inputQty`.
So a Walmart order raises `reservedQty` (inputQty unchanged), a shipment lowers `inputQty` and `reservedQty`,
a cancellation lowers `reservedQty`.

Here: an order takes its units out of the catalog's available quantity (`Product.quantity`) into the store's
reservation; a shipment lowers the reservation, and what we believe Walmart holds for the listing
(`Listing.confirmed_quantity`) drops by the same units; a cancellation puts the units back from the
reservation to available. The quantity to send the store is then available + its reservation - buffer
(`inventory.desired.quantity_desired`), which is exactly Walmart's `inputQty` when `availToSellQty` should be
available - buffer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections, router, transaction
from django.utils import timezone

from channel_manager.bulk import instances_new, rows_insert
from inventory.models import StockMovement, StockReservation
from inventory.services.stock import StockError, _actor_checked
from listings.quantities import (
    QuantitiesInvalid,
    listings_confirmed_quantity_lower,
    product_quantities_add,
    product_quantities_lock,
)
from listings.signals import products_changed_send

logger = logging.getLogger(__name__)

_BULK_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class ReservationMove:
    """Units of one product moving through one store's reservation: `reserved` (a Walmart order arrived),
    `shipped` (they left), `released` (cancelled). All whole numbers >= 0."""

    product_id: int
    reserved: int = 0
    shipped: int = 0
    released: int = 0


@dataclass(frozen=True)
class ReservationResult:
    """What `reservations_apply` did: open reservations per product after it, and the units reserved beyond
    the available quantity (an oversell for the operator: the quantity stopped at zero)."""

    reservations: dict[int, int]
    shortfalls: dict[int, int]


def _moves_merged(moves: Sequence[ReservationMove]) -> dict[int, ReservationMove]:
    merged: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for move in moves:
        units = (move.reserved, move.shipped, move.released)
        if not isinstance(move.product_id, int) or any(
            isinstance(unit, bool) or not isinstance(unit, int) or unit < 0 for unit in units
        ):
            raise StockError(f"A reservation move needs a product id and whole numbers >= 0, got {move!r}.")
        for position, unit in enumerate(units):
            merged[move.product_id][position] += unit
    return {pid: ReservationMove(pid, *units) for pid, units in merged.items() if any(units)}


def _reservations_write(*, store_id: int, quantities: dict[int, int], now) -> None:
    """Upsert the store's reservations `{product_id: quantity}` on (store, product). On PostgreSQL one statement
    per chunk joins the values as two arrays (`unnest`: two parameters whatever the size), where bulk_create
    built a model instance and four parameters per row; elsewhere bulk_create."""
    if not quantities:
        return
    connection = connections[router.db_for_write(StockReservation)]
    if connection.vendor != "postgresql":
        StockReservation.objects.bulk_create(
            [
                StockReservation(store_id=store_id, product_id=pid, quantity=quantity, updated_at=now)
                for pid, quantity in quantities.items()
            ],
            update_conflicts=True,
            unique_fields=["store", "product"],
            update_fields=["quantity", "updated_at"],
            batch_size=_BULK_CHUNK,
        )
        return
    quote = connection.ops.quote_name
    meta = StockReservation._meta
    columns = {field.name: quote(str(field.column)) for field in meta.concrete_fields}
    store, product, quantity, updated_at = (columns[name] for name in ("store", "product", "quantity", "updated_at"))
    # Only quoted names from the model and placeholders go into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({store}, {product}, {quantity}, {updated_at}) "  # noqa: S608
        "SELECT %s, new.product, new.quantity, %s FROM unnest(%s::bigint[], %s::integer[]) AS new(product, quantity) "
        f"ON CONFLICT ({store}, {product}) DO UPDATE SET {quantity} = EXCLUDED.{quantity}, "
        f"{updated_at} = EXCLUDED.{updated_at}"
    )
    keys = sorted(quantities)
    with connection.cursor() as cursor:
        for start in range(0, len(keys), _BULK_CHUNK):
            chunk = keys[start : start + _BULK_CHUNK]
            cursor.execute(sql, [store_id, now, chunk, [quantities[pid] for pid in chunk]])


def reservations_apply(
    *, store_id: int, moves: Sequence[ReservationMove], actor: str, reference: str = ""
) -> ReservationResult:
    """Apply reservation moves of one store, set-based: one locking read and one UPDATE per chunk of
    products, one read and one upsert of the store's reservations, one insert of stock movements, one UPDATE
    of the listings' believed Walmart quantity for shipped units; then `products_changed` (the sync engine
    nudges the stores listing the products after commit). Moves of one product are added up.

    - reserved: available goes down (never below zero: the units that were not there are the product's
      shortfall, logged on its movement), the reservation goes up;
    - shipped: the reservation goes down (available unchanged); the store's listing's confirmed quantity goes
      down by the same units (Walmart lowers `inputQty` when it ships);
    - released: the reservation goes down and available goes up by the same units.
    A reservation never goes below zero: shipping or releasing more than is reserved is logged and applied
    only up to what is reserved (the rest of a release is not returned to available: those units were
    never taken here).

    Not idempotent: each call moves stock again, so callers apply each order line's moves once (orders
    record what they applied). Raises `StockError` for a bad move, actor or unknown product, with nothing
    written. Atomic."""
    actor = _actor_checked(actor)
    merged = _moves_merged(moves)
    if not merged:
        return ReservationResult(reservations={}, shortfalls={})
    product_ids = sorted(merged)
    with transaction.atomic():
        # Lock the products first (in id order): two batches for one product serialize here, so the
        # reservations read below cannot change under us.
        try:
            locked = product_quantities_lock(product_ids=product_ids)
        except QuantitiesInvalid as error:
            raise StockError(str(error)) from error
        reserved_before = dict(
            StockReservation.objects.filter(store_id=store_id, product_id__any_of=product_ids).values_list(
                "product_id", "quantity"
            )
        )
        reserved_after: dict[int, int] = {}
        shipped_units: dict[int, int] = {}
        deltas: dict[int, int] = {}
        for pid in product_ids:
            move = merged[pid]
            open_units = reserved_before.get(pid, 0) + move.reserved
            shipped = min(move.shipped, open_units)
            released = min(move.released, open_units - shipped)
            if (shipped, released) != (move.shipped, move.released):
                logger.warning(
                    "Store %s product %s: shipping %d and releasing %d units but only %d reserved (%s).",
                    store_id,
                    pid,
                    move.shipped,
                    move.released,
                    open_units,
                    reference,
                )
            reserved_after[pid] = open_units - shipped - released
            shipped_units[pid] = shipped
            deltas[pid] = released - move.reserved
        added = product_quantities_add(deltas={pid: delta for pid, delta in deltas.items() if delta}, locked=locked)
        now = timezone.now()
        _reservations_write(
            store_id=store_id,
            quantities={
                pid: quantity for pid, quantity in reserved_after.items() if quantity != reserved_before.get(pid, 0)
            },
            now=now,
        )
        changed = {change.product_id: change for change in added.changes}
        rows_insert(
            StockMovement,
            instances_new(
                StockMovement,
                (
                    {
                        "product_id": pid,
                        "delta": changed[pid].after - changed[pid].before if pid in changed else 0,
                        "quantity_after": changed[pid].after if pid in changed else 0,
                        "shortfall": added.shortfalls.get(pid, 0),
                        "reason": (
                            StockMovement.Reason.ORDER_RESERVATION
                            if delta < 0
                            else StockMovement.Reason.ORDER_CANCELLATION
                        ),
                        "actor": actor,
                        "reference": reference[:100],
                    }
                    for pid, delta in deltas.items()
                    if pid in changed or added.shortfalls.get(pid)
                ),
            ),
        )
        for pid, shortfall in added.shortfalls.items():
            logger.warning(
                "Stock of product %s short by %d for an order of store %s (%s): quantity stops at 0.",
                pid,
                shortfall,
                store_id,
                reference,
            )
        listings_confirmed_quantity_lower(store_id=store_id, units=shipped_units)
        products_changed_send(sender=StockReservation, product_ids=product_ids, fields={"quantity"})
    return ReservationResult(reservations=reserved_after, shortfalls=dict(added.shortfalls))
