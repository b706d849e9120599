"""Admin for ops staff: sync settings and state, the single-call ledger, refused values, and resync /
reconcile actions on listings and stores. Actions call services and report counts."""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channel_manager.admin_inlines import ReadOnlyModelAdmin
from sync.models import (
    ItemUpdate,
    ListingSync,
    StoreSync,
    StoreSyncSettings,
    SyncFailure,
    SyncState,
    SyncStream,
)
from sync.services import sync_enqueue, sync_reconcile_queue, sync_rescan_request, sync_resync, sync_resync_stores


@admin.register(StoreSyncSettings)
class StoreSyncSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "store",
        "safety_buffer",
        "max_quantity",
        "feeds_per_hour",
        "inventory_feed_max_items",
        "price_feed_max_items",
        "single_calls_per_tick",
    )
    list_select_related = ("store",)

    def save_model(self, request, obj, form, change):
        """Saved as the settings page saves (the buffer and cap are store-wide inputs: the next run rescans)."""
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            sync_rescan_request(store_id=obj.store_id, streams=[SyncStream.INVENTORY])
            sync_enqueue(store_id=obj.store_id, stream=SyncStream.INVENTORY)

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            sync_rescan_request(store_id=obj.store_id, streams=[SyncStream.INVENTORY])


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyModelAdmin):
    list_display = (
        "store",
        "stream",
        "last_run_at",
        "single_not_before",
        "feed_not_before",
        "last_reconciled_at",
        "last_error",
    )
    list_filter = ("stream",)
    list_select_related = ("store",)


@admin.register(ItemUpdate)
class ItemUpdateAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "store", "stream", "sku", "value", "status", "error", "correlation_id")
    list_filter = ("stream", "status")
    search_fields = ("sku", "correlation_id")
    list_select_related = ("store",)
    show_full_result_count = False


@admin.register(SyncFailure)
class SyncFailureAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "listing", "stream", "value", "message")
    list_filter = ("stream",)
    search_fields = ("listing__product__sku", "message")
    list_select_related = ("listing",)


def _resync_message(count: int, stream: str) -> str:
    return ngettext(
        "%(count)d listing will be sent to Walmart again (%(stream)s).",
        "%(count)d listings will be sent to Walmart again (%(stream)s).",
        count,
    ) % {"count": count, "stream": stream}


@admin.register(ListingSync)
class ListingSyncAdmin(admin.ModelAdmin):
    list_display = (
        "sku",
        "store",
        "status",
        "catalog_quantity",
        "confirmed_quantity",
        "catalog_price",
        "confirmed_price",
        "price_override",
        "inventory_error",
        "price_error",
        "inventory_drift_at",
        "price_drift_at",
    )
    list_filter = ("store", "status")
    search_fields = ("product__sku", "product__name")
    list_select_related = ("product", "store")
    actions = ("resync_inventory", "resync_price")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(description=_("SKU"), ordering="product__sku")
    def sku(self, obj):
        return obj.product.sku

    @admin.display(description=_("catalog quantity"))
    def catalog_quantity(self, obj):
        return obj.product.quantity

    @admin.display(description=_("catalog price"))
    def catalog_price(self, obj):
        return obj.product.price

    @admin.action(description=_("Full inventory resync of the selected listings"), permissions=["change"])
    def resync_inventory(self, request, queryset):
        with transaction.atomic():
            count = sync_resync(listings=queryset, stream=SyncStream.INVENTORY)
        self.message_user(request, _resync_message(count, "inventory"))

    @admin.action(description=_("Full price resync of the selected listings"), permissions=["change"])
    def resync_price(self, request, queryset):
        with transaction.atomic():
            count = sync_resync(listings=queryset, stream=SyncStream.PRICE)
        self.message_user(request, _resync_message(count, "price"))


@admin.register(StoreSync)
class StoreSyncAdmin(admin.ModelAdmin):
    list_display = ("name", "environment", "inventory_enabled", "price_enabled")
    actions = ("resync_inventory", "resync_price", "reconcile_now")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # Only what the sync needs; the store's credentials are managed (and never shown) elsewhere.
    fields = readonly_fields = ("name", "environment", "is_live", "inventory_enabled", "price_enabled")

    @admin.action(description=_("Full inventory resync of the selected stores"), permissions=["change"])
    def resync_inventory(self, request, queryset):
        with transaction.atomic():
            count = sync_resync_stores(stores=queryset, stream=SyncStream.INVENTORY)
        self.message_user(request, _resync_message(count, "inventory"))

    @admin.action(description=_("Full price resync of the selected stores"), permissions=["change"])
    def resync_price(self, request, queryset):
        with transaction.atomic():
            count = sync_resync_stores(stores=queryset, stream=SyncStream.PRICE)
        self.message_user(request, _resync_message(count, "price"))

    @admin.action(description=_("Reconcile the selected stores with Walmart now"), permissions=["change"])
    def reconcile_now(self, request, queryset):
        count = sync_reconcile_queue(store_ids=queryset.values_list("pk", flat=True), streams=SyncStream.values)
        self.message_user(request, ngettext("%d reconciliation queued.", "%d reconciliations queued.", count) % count)
