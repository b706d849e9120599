"""The product's SKU without Django's `_like` index (`varchar_pattern_ops`, made for every unique CharField on
PostgreSQL): it serves only a case-sensitive prefix search (`sku__startswith`), which the product never runs
(the Listings tab's SKU search is `sku__istartswith`, served by `product_sku_upper_prefix_idx`; equality and the
sort by SKU use the unique index), so it only cost every new product an index write.

Dropped CONCURRENTLY on PostgreSQL (no other database has it). The models' state never named the index, so
nothing else changes; a later change of the column's type would make Django build it again."""

from django.db import migrations

from channel_manager.migration_operations import DropIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("listings", "0011_listing_buy_box"),
    ]

    operations = [
        DropIndexConcurrently(
            model_name="product",
            name="listings_product_sku_7f141e13_like",
            definition="(sku varchar_pattern_ops)",
            vendor="postgresql",
        ),
    ]
