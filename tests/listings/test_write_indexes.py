"""An index no query uses that costs every new product a write is dropped (DropIndexConcurrently) and comes back
when migrating back: the SKU's `_like` pattern index (PostgreSQL only: Django makes it there alone)."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from listings.models import Product

BEFORE = [("listings", "0011_listing_buy_box")]
SKU_PATTERN_INDEX = "listings_product_sku_7f141e13_like"


def indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Product._meta.db_table)
    return {name: found["columns"] for name, found in constraints.items() if found["index"]}


def test_the_sku_pattern_index_comes_back_when_migrating_back_and_goes_again(transactional_db):
    # given the latest schema: no pattern index (the unique one serves equality and the sort by SKU)
    assert SKU_PATTERN_INDEX not in indexes()
    # when migrating back
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        # then it is there again, on PostgreSQL
        assert indexes().get(SKU_PATTERN_INDEX) == (["sku"] if connection.vendor == "postgresql" else None)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    # and gone once more
    assert SKU_PATTERN_INDEX not in indexes()
