"""The Walmart SKU migration: listings of an existing database get their product's SKU as Walmart SKU."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from listings.models import Listing
from sync.due import due_triggers_drop, due_triggers_install
from tests.factories import StoreFactory

BEFORE = [("listings", "0007_listing_error_sort_index")]


@pytest.fixture
def before_walmart_sku(transactional_db):
    # The sync's dirty-set triggers name the listings table's current columns: off while it is older.
    # Unapplying a sync migration that drops and reinstalls them around its own changes installs them again,
    # for the columns the listings table has at that point: so the sync goes back first, then the triggers are
    # dropped, then the listings go back (SQLite checks a table's triggers when one of its columns is dropped).
    executor = MigrationExecutor(connection)
    executor.migrate([("sync", "0006_feed_catch_up")])
    due_triggers_drop()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    due_triggers_install()


def test_existing_listings_get_their_products_sku(before_walmart_sku):
    # given: two listings of two products in one store, before the field existed
    old = before_walmart_sku
    store = StoreFactory()
    Product = old.get_model("listings", "Product")
    first = Product.objects.create(sku="OLD-1", name="One", price="1.00")
    second = Product.objects.create(sku="OLD-2", name="Two", price="2.00")
    OldListing = old.get_model("listings", "Listing")
    OldListing.objects.create(store_id=store.pk, product_id=first.pk)
    OldListing.objects.create(store_id=store.pk, product_id=second.pk)
    # when
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then
    assert sorted(Listing.objects.values_list("product__sku", "walmart_sku")) == [
        ("OLD-1", "OLD-1"),
        ("OLD-2", "OLD-2"),
    ]
