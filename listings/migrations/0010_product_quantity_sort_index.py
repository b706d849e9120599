"""The Listings tab's sort by quantity: an index on the product's (quantity, id).

Built CONCURRENTLY on PostgreSQL: a catalog of a million products keeps taking stock moves and orders while
it builds (a plain CREATE INDEX would hold their writes for the whole build)."""

from django.db import migrations, models

from channel_manager.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("listings", "0009_listing_sync_held"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="product",
            index=models.Index(fields=["quantity", "id"], name="product_quantity_id_idx"),
        ),
    ]
