from django.urls import path

from listings import views

app_name = "listings"
urlpatterns = [
    path("catalog/", views.product_list_view, name="product_list"),
    path("catalog/new/", views.product_create_view, name="product_create"),
    path("catalog/<int:product_id>/edit/", views.product_edit_view, name="product_edit"),
    path("catalog/add-to-store/", views.add_to_store_view, name="add_to_store"),
    path("catalog/import/", views.import_view, name="import"),
    path("catalog/import/template.csv", views.import_template_view, name="import_template"),
    path("catalog/import/<int:job_id>/", views.import_detail_view, name="import_detail"),
    path("catalog/import/<int:job_id>/progress/", views.import_progress_view, name="import_progress"),
    path("catalog/import/<int:job_id>/errors.csv", views.import_errors_csv_view, name="import_errors_csv"),
    path("catalog/export.csv", views.export_view, name="export"),
    path("stores/<int:store_id>/listings/", views.listing_list_view, name="listing_list"),
    path("stores/<int:store_id>/listings/actions/", views.listing_action_view, name="listing_action"),
    path("stores/<int:store_id>/settings/attributes/", views.attribute_mapping_view, name="attribute_mapping"),
]
