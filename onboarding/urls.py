from django.urls import path

from onboarding import views

app_name = "onboarding"
urlpatterns = [
    path("stores/<int:store_id>/walmart-items/", views.item_list_view, name="item_list"),
    path("stores/<int:store_id>/walmart-items/card/", views.listings_card_view, name="listings_card"),
    path("stores/<int:store_id>/walmart-items/import/", views.import_start_view, name="import_start"),
    path(
        "stores/<int:store_id>/walmart-items/import/<int:import_id>/progress/",
        views.import_progress_view,
        name="import_progress",
    ),
    path("stores/<int:store_id>/walmart-items/actions/", views.item_action_view, name="item_action"),
    path("stores/<int:store_id>/walmart-items/<int:item_id>/link/", views.item_link_view, name="item_link"),
    path("stores/<int:store_id>/walmart-items/<int:item_id>/create/", views.item_create_view, name="item_create"),
    path(
        "stores/<int:store_id>/walmart-items/<int:item_id>/products/",
        views.product_search_view,
        name="product_search",
    ),
    path("stores/<int:store_id>/walmart-items/first-push/", views.first_push_view, name="first_push"),
    path("stores/<int:store_id>/walmart-items/sku-link/", views.sku_link_view, name="sku_link"),
]
