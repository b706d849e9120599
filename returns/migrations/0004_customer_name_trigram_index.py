"""A trigram index for the Returns tab's customer-name search (`customer_name__icontains`), on PostgreSQL only,
as the Orders tab has (orders 0005): `icontains` compiles to `UPPER("customer_name"::text) LIKE UPPER('%...%')`,
which no B-tree index serves. Other databases skip this migration; without the privilege to create pg_trgm
the index is skipped with a warning (the search still works, by a scan).
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)
INDEX = "return_customer_name_trgm_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON returns_return "
                "USING gin (UPPER(customer_name::text) gin_trgm_ops)"
            )
    except DatabaseError as error:
        logger.warning("Customer-name trigram index not created (%s); name search will scan.", error)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("returns", "0003_list_sort_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
