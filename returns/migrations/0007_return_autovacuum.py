"""Autovacuum visits returns_return after 1 % of its rows changed or were inserted, as orders 0015 does for
orders_order (the Returns tab's name searches read return_store_name_cover_idx index-only)."""

from importlib import import_module

from django.db import migrations

TABLE = "returns_return"
storage = import_module("orders.migrations.0015_order_autovacuum")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(storage.storage_set_sql(TABLE))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(storage.storage_reset_sql(TABLE))


class Migration(migrations.Migration):
    dependencies = [("orders", "0015_order_autovacuum"), ("returns", "0006_customer_names")]

    operations = [migrations.RunPython(forwards, backwards)]
