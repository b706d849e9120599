"""Trigram indexes for the Listings tab's product search, on PostgreSQL only.

`listings.selectors.listing_list` matches `sku__istartswith` or `name__icontains`, which compile to
`UPPER("sku"::text) LIKE UPPER('...%')` and `UPPER("name"::text) LIKE UPPER('%...%')`. No B-tree index
serves a substring, so PostgreSQL scanned every product; a GIN index with pg_trgm's operator class on each
of those exact expressions serves both (one bitmap per column, OR-ed). Other databases skip this migration.
Creating the extension needs the right privilege: without it the indexes are skipped with a warning (the
search still works, by a sequential scan).
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)
INDEXES = {
    "product_name_upper_trgm_idx": "name",
    "product_sku_upper_trgm_idx": "sku",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("listings", "Product")._meta.db_table)
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for index, column in INDEXES.items():
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {index} ON {table} "
                    f"USING gin (UPPER({schema_editor.quote_name(column)}::text) gin_trgm_ops)"
                )
    except DatabaseError as error:
        logger.warning("Product search trigram indexes not created (%s); the search will scan.", error)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("listings", "0002_importjob_unchanged_count")]

    operations = [migrations.RunPython(forwards, backwards)]
