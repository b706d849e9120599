"""The stock service: who or what moved stock, why, and the result (`StockMovement`).

`stock_move` (a delta), `stock_set` and `stock_bulk_set` (absolute quantities) update
`listings.Product.quantity` (one F() update; `stock_bulk_set` one UPDATE per chunk, through
`listings.quantities.product_quantities_write`), log the movements, and send
`listings.signals.products_changed` so the sync engine is nudged once the transaction commits. The catalog's
own quantity writes (product form, admin, import) announce themselves with `product_quantities_set`, whose
receiver (`stock_movements_record`) logs them the same way.

Negative stock policy (explicit):
- An order reservation (`order_reservation`) is never refused: the order is already sold on Walmart, and
  refusing would lose the record of it. When it asks for more units than are left, the quantity stops at
  zero, the units that could not be taken are logged as `shortfall` on the movement (an oversell for the
  operator to resolve) and a warning is logged. `reconciliation` movements clamp the same way.
- Every other reason (a manual or catalog edit, an import...) that would take the quantity below zero is
  refused with `InsufficientStock`, and nothing is written.

Re-exported by `inventory.services`; import from there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import connections, router, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from channel_manager.columns import column_name
from inventory.models import StockMovement
from listings.models import Product
from listings.quantities import QuantitiesInvalid, product_quantities_write
from listings.signals import QuantityChange, QuantityChangesInTable, products_changed_send

logger = logging.getLogger(__name__)

CLAMPING_REASONS = frozenset({StockMovement.Reason.ORDER_RESERVATION, StockMovement.Reason.RECONCILIATION})
_BULK_CHUNK = 2000
QUANTITY_FIELDS = frozenset({"quantity"})


class StockError(ValueError):
    """A stock change that cannot be applied as asked; nothing was written."""


class InsufficientStock(StockError):
    """Taking `requested` units would drive the product's quantity below zero."""

    def __init__(self, *, sku: str, available: int, requested: int) -> None:
        self.sku = sku
        self.available = available
        self.requested = requested
        super().__init__(f"Cannot take {requested} units of {sku}: only {available} in stock.")


def _reason_checked(reason: str) -> str:
    if reason not in StockMovement.Reason.values:
        raise StockError(f"Unknown stock movement reason {reason!r}; expected one of {StockMovement.Reason.values}.")
    return reason


def _actor_checked(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise StockError("Every stock movement needs an actor (a username, 'schedule', 'webhook' or 'admin').")
    return actor.strip()[:150]


def _int_checked(value: object, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StockError(f"{what} must be a whole number, got {value!r}.")
    return value


def stock_move(*, product: Product, delta: int, reason: str, actor: str, reference: str = "") -> int:
    """Add `delta` units (negative: take) to `product`'s catalog quantity with one F() update and log it.

    Returns the quantity after the move (also set on `product.quantity`). A zero delta changes and logs
    nothing. Not idempotent: each call moves stock again, so callers guard their own retries (an order
    reserves once per line, keyed by `reference`). Raises `StockError` for a bad reason, actor or delta,
    `InsufficientStock` when a non-clamping reason would go below zero (see the module docstring),
    `Product.DoesNotExist` when the product is gone; in every error case nothing is written.
    """
    delta = _int_checked(delta, what="delta")
    reason = _reason_checked(reason)
    actor = _actor_checked(actor)
    if delta == 0:
        return Product.objects.values_list("quantity", flat=True).get(pk=product.pk)
    with transaction.atomic():
        before = Product.objects.select_for_update().values_list("quantity", flat=True).get(pk=product.pk)
        shortfall = 0
        if before + delta < 0:
            if reason not in CLAMPING_REASONS:
                raise InsufficientStock(sku=product.sku, available=before, requested=-delta)
            shortfall = -(before + delta)
            logger.warning(
                "Stock of %s short by %d for %s %s: quantity stops at 0.", product.sku, shortfall, reason, reference
            )
        Product.objects.filter(pk=product.pk).update(
            quantity=Greatest(F("quantity") + delta, 0), updated_at=timezone.now()
        )
        after = max(before + delta, 0)
        StockMovement.objects.create(
            product_id=product.pk,
            delta=after - before,
            quantity_after=after,
            shortfall=shortfall,
            reason=reason,
            actor=actor,
            reference=reference[:100],
        )
        products_changed_send(sender=StockMovement, product_ids=[product.pk], fields=QUANTITY_FIELDS)
    product.quantity = after
    return after


def stock_set(*, product: Product, quantity: int, reason: str, actor: str, reference: str = "") -> int:
    """Set `product`'s catalog quantity to `quantity` and log the difference as a movement.

    Safe to re-run: setting the quantity it already has changes and logs nothing. Returns the quantity.
    Raises `StockError` for a negative or non-integer quantity or a bad reason/actor (nothing written).
    """
    quantity = _int_checked(quantity, what="quantity")
    if quantity < 0:
        raise StockError(f"Quantity of {product.sku} cannot be negative ({quantity}).")
    stock_bulk_set(quantities={product.pk: quantity}, reason=reason, actor=actor, reference=reference)
    product.quantity = quantity
    return quantity


def stock_movements_record(*, changes: Sequence[QuantityChange], reason: str, actor: str, reference: str = "") -> int:
    """Log quantities already set (`before` -> `after`) as stock movements: one bulk insert. The receiver of
    `listings.signals.product_quantities_set`, and the second half of `stock_bulk_set`. Returns how many
    movements were written. Raises `StockError` for a bad reason or actor (the caller's transaction, which
    set the quantities, then rolls back).

    Changes held in a table (`QuantityChangesInTable`, the catalog import's) are logged with one
    INSERT ... SELECT from it. Otherwise, on PostgreSQL the rows are streamed with COPY (an import logs a
    hundred thousand movements in a fraction of a second, where building as many model instances took
    seconds); elsewhere `bulk_create`."""
    reason = _reason_checked(reason)
    actor = _actor_checked(actor)
    reference = reference[:100]
    if isinstance(changes, QuantityChangesInTable):
        return _stock_movements_insert_from(changes.table, reason=reason, actor=actor, reference=reference)
    rows = [
        (change.product_id, change.after - change.before, change.after)
        for change in changes
        if change.after != change.before
    ]
    if not rows:
        return 0
    connection = connections[router.db_for_write(StockMovement)]
    if connection.vendor != "postgresql":
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    product_id=product_id,
                    delta=delta,
                    quantity_after=after,
                    reason=reason,
                    actor=actor,
                    reference=reference,
                )
                for product_id, delta, after in rows
            ],
            batch_size=_BULK_CHUNK,
        )
        return len(rows)
    now = timezone.now()
    columns = ", ".join(
        connection.ops.quote_name(column_name(StockMovement._meta.get_field(name)))
        for name in ("product", "delta", "quantity_after", "shortfall", "reason", "actor", "reference", "created_at")
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(StockMovement._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            for product_id, delta, after in rows:
                copy.write_row((product_id, delta, after, 0, reason, actor, reference, now))
    return len(rows)


def _stock_movements_insert_from(table: str, *, reason: str, actor: str, reference: str) -> int:
    """The movements of the quantity changes in `table` (product_id, quantity_before, quantity_after), in one
    statement. Returns how many."""
    connection = connections[router.db_for_write(StockMovement)]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(column_name(StockMovement._meta.get_field(name)))
        for name in ("product", "delta", "quantity_after", "shortfall", "reason", "actor", "reference", "created_at")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(StockMovement._meta.db_table)} ({columns}) "  # noqa: S608 - our own names
            f"SELECT product_id, quantity_after - quantity_before, quantity_after, 0, %s, %s, %s, %s FROM {table} "
            "WHERE quantity_after <> quantity_before ORDER BY product_id",
            [reason, actor, reference, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return max(cursor.rowcount, 0)


def stock_bulk_set(*, quantities: dict[int, int], reason: str, actor: str, reference: str = "") -> int:
    """Set many catalog quantities at once (imports): `{product_id: quantity}`.

    All or nothing: every value is checked first; an unknown product id or a bad value raises `StockError`
    naming them and writes nothing. Products whose quantity already matches are left alone. The rows are
    locked while their current quantities are read (`listings.quantities.product_quantities_write`), so a
    concurrent `stock_move` waits and its movement stays consistent with the log; one UPDATE per chunk of
    changed products and one bulk insert of movements. Safe to re-run. Returns how many products changed.
    """
    reason = _reason_checked(reason)
    actor = _actor_checked(actor)
    with transaction.atomic():
        try:
            changes = product_quantities_write(quantities=quantities)
        except QuantitiesInvalid as error:
            raise StockError(str(error)) from error
        stock_movements_record(changes=changes, reason=reason, actor=actor, reference=reference)
        products_changed_send(
            sender=StockMovement, product_ids=[change.product_id for change in changes], fields=QUANTITY_FIELDS
        )
    return len(changes)
