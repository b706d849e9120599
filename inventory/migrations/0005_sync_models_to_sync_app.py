"""The sync engine's models move to the `sync` app (no data moves): their tables are renamed from
`inventory_*` to `sync_*` here, and the models leave this app's state; `sync.0001_initial` takes them into its
state without touching the database. Rows, indexes and constraints stay as they are."""

from django.db import migrations

MOVED_TABLES = {
    "storesyncsettings": "sync_storesyncsettings",
    "syncstate": "sync_syncstate",
    "itemupdate": "sync_itemupdate",
    "syncfailure": "sync_syncfailure",
}


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0004_remove_storesyncsettings_sync_settings_feed_max_items_positive_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name=model, table=table) for model, table in MOVED_TABLES.items()
            ],
            state_operations=[
                migrations.DeleteModel(name="ListingSync"),
                migrations.DeleteModel(name="StoreSync"),
                migrations.DeleteModel(name="ItemUpdate"),
                migrations.DeleteModel(name="StoreSyncSettings"),
                migrations.DeleteModel(name="SyncFailure"),
                migrations.DeleteModel(name="SyncState"),
            ],
        ),
    ]
