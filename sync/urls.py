from django.urls import path

from sync import views

app_name = "sync"
urlpatterns = [
    path("stores/<int:store_id>/sync/", views.sync_dashboard_view, name="sync_dashboard"),
    path("stores/<int:store_id>/sync/preview/", views.sync_preview_view, name="sync_preview"),
    path(
        "stores/<int:store_id>/sync/preview/<str:stream>.json",
        views.sync_preview_json_view,
        name="sync_preview_json",
    ),
    path("stores/<int:store_id>/sync/run/", views.sync_run_view, name="sync_run"),
    path("stores/<int:store_id>/sync/reconcile/", views.sync_reconcile_view, name="sync_reconcile"),
    path("stores/<int:store_id>/settings/sync/", views.sync_settings_view, name="sync_settings"),
]
