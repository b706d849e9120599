"""Moving the sync engine's models from the inventory app to the sync app keeps an existing database's rows:
a database at the last migration before the move, with rows in every moved table, a permission on a moved
model and periodic tasks under the old task names, migrates forward with everything intact."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from inventory.models import StockMovement
from listings.models import Listing
from sync.models import ItemUpdate, StoreSyncSettings, SyncFailure, SyncState
from tests.factories import StoreFactory
from tests.inventory.factories import ProductFactory

BEFORE_THE_MOVE = [("inventory", "0004_remove_storesyncsettings_sync_settings_feed_max_items_positive_and_more")]


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def before_the_move(transactional_db):
    """The database as it was before the move (the sync app unapplied); back to the latest state after."""
    executor = MigrationExecutor(connection)
    executor.migrate([*BEFORE_THE_MOVE, ("sync", None)])
    yield executor.loader.project_state(BEFORE_THE_MOVE).apps
    migrate_to_latest()


def test_an_existing_database_migrates_forward_with_its_sync_rows_intact(before_the_move):
    # given: a database before the move, with a row in each moved table
    old_apps = before_the_move
    store = StoreFactory()
    product = ProductFactory(quantity=4)
    listing = Listing.objects.create(store=store, product=product, status=Listing.Status.MATCH)
    now = timezone.now()
    old = {name: old_apps.get_model("inventory", name) for name in ("StoreSyncSettings", "SyncState", "ItemUpdate")}
    old["StoreSyncSettings"].objects.create(store_id=store.pk, safety_buffer=3, max_quantity=40)
    old["SyncState"].objects.create(store_id=store.pk, stream="price", last_error="429", last_run_at=now)
    item_update = old["ItemUpdate"].objects.create(
        store_id=store.pk, stream="inventory", listing_id=listing.pk, sku=product.sku, value="4", status="succeeded"
    )
    old_apps.get_model("inventory", "SyncFailure").objects.create(
        listing_id=listing.pk, stream="price", value="9.99", message="Refused", created_at=now - timedelta(hours=1)
    )
    old_apps.get_model("inventory", "StockMovement").objects.create(
        product_id=product.pk, delta=4, quantity_after=4, reason="manual", actor="alice"
    )
    old_content_type = ContentType.objects.get(app_label="inventory", model="itemupdate")
    group = Group.objects.create(name="sync operators")
    group.permissions.add(Permission.objects.get(content_type_id=old_content_type.pk, codename="view_itemupdate"))
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name__in=["Inventory sync planner", "Price sync planner"]).delete()
    PeriodicTask.objects.create(
        name="Inventory sync planner", task="inventory.tasks.inventory_sync_tick_task", interval=every_minute
    )
    PeriodicTask.objects.create(
        name="Price sync planner", task="pricing.tasks.price_sync_tick_task", interval=every_minute
    )

    # when
    migrate_to_latest()

    # then: the rows are read through the sync app's models, from the renamed tables
    assert ItemUpdate._meta.db_table == "sync_itemupdate"
    assert list(StoreSyncSettings.objects.values_list("store_id", "safety_buffer", "max_quantity")) == [
        (store.pk, 3, 40)
    ]
    assert list(SyncState.objects.values_list("store_id", "stream", "last_error")) == [(store.pk, "price", "429")]
    assert list(ItemUpdate.objects.values_list("pk", "listing_id", "value", "status")) == [
        (item_update.pk, listing.pk, "4", "succeeded")
    ]
    assert list(SyncFailure.objects.values_list("listing_id", "value", "message")) == [(listing.pk, "9.99", "Refused")]
    assert list(StockMovement.objects.values_list("product_id", "delta")) == [(product.pk, 4)]
    # the group's permission now names the sync app's model
    assert [(p.content_type.app_label, p.codename) for p in group.permissions.all()] == [("sync", "view_itemupdate")]
    # the periodic tasks point at the tasks' new names, their schedules kept
    assert dict(
        PeriodicTask.objects.filter(name__in=["Inventory sync planner", "Price sync planner"]).values_list(
            "name", "task"
        )
    ) == {
        "Inventory sync planner": "sync.tasks.inventory_sync_tick_task",
        "Price sync planner": "sync.tasks.price_sync_tick_task",
    }
    # and new rows are written where the old ones are
    ItemUpdate.objects.create(store=store, stream="price", sku=product.sku, value="5.00")
    assert ItemUpdate.objects.count() == 2
