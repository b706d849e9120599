"""Walmart's paths under /walmart-emulator/ (mounted by channel_manager/urls.py when enabled)."""

from django.urls import path

from walmart_emulator import views

app_name = "walmart_emulator"

urlpatterns = [
    path("v3/token", views.token, name="token"),
    path("v3/token/detail", views.token_detail, name="token_detail"),
    path("v3/items", views.items, name="items"),
    path("v3/items/walmart/search", views.walmart_search, name="walmart_search"),
    path("v3/items/catalog/search", views.catalog_search, name="catalog_search"),
    path("v3/items/<path:identifier>", views.item_detail, name="item_detail"),
    path("v3/feeds", views.feeds, name="feeds"),
    path("v3/feeds/<str:feed_id>", views.feed_detail, name="feed_detail"),
    path("v3/inventory", views.inventory, name="inventory"),
    path("v3/inventories", views.inventories, name="inventories"),
    path("v3/price", views.price, name="price"),
    path("v3/settings/partnerprofile", views.partner_profile, name="partner_profile"),
    path("v3/settings/shipping/carriers", views.shipping_carriers, name="shipping_carriers"),
]
