"""Autovacuum visits orders_order after 1 % of its rows changed or were inserted (PostgreSQL's default is 20 %),
on PostgreSQL only.

The Orders tab's name searches read their rows from order_store_name_cover_idx index-only: a heap page not
marked all-visible since it last changed costs a heap visit per row. With the default, a table of 1,000,000
orders is vacuumed only after 200,000 changes, so a busy desk searches through many changed pages; at 1 %
(10,000 changes) autovacuum marks them visible again within a minute or so of a burst (its naptime).
"""

from django.db import migrations

TABLE = "orders_order"
SCALE_FACTOR = 0.01


def storage_set_sql(table: str) -> str:
    return (
        f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = {SCALE_FACTOR},"
        f" autovacuum_vacuum_insert_scale_factor = {SCALE_FACTOR})"
    )


def storage_reset_sql(table: str) -> str:
    return f"ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(storage_set_sql(TABLE))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(storage_reset_sql(TABLE))


class Migration(migrations.Migration):
    dependencies = [("orders", "0014_customer_names")]

    operations = [migrations.RunPython(forwards, backwards)]
