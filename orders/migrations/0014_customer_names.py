"""Customer-name searches read from names and a covering index instead of the rows' heap.

CustomerName holds each store's distinct customer names; on PostgreSQL, triggers on orders_order (here) and
returns_return (returns 0006) add the names every write carries, in its transaction: one statement-level
trigger per INSERT or COPY (its new rows as a transition table), one row-level trigger per UPDATE that
changes a row's name or store (a WHEN clause: other updates do not call it). The names already stored are
copied once, under the lock CREATE TRIGGER takes (writes wait for the migration to commit, then fire the
trigger). A trigram index over the names serves the search; order_store_name_cover_idx then reads the rows
of the names found with every sort key, index-only.
"""

import django.db.models.deletion
from django.db import migrations, models

NAMES = "orders_customername"
NAMES_TRIGRAM_INDEX = "customer_name_trgm_idx"
TABLE = "orders_order"

# The names of a statement's new rows not stored yet (the NOT EXISTS spares a sequence value per name
# already stored), in one order, so that two writers meet on a shared new name in the same order.
FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION customer_names_remember() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {NAMES} (store_id, customer_name)
    SELECT DISTINCT written.store_id, written.customer_name FROM written
    WHERE NOT EXISTS (
        SELECT 1 FROM {NAMES} AS known
        WHERE known.store_id = written.store_id AND known.customer_name = written.customer_name
    )
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION customer_name_remember() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {NAMES} (store_id, customer_name) VALUES (NEW.store_id, NEW.customer_name)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
"""  # noqa: S608 (fixed names)


def triggers_sql(table: str, prefix: str) -> str:
    """The triggers keeping CustomerName in step with `table` (a table with store_id and customer_name)."""
    return f"""
CREATE TRIGGER {prefix}_customer_names_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION customer_names_remember();
CREATE TRIGGER {prefix}_customer_name_update AFTER UPDATE OF store_id, customer_name ON {table}
    FOR EACH ROW WHEN (OLD.customer_name IS DISTINCT FROM NEW.customer_name OR OLD.store_id IS DISTINCT FROM NEW.store_id)
    EXECUTE FUNCTION customer_name_remember();
INSERT INTO {NAMES} (store_id, customer_name)
    SELECT DISTINCT store_id, customer_name FROM {table} ORDER BY 1, 2 ON CONFLICT DO NOTHING;
ANALYZE {NAMES};
"""  # noqa: S608 (fixed names)


def triggers_drop_sql(table: str, prefix: str) -> str:
    return (
        f"DROP TRIGGER IF EXISTS {prefix}_customer_names_insert ON {table};"
        f" DROP TRIGGER IF EXISTS {prefix}_customer_name_update ON {table};"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    schema_editor.execute(triggers_sql(TABLE, "order"))
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        trigram = cursor.fetchone() is not None
    if trigram:  # without pg_trgm (0005 could not create it) the names are scanned: a few per customer
        schema_editor.execute(
            f"CREATE INDEX {NAMES_TRIGRAM_INDEX} ON {NAMES} USING gin (UPPER(customer_name::text) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(triggers_drop_sql(TABLE, "order"))
    schema_editor.execute(
        "DROP FUNCTION IF EXISTS customer_names_remember(); DROP FUNCTION IF EXISTS customer_name_remember();"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAMES_TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("channel_manager", "0003_storemembership_role"),
        ("orders", "0013_order_provisional"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerName",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("customer_name", models.CharField(max_length=200)),
            ],
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["store", "customer_name"],
                include=(
                    "id",
                    "order_date",
                    "ship_by",
                    "deliver_by",
                    "order_total",
                    "updated_at",
                    "purchase_order_id",
                    "commerce_order_number",
                    "method_code",
                    "status",
                ),
                name="order_store_name_cover_idx",
            ),
        ),
        migrations.AddField(
            model_name="customername",
            name="store",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="channel_manager.store",
            ),
        ),
        migrations.AddConstraint(
            model_name="customername",
            constraint=models.UniqueConstraint(
                fields=("store", "customer_name"), name="unique_customer_name_per_store"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
