from django.urls import path

from channel_manager import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("stores/", views.store_list_view, name="store_list"),
    path("stores/<int:store_id>/", views.store_detail_view, name="store_detail"),
]
