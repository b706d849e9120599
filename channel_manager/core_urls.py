from django.urls import path

from channel_manager import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("stores/", views.store_list_view, name="store_list"),
    path("stores/add/", views.store_create_view, name="store_create"),
    path("stores/<int:store_id>/", views.store_detail_view, name="store_detail"),
    path("stores/<int:store_id>/settings/", views.store_settings_view, name="store_settings"),
    path("stores/<int:store_id>/settings/connection/", views.store_connection_view, name="store_connection"),
    path(
        "stores/<int:store_id>/settings/connection/test/",
        views.store_connection_test_view,
        name="store_connection_test",
    ),
    path("stores/<int:store_id>/settings/general/", views.store_general_settings_view, name="store_general_settings"),
    path("stores/<int:store_id>/settings/members/", views.store_members_view, name="store_members"),
]
