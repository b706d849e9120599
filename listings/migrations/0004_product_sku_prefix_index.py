"""The Listings tab's SKU search is a prefix search (`sku__istartswith`, compiled to
`UPPER("sku"::text) LIKE UPPER('...%')`): a B-tree on that expression with `text_pattern_ops` serves it (a
range scan, whatever the database's collation) and costs a fraction of the trigram GIN index it replaces
when products are written (a catalog import of 100,000 new products spent about 0.5 s of PostgreSQL's CPU
on that index alone). The name keeps its trigram index: a name is searched for any part. PostgreSQL only;
other databases skip this migration.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("listings", "Product")._meta.db_table)
    schema_editor.execute("DROP INDEX IF EXISTS product_sku_upper_trgm_idx")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS product_sku_upper_prefix_idx ON {table} (UPPER(sku::text) text_pattern_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("listings", "Product")._meta.db_table)
    schema_editor.execute("DROP INDEX IF EXISTS product_sku_upper_prefix_idx")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS product_sku_upper_trgm_idx ON {table} USING gin (UPPER(sku::text) gin_trgm_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [("listings", "0003_product_search_trigram_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
