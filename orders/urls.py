from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("stores/<int:store_id>/orders/", views.order_list_view, name="order_list"),
    path("stores/<int:store_id>/orders/<int:order_id>/", views.order_detail_view, name="order_detail"),
    path("stores/<int:store_id>/orders/<int:order_id>/ship/", views.order_ship_view, name="order_ship"),
    path("stores/<int:store_id>/orders/<int:order_id>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("stores/<int:store_id>/orders/<int:order_id>/refresh/", views.order_refresh_view, name="order_refresh"),
    path(
        "stores/<int:store_id>/orders/<int:order_id>/acknowledge/",
        views.order_acknowledge_view,
        name="order_acknowledge",
    ),
    path(
        "stores/<int:store_id>/orders/<str:kind>/<int:operation_id>/retry/",
        views.operation_retry_view,
        name="operation_retry",
    ),
    path(
        "stores/<int:store_id>/orders/<str:kind>/<int:operation_id>/discard/",
        views.operation_discard_view,
        name="operation_discard",
    ),
    path("stores/<int:store_id>/settings/carriers/", views.carrier_mapping_view, name="carrier_mapping"),
    path("stores/<int:store_id>/settings/orders/", views.order_settings_view, name="order_settings"),
    path("stores/<int:store_id>/settings/webhooks/", views.webhook_settings_view, name="webhook_settings"),
    path("webhooks/walmart/<str:token>/", views.webhook_receive_view, name="webhook_receive"),
]
