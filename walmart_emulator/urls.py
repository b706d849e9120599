"""Walmart's paths under /walmart-emulator/ (mounted by channel_manager/urls.py when enabled), and the
staff inspection pages under /walmart-emulator/inspect/."""

from django.urls import path

from walmart_emulator import views, views_inspect, views_orders, views_reports

app_name = "walmart_emulator"

urlpatterns = [
    path("v3/token", views.token, name="token"),
    path("v3/token/detail", views.token_detail, name="token_detail"),
    path("v3/items", views.items, name="items"),
    path("v3/items/walmart/search", views.walmart_search, name="walmart_search"),
    path("v3/items/catalog/search", views.catalog_search, name="catalog_search"),
    path("v3/items/count", views.items_count, name="items_count"),
    path("v3/items/<path:identifier>", views.item_detail, name="item_detail"),
    path("v3/feeds", views.feeds, name="feeds"),
    path("v3/feeds/<str:feed_id>", views.feed_detail, name="feed_detail"),
    path("v3/inventory", views.inventory, name="inventory"),
    path("v3/inventories", views.inventories, name="inventories"),
    path("v3/inventories/<path:sku>", views.inventory_nodes, name="inventory_nodes"),
    path("v3/price", views.price, name="price"),
    path("v3/settings/partnerprofile", views.partner_profile, name="partner_profile"),
    path("v3/settings/shipping/carriers", views.shipping_carriers, name="shipping_carriers"),
    path("v3/orders", views_orders.orders, name="orders"),
    path("v3/orders/released", views_orders.orders_released, name="orders_released"),
    path("v3/orders/<str:purchase_order_id>", views_orders.order_detail, name="order_detail"),
    path("v3/orders/<str:purchase_order_id>/acknowledge", views_orders.order_acknowledge, name="order_acknowledge"),
    path("v3/orders/<str:purchase_order_id>/shipping", views_orders.order_ship, name="order_ship"),
    path("v3/orders/<str:purchase_order_id>/cancel", views_orders.order_cancel, name="order_cancel"),
    path("v3/orders/<str:purchase_order_id>/refund", views_orders.order_refund, name="order_refund"),
    path("v3/returns", views_orders.returns, name="returns"),
    path("v3/returns/<str:return_order_id>/refund", views_orders.return_refund, name="return_refund"),
    path("v3/webhooks/subscriptions", views_orders.subscriptions, name="subscriptions"),
    path(
        "v3/webhooks/subscriptions/<str:subscription_id>", views_orders.subscription_detail, name="subscription_detail"
    ),
    path("v3/webhooks/eventTypes", views_orders.event_types, name="event_types"),
    path("v3/webhooks/test", views_orders.webhook_test, name="webhook_test"),
    path("v3/reports/reportRequests", views_reports.report_requests, name="report_requests"),
    path(
        "v3/reports/reportRequests/<str:request_id>",
        views_reports.report_request_detail,
        name="report_request_detail",
    ),
    path("v3/reports/downloadReport", views_reports.download_report, name="download_report"),
    path("reports/files/<str:request_id>.zip", views_reports.report_file, name="report_file"),
    path("v3/<path:rest>", views.unknown_path, name="unknown_path"),
    path("inspect/", views_inspect.seller_list, name="inspect_sellers"),
    path("inspect/<int:seller_id>/", views_inspect.seller_detail, name="inspect_seller"),
    path("inspect/<int:seller_id>/action/", views_inspect.seller_action, name="inspect_action"),
]
