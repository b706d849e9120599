"""The planner's dirty set: which matched listings may show Walmart another value than it confirmed.

A `ListingSyncDue` row (listing, stream) says "this listing's desired value for this stream may differ from
the one Walmart confirmed". The planner reads only these rows (its cost is the change, not the catalog) and
settles the ones it finds equal. Rows are written by the database itself, in the writer's transaction, by
triggers on every input of the desired value:

- `listings_product`: quantity, price or SKU changed (the catalog's edits, imports, stock moves, intake);
- `listings_listing`: a listing inserted matched, or its status, product, confirmed values or price override
  changed (matching, read-backs, the sync's own confirmations, drift, resync, shipments lowering confirmed);
- `inventory_stockreservation`: a store's open reservation inserted, changed or deleted.

Triggers, not signals: every writer is covered, whether it goes through the ORM, `bulk_update`, raw SQL or
COPY, so a writer that forgets to announce a change cannot strand a listing out of sync. On PostgreSQL they
are statement-level with transition tables (one set-based INSERT per statement, e.g. per import chunk); on
SQLite row-level. They are (re)installed after every `migrate` (`due_triggers_install`, on `post_migrate`),
because SQLite drops a table's triggers when a migration rebuilds the table.

A stock move through a reservation (intake, provisional orders, shipments, cancellations) changes the product's
quantity and the store's reservation in one (sub)transaction: the product trigger marks the product's listings,
then the reservation trigger would mark the store's one again. On PostgreSQL the reservation trigger leaves out
a listing whose inventory row was written by the (sub)transaction that wrote the reservation (the row's `xmin`
is the reservation's), so each is marked once. A row written by another transaction, or in a savepoint since
rolled back, is marked as always: its generation still grows past what a running planner read. (`xmin` is
compared as stored: a row left untouched for 2**32 transactions could compare equal; it is due already then,
only its generation would not grow.)

What no trigger sees, the store-wide inputs (safety buffer, cap, price rule), asks for a rescan
(`due_rescan_request`): the next run computes every matched listing's desired value in SQL and marks those
that differ. A rescan also runs every `SYNC_RESCAN_SECONDS` as a safety net.

A row's `generation` grows with every mark, so the planner deletes a row only if nothing marked it since it
was read (a change committed while the planner ran is never lost).
"""

# The SQL below is built from model table names and fixed status values only; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router

from channel_manager.models import Store
from inventory.models import StockReservation
from listings.models import Listing, Product
from pricing.desired import PriceRuleValues
from sync.models import ListingSyncDue, StoreSyncSettings
from sync.planning import INVENTORY, PRICE

MATCHED = (Listing.Status.MATCH.value, Listing.Status.MATCH_IN_STAGE.value)
_SETTLE_CHUNK = 500


def _names() -> dict[str, str]:
    return {
        "due": ListingSyncDue._meta.db_table,
        "listing": Listing._meta.db_table,
        "product": Product._meta.db_table,
        "reservation": StockReservation._meta.db_table,
        "matched": ", ".join(f"'{status}'" for status in MATCHED),
    }


_UPSERT = "ON CONFLICT (listing_id, stream) DO UPDATE SET generation = {due}.generation + 1"

_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION sync_due_mark_products() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {due} (listing_id, store_id, stream, generation)
  SELECT l.id, l.store_id, s.stream, 1
  FROM sync_new n JOIN sync_old o ON o.id = n.id
  JOIN {listing} l ON l.product_id = n.id
  CROSS JOIN LATERAL (VALUES
    ('inventory', n.quantity IS DISTINCT FROM o.quantity OR n.sku IS DISTINCT FROM o.sku),
    ('price', n.price IS DISTINCT FROM o.price OR n.sku IS DISTINCT FROM o.sku)
  ) AS s(stream, changed)
  WHERE s.changed AND l.status IN ({matched})
  """
    + _UPSERT
    + """;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION sync_due_mark_listings_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {due} (listing_id, store_id, stream, generation)
  SELECT n.id, n.store_id, s.stream, 1
  FROM sync_new n CROSS JOIN (VALUES ('inventory'), ('price')) AS s(stream)
  WHERE n.status IN ({matched})
  """
    + _UPSERT
    + """;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION sync_due_mark_listings_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {due} (listing_id, store_id, stream, generation)
  SELECT n.id, n.store_id, s.stream, 1
  FROM sync_new n JOIN sync_old o ON o.id = n.id
  CROSS JOIN LATERAL (VALUES
    ('inventory', n.status IS DISTINCT FROM o.status OR n.product_id IS DISTINCT FROM o.product_id
       OR n.confirmed_quantity IS DISTINCT FROM o.confirmed_quantity{listing_changed_pg}),
    ('price', n.status IS DISTINCT FROM o.status OR n.product_id IS DISTINCT FROM o.product_id
       OR n.confirmed_price IS DISTINCT FROM o.confirmed_price OR n.price_override IS DISTINCT FROM o.price_override
       {listing_changed_pg})
  ) AS s(stream, changed)
  WHERE s.changed AND n.status IN ({matched})
  """
    + _UPSERT
    + """;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION sync_due_mark_reservations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  writer xid;
BEGIN
  -- The (sub)transaction that wrote these reservations (every row of a statement has the same xmin; deleted
  -- rows are gone, so a delete marks every listing).
  IF TG_OP <> 'DELETE' THEN
    SELECT x.xmin INTO writer FROM {reservation} x
    JOIN (SELECT store_id, product_id FROM sync_rows LIMIT 1) f
      ON x.store_id = f.store_id AND x.product_id = f.product_id;
  END IF;
  INSERT INTO {due} (listing_id, store_id, stream, generation)
  SELECT l.id, l.store_id, 'inventory', 1
  FROM sync_rows r JOIN {listing} l ON l.store_id = r.store_id AND l.product_id = r.product_id
  WHERE l.status IN ({matched}) AND NOT EXISTS (
    SELECT 1 FROM {due} d WHERE d.listing_id = l.id AND d.stream = 'inventory' AND d.xmin = writer)
  """
    + _UPSERT
    + """;
  RETURN NULL;
END $$""",
    "DROP TRIGGER IF EXISTS sync_due_products_updated ON {product}",
    """CREATE TRIGGER sync_due_products_updated AFTER UPDATE ON {product}
  REFERENCING OLD TABLE AS sync_old NEW TABLE AS sync_new
  FOR EACH STATEMENT EXECUTE FUNCTION sync_due_mark_products()""",
    "DROP TRIGGER IF EXISTS sync_due_listings_inserted ON {listing}",
    """CREATE TRIGGER sync_due_listings_inserted AFTER INSERT ON {listing}
  REFERENCING NEW TABLE AS sync_new FOR EACH STATEMENT EXECUTE FUNCTION sync_due_mark_listings_inserted()""",
    "DROP TRIGGER IF EXISTS sync_due_listings_updated ON {listing}",
    """CREATE TRIGGER sync_due_listings_updated AFTER UPDATE ON {listing}
  REFERENCING OLD TABLE AS sync_old NEW TABLE AS sync_new
  FOR EACH STATEMENT EXECUTE FUNCTION sync_due_mark_listings_updated()""",
    "DROP TRIGGER IF EXISTS sync_due_reservations_inserted ON {reservation}",
    """CREATE TRIGGER sync_due_reservations_inserted AFTER INSERT ON {reservation}
  REFERENCING NEW TABLE AS sync_rows FOR EACH STATEMENT EXECUTE FUNCTION sync_due_mark_reservations()""",
    "DROP TRIGGER IF EXISTS sync_due_reservations_updated ON {reservation}",
    """CREATE TRIGGER sync_due_reservations_updated AFTER UPDATE ON {reservation}
  REFERENCING NEW TABLE AS sync_rows FOR EACH STATEMENT EXECUTE FUNCTION sync_due_mark_reservations()""",
    "DROP TRIGGER IF EXISTS sync_due_reservations_deleted ON {reservation}",
    """CREATE TRIGGER sync_due_reservations_deleted AFTER DELETE ON {reservation}
  REFERENCING OLD TABLE AS sync_rows FOR EACH STATEMENT EXECUTE FUNCTION sync_due_mark_reservations()""",
]

_SQLITE_UPSERT = "ON CONFLICT (listing_id, stream) DO UPDATE SET generation = generation + 1"


def _sqlite_mark(stream: str, source: str, condition: str) -> str:
    return (
        f"INSERT INTO {{due}} (listing_id, store_id, stream, generation) SELECT l.id, l.store_id, '{stream}', 1 "
        f"FROM {source} WHERE {condition} {_SQLITE_UPSERT};"
    )


def _sqlite_reservation_trigger(event: str, row: str) -> list[str]:
    name = {"INSERT": "sync_due_reservations_inserted", "UPDATE": "sync_due_reservations_updated"}.get(
        event, "sync_due_reservations_deleted"
    )
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} AFTER {event} ON {{reservation}} BEGIN "
        + _sqlite_mark(
            "inventory",
            "{listing} l",
            f"l.store_id = {row}.store_id AND l.product_id = {row}.product_id AND l.status IN ({{matched}})",
        )
        + " END",
    ]


_LISTING_CHANGED = {
    "inventory": "NEW.confirmed_quantity IS NOT OLD.confirmed_quantity",
    "price": "NEW.confirmed_price IS NOT OLD.confirmed_price OR NEW.price_override IS NOT OLD.price_override",
}

_SQLITE = [
    "DROP TRIGGER IF EXISTS sync_due_products_updated",
    "CREATE TRIGGER sync_due_products_updated AFTER UPDATE ON {product} BEGIN "
    + _sqlite_mark(
        "inventory",
        "{listing} l",
        "l.product_id = NEW.id AND l.status IN ({matched}) "
        "AND (NEW.quantity IS NOT OLD.quantity OR NEW.sku IS NOT OLD.sku)",
    )
    + _sqlite_mark(
        "price",
        "{listing} l",
        "l.product_id = NEW.id AND l.status IN ({matched}) AND (NEW.price IS NOT OLD.price OR NEW.sku IS NOT OLD.sku)",
    )
    + " END",
    "DROP TRIGGER IF EXISTS sync_due_listings_inserted",
    "CREATE TRIGGER sync_due_listings_inserted AFTER INSERT ON {listing} BEGIN "
    + _sqlite_mark("inventory", "{listing} l", "l.id = NEW.id AND l.status IN ({matched})")
    + _sqlite_mark("price", "{listing} l", "l.id = NEW.id AND l.status IN ({matched})")
    + " END",
    "DROP TRIGGER IF EXISTS sync_due_listings_updated",
    "CREATE TRIGGER sync_due_listings_updated AFTER UPDATE ON {listing} BEGIN "
    + "".join(
        _sqlite_mark(
            stream,
            "{listing} l",
            "l.id = NEW.id AND l.status IN ({matched}) AND (NEW.status IS NOT OLD.status "
            f"OR NEW.product_id IS NOT OLD.product_id OR {changed}{{listing_changed_sqlite}})",
        )
        for stream, changed in _LISTING_CHANGED.items()
    )
    + " END",
    *_sqlite_reservation_trigger("INSERT", "NEW"),
    *_sqlite_reservation_trigger("UPDATE", "NEW"),
    *_sqlite_reservation_trigger("DELETE", "OLD"),
]


# The Sync page's filters of a store's listings (with an error, with drift), served by partial indexes that
# live with the triggers (the listings app's model knows nothing of them; both vendors support them).
_INDEXES = {
    "sync_listing_errors_idx": "(store_id, id) WHERE inventory_error <> '' OR price_error <> ''",
    "sync_listing_drift_idx": "(store_id, id) WHERE inventory_drift_at IS NOT NULL OR price_drift_at IS NOT NULL",
}


def _index_statements() -> list[str]:
    listing = _names()["listing"]
    return [f"CREATE INDEX IF NOT EXISTS {name} ON {listing} {definition}" for name, definition in _INDEXES.items()]


# Listing columns that also decide what is sent, when the listings table has them (added by later migrations:
# the triggers follow the table as it is when they are installed, in a migration or after `migrate`).
_LISTING_OPTIONAL = ("walmart_sku", "sync_held")


def due_trigger_statements(vendor: str, listing_columns: Iterable[str] = ()) -> list[str]:
    """The statements that (re)install the marking triggers (and the Sync page's partial indexes) on
    `vendor`'s database, for a listings table with `listing_columns`."""
    optional = [column for column in _LISTING_OPTIONAL if column in set(listing_columns)]
    names = {
        **_names(),
        "listing_changed_pg": "".join(f" OR n.{c} IS DISTINCT FROM o.{c}" for c in optional),
        "listing_changed_sqlite": "".join(f" OR NEW.{c} IS NOT OLD.{c}" for c in optional),
    }
    if vendor == "postgresql":
        return [statement.format(**names) for statement in _POSTGRESQL] + _index_statements()
    if vendor == "sqlite":
        return [statement.format(**names) for statement in _SQLITE] + _index_statements()
    raise ImproperlyConfigured(f"The sync's dirty set has triggers for PostgreSQL and SQLite only, not {vendor}.")


def due_triggers_install(*, using: str = "default") -> bool:
    """(Re)install the triggers that mark listings due (safe to re-run). Returns False when the dirty set's
    table does not exist yet (the sync's migrations have not run on `using`)."""
    connection = connections[using]
    if ListingSyncDue._meta.db_table not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, Listing._meta.db_table)
        for statement in due_trigger_statements(connection.vendor, [column.name for column in description]):
            cursor.execute(statement)
    return True


def due_triggers_install_migration(apps, schema_editor) -> None:
    """`due_triggers_install` as a migration's RunPython step."""
    due_triggers_install(using=schema_editor.connection.alias)


def due_triggers_drop_migration(apps, schema_editor) -> None:
    """`due_triggers_drop` as a migration's RunPython step."""
    due_triggers_drop(using=schema_editor.connection.alias)


_TRIGGERS = {
    "sync_due_products_updated": "{product}",
    "sync_due_listings_inserted": "{listing}",
    "sync_due_listings_updated": "{listing}",
    "sync_due_reservations_inserted": "{reservation}",
    "sync_due_reservations_updated": "{reservation}",
    "sync_due_reservations_deleted": "{reservation}",
}
_FUNCTIONS = (
    "sync_due_mark_products",
    "sync_due_mark_listings_inserted",
    "sync_due_mark_listings_updated",
    "sync_due_mark_reservations",
)


def due_triggers_drop(*, using: str = "default") -> None:
    """Remove the triggers (before the dirty set's table goes, when its migration is unapplied)."""
    connection = connections[using]
    names = _names()
    with connection.cursor() as cursor:
        for trigger, table in _TRIGGERS.items():
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table.format(**names)}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        if connection.vendor == "postgresql":
            for function in _FUNCTIONS:
                cursor.execute(f"DROP FUNCTION IF EXISTS {function}()")
        for index in _INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {index}")


# ------------------------------------------------------------------------------------------ reading, settling


def due_settle(*, marks: Iterable[tuple[int, int]]) -> int:
    """Delete the given (due id, generation) rows, each only if nothing marked it again since it was read.
    Returns how many were deleted."""
    marks = list(marks)
    connection = connections[router.db_for_write(ListingSyncDue)]
    table = connection.ops.quote_name(ListingSyncDue._meta.db_table)
    deleted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(marks), _SETTLE_CHUNK):
            chunk = marks[start : start + _SETTLE_CHUNK]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"DELETE FROM {table} WHERE (id, generation) IN (VALUES {values})",
                [number for mark in chunk for number in mark],
            )
            deleted += cursor.rowcount
    return deleted


# ------------------------------------------------------------------------------------------ rescans


def desired_quantity_sql(vendor: str, sync_settings: StoreSyncSettings) -> tuple[str, list]:
    """(desired expression, params) of the quantity Walmart should show, as `inventory.desired` computes it
    (products `p`, the store's open reservations `r`)."""
    least, greatest = ("LEAST", "GREATEST") if vendor == "postgresql" else ("MIN", "MAX")
    quantity = "(p.quantity + COALESCE(r.quantity, 0) - %s)"
    params: list = [sync_settings.safety_buffer]
    if sync_settings.max_quantity is not None:
        quantity = f"{least}({quantity}, %s)"
        params.append(sync_settings.max_quantity)
    return f"{greatest}({quantity}, 0)", params


def desired_price_sql(rule: PriceRuleValues) -> tuple[str, str, list]:
    """(lateral joins, desired expression, params) of the desired price in PostgreSQL's exact numeric
    arithmetic, as `pricing.desired.price_desired` computes it (ROUND rounds half away from zero, which is
    ROUND_HALF_UP for these amounts). None (nothing to send) is a desired value <= 0."""
    if rule.markup_type == "percent":
        marked, params = "ROUND(p.price * (100 + %s) / 100, 2)", [rule.markup_value]
    elif rule.markup_type == "fixed":
        marked, params = "ROUND(p.price + %s, 2)", [rule.markup_value]
    else:
        marked, params = "ROUND(p.price, 2)", []
    ending = "m.marked"
    if rule.price_ending is not None:
        ending = (
            "CASE WHEN m.marked > 0 THEN FLOOR(m.marked) + %s + "
            "CASE WHEN FLOOR(m.marked) + %s < m.marked THEN 1 ELSE 0 END ELSE m.marked END"
        )
        params = [*params, rule.price_ending, rule.price_ending]
    joins = (
        f"CROSS JOIN LATERAL (SELECT {marked} AS marked) m "
        "CROSS JOIN LATERAL (SELECT CASE WHEN l.price_override IS NOT NULL THEN ROUND(l.price_override, 2) "
        f"ELSE {ending} END AS desired) d"
    )
    return joins, "d.desired", params


def due_rescan(*, store: Store, stream: str, sync_settings: StoreSyncSettings, rule: PriceRuleValues) -> int:
    """Mark due every matched listing of `store` whose desired value of `stream` differs from the confirmed
    one, computed in SQL over the whole store (the planner then reads only those). On SQLite the price stream
    marks every matched listing (its decimals are floats there; the planner computes the exact values).
    Returns how many rows were marked. For store-wide inputs no trigger sees, and as a periodic safety net."""
    connection = connections[router.db_for_write(ListingSyncDue)]
    names = _names()
    upsert = _UPSERT.format(**names) if connection.vendor == "postgresql" else _SQLITE_UPSERT
    head = (
        f"INSERT INTO {names['due']} (listing_id, store_id, stream, generation) "
        f"SELECT l.id, l.store_id, %s, 1 FROM {names['listing']} l JOIN {names['product']} p ON p.id = l.product_id "
    )
    where = f"WHERE l.store_id = %s AND l.status IN ({names['matched']})"
    if stream == INVENTORY:
        desired, params = desired_quantity_sql(connection.vendor, sync_settings)
        sql = (
            head
            + f"LEFT JOIN {names['reservation']} r ON r.store_id = l.store_id AND r.product_id = l.product_id "
            + where
            + f" AND (l.confirmed_quantity IS NULL OR l.confirmed_quantity <> {desired}) {upsert}"
        )
        arguments = [INVENTORY, store.pk, *params]
    elif connection.vendor == "postgresql":
        joins, desired, params = desired_price_sql(rule)
        sql = (
            head
            + joins
            + " "
            + where
            + f" AND {desired} > 0 AND (l.confirmed_price IS NULL OR l.confirmed_price <> {desired}) {upsert}"
        )
        arguments = [PRICE, *params, store.pk]
    else:
        sql, arguments = f"{head}{where} {upsert}", [PRICE, store.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        return cursor.rowcount
