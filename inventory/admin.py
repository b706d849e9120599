"""Admin for ops staff: the stock movement log (read-only; stock moves through the stock services)."""

from django.contrib import admin

from channel_manager.admin_inlines import ReadOnlyModelAdmin
from inventory.models import StockMovement


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "product", "delta", "quantity_after", "shortfall", "reason", "actor", "reference")
    list_filter = ("reason",)
    search_fields = ("product__sku", "reference", "actor")
    list_select_related = ("product",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return False
