"""Setting catalog quantities (`Product.quantity`) set-based: lock, compare, one UPDATE per chunk.

The catalog's own writes (product form, admin, catalog import) and the inventory app's stock services both
set quantities through `product_quantities_write`. It announces nothing: the caller says why the quantity
changed (listings code sends `listings.signals.product_quantities_set`; the inventory app records its own
movements), inside the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connections, router, transaction
from django.utils import timezone

from listings.models import Product
from listings.signals import QuantityChange

# Products locked per SELECT ... FOR UPDATE (well under SQLite's variable limit).
LOCK_CHUNK = 2000
# Products per UPDATE. SQLite evaluates the CASE by comparing each row with the chunk's ids (work grows with
# the square of the chunk), so a few hundred keeps each statement cheap.
UPDATE_CHUNK = 500


class QuantitiesInvalid(ValueError):
    """Some quantities cannot be set (not whole numbers >= 0, or unknown products); nothing was written."""


def _quantities_update(ids: list[int], quantities: dict[int, int], *, now: datetime) -> None:
    """One UPDATE giving each product in `ids` its own quantity from `quantities`.

    Written as SQL rather than `Case(When(...))`: building and compiling one ORM expression per product
    cost more than the statements it saves (1.1 s per 10,000 products against 0.04 s). PostgreSQL joins
    the new quantities as two arrays (`unnest`, two parameters whatever the size); other databases use
    `CASE id WHEN ... END`."""
    connection = connections[router.db_for_write(Product)]
    quote = connection.ops.quote_name
    table = quote(Product._meta.db_table)
    pk = quote(Product._meta.pk.column)
    quantity = quote(Product._meta.get_field("quantity").column)
    updated_at = quote(Product._meta.get_field("updated_at").column)
    targets = [quantities[pid] for pid in ids]
    stamp = connection.ops.adapt_datetimefield_value(now)
    # Only quoted names from the model and placeholders go into the text; every value is a parameter.
    if connection.vendor == "postgresql":
        sql = (
            f"UPDATE {table} SET {quantity} = new.quantity, {updated_at} = %s "  # noqa: S608
            f"FROM unnest(%s::bigint[], %s::integer[]) AS new(id, quantity) WHERE {table}.{pk} = new.id"
        )
        params: list = [stamp, ids, targets]
    else:
        sql = (
            f"UPDATE {table} SET {quantity} = CASE {pk} {'WHEN %s THEN %s ' * len(ids)}END, {updated_at} = %s "  # noqa: S608
            f"WHERE {pk} IN ({', '.join(['%s'] * len(ids))})"
        )
        params = [value for pair in zip(ids, targets, strict=True) for value in pair]
        params += [stamp, *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def product_quantities_write(*, quantities: dict[int, int]) -> list[QuantityChange]:
    """Set many catalog quantities at once: `{product_id: quantity}`. Returns the changes made (products
    whose quantity already matched are left alone and not returned).

    All or nothing: every value is checked first; a value that is not a whole number >= 0, or an unknown
    product id, raises `QuantitiesInvalid` naming them and writes nothing. The rows are locked
    (`SELECT ... FOR UPDATE`, in chunks) while their current quantities are read, so a concurrent stock move
    waits and the `before` of each change is exact. One UPDATE per `UPDATE_CHUNK` changed products, whatever
    the number of distinct quantities. Safe to re-run. Announces nothing (see the module docstring).
    """
    bad = {pid: q for pid, q in quantities.items() if isinstance(q, bool) or not isinstance(q, int) or q < 0}
    if bad:
        sample = ", ".join(f"{pid}: {q!r}" for pid, q in list(bad.items())[:5])
        raise QuantitiesInvalid(f"{len(bad)} quantities are not whole numbers >= 0 ({sample}).")
    if not quantities:
        return []
    product_ids = list(quantities)
    now = timezone.now()
    with transaction.atomic():
        before: dict[int, int] = {}
        for start in range(0, len(product_ids), LOCK_CHUNK):
            chunk = product_ids[start : start + LOCK_CHUNK]
            before.update(Product.objects.select_for_update().filter(pk__in=chunk).values_list("pk", "quantity"))
        missing = [pid for pid in product_ids if pid not in before]
        if missing:
            raise QuantitiesInvalid(f"{len(missing)} products do not exist (ids {missing[:10]}).")
        changed = [pid for pid, quantity in quantities.items() if before[pid] != quantity]
        for start in range(0, len(changed), UPDATE_CHUNK):
            _quantities_update(changed[start : start + UPDATE_CHUNK], quantities, now=now)
    return [QuantityChange(product_id=pid, before=before[pid], after=quantities[pid]) for pid in changed]
