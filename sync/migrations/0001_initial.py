"""The sync engine's models, moved from the inventory app without moving data: `inventory.0005` renamed the
tables to `sync_*`, this migration takes the models into the sync app's state (no database change), moves
their content types (so permissions given to groups follow), and points the periodic tasks created by
earlier deploys at the tasks' new names (`sync.tasks.*`)."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

MOVED_MODELS = ("storesyncsettings", "syncstate", "itemupdate", "syncfailure", "listingsync", "storesync")
RENAMED_TASKS = {
    "inventory.tasks.sync_run_task": "sync.tasks.sync_run_task",
    "inventory.tasks.sync_reconcile_task": "sync.tasks.sync_reconcile_task",
    "inventory.tasks.inventory_sync_tick_task": "sync.tasks.inventory_sync_tick_task",
    "inventory.tasks.sync_reconcile_tick_task": "sync.tasks.sync_reconcile_tick_task",
    "pricing.tasks.price_sync_tick_task": "sync.tasks.price_sync_tick_task",
}


def _content_types_move(apps, old_label: str, new_label: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if not content_type.objects.filter(app_label=new_label, model=model).exists():
            content_type.objects.filter(app_label=old_label, model=model).update(app_label=new_label)


def _periodic_tasks_rename(apps, renames: dict[str, str]) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    changed = sum(periodic_task.objects.filter(task=old).update(task=new) for old, new in renames.items())
    if changed:
        # Tell a running beat (django-celery-beat's DatabaseScheduler) to reload its schedule.
        apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
            ident=1, defaults={"last_update": timezone.now()}
        )


def forwards(apps, schema_editor) -> None:
    _content_types_move(apps, "inventory", "sync")
    _periodic_tasks_rename(apps, RENAMED_TASKS)


def backwards(apps, schema_editor) -> None:
    _content_types_move(apps, "sync", "inventory")
    _periodic_tasks_rename(apps, {new: old for old, new in RENAMED_TASKS.items()})


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("channel_manager", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("inventory", "0005_sync_models_to_sync_app"),
        ("listings", "0003_product_search_trigram_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="ListingSync",
                    fields=[],
                    options={
                        "verbose_name": "listing sync",
                        "verbose_name_plural": "listing sync",
                        "proxy": True,
                        "indexes": [],
                        "constraints": [],
                    },
                    bases=("listings.listing",),
                ),
                migrations.CreateModel(
                    name="StoreSync",
                    fields=[],
                    options={
                        "verbose_name": "store sync",
                        "verbose_name_plural": "store sync",
                        "proxy": True,
                        "indexes": [],
                        "constraints": [],
                    },
                    bases=("channel_manager.store",),
                ),
                migrations.CreateModel(
                    name="ItemUpdate",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "stream",
                            models.CharField(choices=[("inventory", "Inventory"), ("price", "Price")], max_length=20),
                        ),
                        ("sku", models.CharField(max_length=50)),
                        ("value", models.CharField(help_text="Quantity or price sent.", max_length=30)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("rate_limited", "Rate limited (not applied)"),
                                    ("not_sent", "Not sent"),
                                ],
                                default="pending",
                                max_length=20,
                            ),
                        ),
                        ("error", models.TextField(blank=True)),
                        ("correlation_id", models.CharField(blank=True, max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "listing",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="listings.listing",
                            ),
                        ),
                        (
                            "store",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="item_updates",
                                to="channel_manager.store",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["store", "stream", "-created_at"], name="itemupdate_store_stream_idx")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="StoreSyncSettings",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "safety_buffer",
                            models.PositiveIntegerField(
                                default=0,
                                help_text="Units kept back from Walmart for every listing (the quantity sent is reduced by it).",
                            ),
                        ),
                        (
                            "max_quantity",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="Never show Walmart more than this many units; empty means no cap.",
                                null=True,
                            ),
                        ),
                        (
                            "feeds_per_hour",
                            models.PositiveSmallIntegerField(
                                default=6,
                                help_text="Inventory and price feeds per hour each, when Walmart's partner profile is empty.",
                            ),
                        ),
                        (
                            "inventory_feed_max_bytes",
                            models.PositiveIntegerField(
                                default=5242880,
                                help_text="Largest inventory feed file, when the partner profile is empty.",
                            ),
                        ),
                        (
                            "price_feed_max_bytes",
                            models.PositiveIntegerField(
                                default=10000000,
                                help_text="Largest price feed file, when the partner profile is empty.",
                            ),
                        ),
                        (
                            "inventory_feed_max_items",
                            models.PositiveIntegerField(
                                default=100000,
                                help_text="Items per inventory feed (Walmart's feed schema allows 100,000).",
                            ),
                        ),
                        (
                            "price_feed_max_items",
                            models.PositiveIntegerField(
                                default=10000, help_text="Items per price feed (Walmart allows 10,000)."
                            ),
                        ),
                        (
                            "single_calls_per_tick",
                            models.PositiveSmallIntegerField(
                                default=50,
                                help_text="Most single-item updates per stream per planner run (Walmart's rate-limit headers can lower it).",
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "store",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sync_settings",
                                to="channel_manager.store",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "store sync settings",
                        "verbose_name_plural": "store sync settings",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("feeds_per_hour__gte", 1)),
                                name="sync_settings_feeds_per_hour_positive",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("inventory_feed_max_items__gte", 1), ("inventory_feed_max_items__lte", 100000)
                                ),
                                name="sync_settings_inventory_feed_items_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("price_feed_max_items__gte", 1), ("price_feed_max_items__lte", 10000)
                                ),
                                name="sync_settings_price_feed_items_range",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SyncFailure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "stream",
                            models.CharField(choices=[("inventory", "Inventory"), ("price", "Price")], max_length=20),
                        ),
                        ("value", models.CharField(max_length=30)),
                        ("message", models.TextField()),
                        ("created_at", models.DateTimeField()),
                        (
                            "listing",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sync_failures",
                                to="listings.listing",
                            ),
                        ),
                    ],
                    options={
                        "constraints": [
                            models.UniqueConstraint(fields=("listing", "stream"), name="unique_sync_failure_per_stream")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SyncState",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "stream",
                            models.CharField(choices=[("inventory", "Inventory"), ("price", "Price")], max_length=20),
                        ),
                        (
                            "single_not_before",
                            models.DateTimeField(
                                blank=True,
                                help_text="No single-item call before this time (Walmart answered 429).",
                                null=True,
                            ),
                        ),
                        (
                            "feed_not_before",
                            models.DateTimeField(
                                blank=True, help_text="No feed before this time (Walmart answered 429).", null=True
                            ),
                        ),
                        ("last_run_at", models.DateTimeField(blank=True, null=True)),
                        ("last_run_summary", models.JSONField(blank=True, default=dict)),
                        ("last_error", models.TextField(blank=True)),
                        ("last_reconciled_at", models.DateTimeField(blank=True, null=True)),
                        ("last_reconcile_summary", models.JSONField(blank=True, default=dict)),
                        (
                            "store",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sync_states",
                                to="channel_manager.store",
                            ),
                        ),
                    ],
                    options={
                        "constraints": [
                            models.UniqueConstraint(fields=("store", "stream"), name="unique_sync_state_per_stream")
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
