from django.urls import path

from returns import views

app_name = "returns"
urlpatterns = [
    path("stores/<int:store_id>/returns/", views.return_list_view, name="return_list"),
    path("stores/<int:store_id>/returns/poll/", views.returns_poll_view, name="returns_poll"),
    path("stores/<int:store_id>/returns/<int:return_id>/", views.return_detail_view, name="return_detail"),
    path("stores/<int:store_id>/returns/<int:return_id>/refresh/", views.return_refresh_view, name="return_refresh"),
    path("stores/<int:store_id>/returns/<int:return_id>/restock/", views.return_restock_view, name="return_restock"),
    path(
        "stores/<int:store_id>/returns/<int:return_id>/refunds/<int:refund_id>/retry/",
        views.refund_retry_view,
        name="refund_retry",
    ),
    path("stores/<int:store_id>/settings/returns/", views.return_settings_view, name="return_settings"),
]
