"""Read-mostly admin for the emulator's tables (the inspection pages are the main tool)."""

from django.contrib import admin

from walmart_emulator.models import CatalogItem, Feed, Offer, Order, ReturnOrder, Seller, WebhookDelivery


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ("name", "partner_id", "client_id", "is_live", "simulate_orders")
    exclude = ("client_secret",)
    search_fields = ("name", "client_id", "partner_id")


@admin.register(CatalogItem)
class CatalogItemAdmin(admin.ModelAdmin):
    list_display = ("item_id", "gtin", "upc", "title", "price", "is_published")
    search_fields = ("gtin", "upc", "title", "item_id")


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = (
        "sku",
        "seller",
        "published_status",
        "lifecycle_status",
        "price",
        "quantity",
        "reserved_quantity",
        "available_to_sell",
    )
    list_filter = ("seller", "published_status")
    search_fields = ("sku", "wpid")
    raw_id_fields = ("catalog_item",)


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("feed_id", "seller", "feed_type", "status", "items_received", "items_succeeded", "items_failed")
    list_filter = ("feed_type", "status")
    exclude = ("payload",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("purchase_order_id", "seller", "order_date", "estimated_ship_date", "is_open")
    list_filter = ("seller", "is_open")
    search_fields = ("purchase_order_id", "customer_order_id")
    exclude = ("snapshot",)


@admin.register(ReturnOrder)
class ReturnOrderAdmin(admin.ModelAdmin):
    list_display = ("return_order_id", "seller", "status", "return_order_date", "auto_refund_at")
    raw_id_fields = ("order",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_id", "event_type", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event_type")
