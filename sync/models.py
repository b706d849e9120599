"""Models of the sync engine: per-store sync settings, the planner's state per store and stream, the ledger
of single-item calls (`ItemUpdate`), values Walmart refused (`SyncFailure`), and admin proxies of listings and
stores for the resync and reconciliation actions. Bulk feeds are `channel_manager.Feed` rows.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from channel_manager.models import Store
from listings.models import Listing


class SyncStream(models.TextChoices):
    """The two outbound streams the planner keeps in line with the catalog."""

    INVENTORY = "inventory", _("Inventory")
    PRICE = "price", _("Price")


class StoreSyncSettings(models.Model):
    """Per-store settings of the inventory and price sync. A store without a row uses the defaults.

    The feed limits here are the fallback used when Walmart's partner profile
    (`GET /v3/settings/partnerprofile`) gives none for the seller (it is empty when the seller has no tier).
    """

    store = models.OneToOneField("channel_manager.Store", on_delete=models.CASCADE, related_name="sync_settings")
    safety_buffer = models.PositiveIntegerField(
        default=0, help_text=_("Units kept back from Walmart for every listing (the quantity sent is reduced by it).")
    )
    max_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Never show Walmart more than this many units; empty means no cap.")
    )
    feeds_per_hour = models.PositiveSmallIntegerField(
        default=6, help_text=_("Inventory and price feeds per hour each, when Walmart's partner profile is empty.")
    )
    inventory_feed_max_bytes = models.PositiveIntegerField(
        default=5 * 1024 * 1024, help_text=_("Largest inventory feed file, when the partner profile is empty.")
    )
    price_feed_max_bytes = models.PositiveIntegerField(
        default=10 * 1000 * 1000, help_text=_("Largest price feed file, when the partner profile is empty.")
    )
    inventory_feed_max_items = models.PositiveIntegerField(
        default=100_000, help_text=_("Items per inventory feed (Walmart's feed schema allows 100,000).")
    )
    price_feed_max_items = models.PositiveIntegerField(
        default=10_000, help_text=_("Items per price feed (Walmart allows 10,000).")
    )
    single_calls_per_tick = models.PositiveSmallIntegerField(
        default=50,
        help_text=_("Most single-item updates per stream per planner run (Walmart's rate-limit headers can lower it)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("store sync settings")
        verbose_name_plural = _("store sync settings")
        constraints = [
            models.CheckConstraint(condition=Q(feeds_per_hour__gte=1), name="sync_settings_feeds_per_hour_positive"),
            models.CheckConstraint(
                condition=Q(inventory_feed_max_items__gte=1, inventory_feed_max_items__lte=100_000),
                name="sync_settings_inventory_feed_items_range",
            ),
            models.CheckConstraint(
                condition=Q(price_feed_max_items__gte=1, price_feed_max_items__lte=10_000),
                name="sync_settings_price_feed_items_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Sync settings of store {self.store_id}"


class SyncState(models.Model):
    """The planner's memory per store and stream: when it may call Walmart again after a 429 (`*_not_before`),
    and what its last run and last reconciliation did. Upserted on (store, stream)."""

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="sync_states")
    stream = models.CharField(max_length=20, choices=SyncStream.choices)
    single_not_before = models.DateTimeField(
        null=True, blank=True, help_text=_("No single-item call before this time (Walmart answered 429).")
    )
    feed_not_before = models.DateTimeField(
        null=True, blank=True, help_text=_("No feed before this time (Walmart answered 429).")
    )
    feed_catch_up_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the last catch-up feed went (one per feed window).")
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_summary = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_summary = models.JSONField(default=dict, blank=True)
    rescan_requested_at = models.DateTimeField(
        null=True, blank=True, help_text=_("A store-wide input (buffer, cap, price rule) changed: rescan the store.")
    )
    reconcile_progress = models.JSONField(
        default=dict, blank=True, help_text=_("A reconciliation pass under way: its cursor and counts so far.")
    )
    rescanned_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the planner last compared every matched listing (in SQL).")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "stream"], name="unique_sync_state_per_stream")]

    def __str__(self) -> str:
        return f"{self.stream} sync of store {self.store_id}"


class ListingSyncDue(models.Model):
    """The planner's dirty set (`sync.due`): this listing's desired value of `stream` may differ from what
    Walmart confirmed. Written by database triggers in the writer's transaction; `generation` grows with every
    mark, and the planner deletes a row only at the generation it read (see `sync.due`)."""

    # Neither key has an index of its own: the unique (listing, stream) and sync_due_store_stream_idx lead with them,
    # and every mark (a trigger, per listing and stream) writes each index of this table.
    listing = models.ForeignKey(
        "listings.Listing", on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="sync_due"
    )
    store = models.ForeignKey(
        "channel_manager.Store", on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    stream = models.CharField(max_length=20, choices=SyncStream.choices)
    generation = models.BigIntegerField(default=1)
    due_since = models.DateTimeField(
        db_default=Now(),
        help_text=_("When the listing was marked due (kept while it is marked again, until a run finds it settled)."),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["listing", "stream"], name="unique_sync_due_per_stream")]
        indexes = [models.Index(fields=["store", "stream", "listing"], name="sync_due_store_stream_idx")]

    def __str__(self) -> str:
        return f"{self.stream} of listing {self.listing_id} due"


class ItemUpdate(models.Model):
    """The ledger of single-item calls (`PUT /v3/inventory`, `PUT /v3/price`), durable (CONTRACTS section 3).

    A row is written IN_FLIGHT (with its attempt id and time) in its own committed transaction just before
    its call, then marked with Walmart's answer. A row still in flight after `SYNC_SEND_DEADLINE_SECONDS`
    (the process died, or the write after the call failed) may or may not have been applied: the next run of
    its store and stream (queued by the sweep) reads the SKU back from Walmart and ends it SUCCEEDED or FAILED
    before anything is sent for the listing again. PENDING is the state of rows written by older versions
    (created before their call); they are resolved the same way."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_FLIGHT = "in_flight", _("In flight (answer not recorded yet)")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        RATE_LIMITED = "rate_limited", _("Rate limited (not applied)")
        NOT_SENT = "not_sent", _("Not sent")

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="item_updates")
    stream = models.CharField(max_length=20, choices=SyncStream.choices)
    listing = models.ForeignKey("listings.Listing", on_delete=models.SET_NULL, null=True, related_name="+")
    sku = models.CharField(max_length=50)
    value = models.CharField(max_length=30, help_text=_("Quantity or price sent."))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    attempt_id = models.UUIDField(null=True, blank=True, editable=False)
    in_flight_since = models.DateTimeField(
        null=True, blank=True, help_text=_("When the call was about to be made (its answer not yet recorded).")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    OPEN_STATUSES = (Status.PENDING, Status.IN_FLIGHT)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "stream", "-created_at"], name="itemupdate_store_stream_idx"),
            models.Index(fields=["store", "-created_at", "-id"], name="itemupdate_store_recent_idx"),
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "in_flight"]),
                name="itemupdate_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stream} {self.sku} = {self.value} ({self.status})"


class SyncFailure(models.Model):
    """A value Walmart refused for a listing (a data error). The planner does not resend the same value
    (no retry storm on a permanent error); a new value, or a resync from admin, clears it."""

    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="sync_failures")
    stream = models.CharField(max_length=20, choices=SyncStream.choices)
    value = models.CharField(max_length=30)
    message = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["listing", "stream"], name="unique_sync_failure_per_stream")]

    def __str__(self) -> str:
        return f"{self.stream} {self.value} refused for listing {self.listing_id}"


class ListingSync(Listing):
    """A listing seen from the sync: catalog vs confirmed quantity and price, for the admin's resync actions."""

    class Meta:
        proxy = True
        verbose_name = _("listing sync")
        verbose_name_plural = _("listing sync")


class StoreSync(Store):
    """A store seen from the sync, for the admin's store-wide resync and reconciliation actions."""

    class Meta:
        proxy = True
        verbose_name = _("store sync")
        verbose_name_plural = _("store sync")
