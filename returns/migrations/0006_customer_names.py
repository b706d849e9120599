"""The Returns tab's customer-name search reads as the Orders tab's (orders 0014): the names its returns carry
kept in orders.CustomerName by the same triggers on returns_return (those already stored copied once), and
the rows of the names found read index-only from return_store_name_cover_idx with every sort key."""

from importlib import import_module

from django.db import migrations, models

TABLE = "returns_return"
names = import_module("orders.migrations.0014_customer_names")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(names.triggers_sql(TABLE, "return"))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(names.triggers_drop_sql(TABLE, "return"))


class Migration(migrations.Migration):
    dependencies = [
        ("channel_manager", "0003_storemembership_role"),
        ("orders", "0014_customer_names"),
        ("returns", "0005_customer_name_statistics"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="return",
            index=models.Index(
                fields=["store", "customer_name"],
                include=(
                    "id",
                    "return_order_id",
                    "order",
                    "requested_at",
                    "return_by",
                    "refund_deadline",
                    "charged_total",
                    "status",
                    "updated_at",
                ),
                name="return_store_name_cover_idx",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
