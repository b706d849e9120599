"""Admin for ops staff: products (saved through the catalog service), listings with bulk repair actions,
catalog imports with their row errors. Actions call services and report a pluralised count."""

from collections.abc import Iterable
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channel_manager.models import Store
from listings.catalog_io import product_fields_clean
from listings.models import ImportJob, ImportRowError, Listing, Product, StoreAttributeMapping
from listings.services import (
    MatchNotConfigured,
    ProductInvalid,
    import_jobs_rerun,
    listings_match,
    listings_reread_queue,
    listings_reset_to_draft,
    listings_retire_queue,
    product_create,
    product_update,
)

EDITABLE_PRODUCT_FIELDS = (
    "sku",
    "name",
    "brand",
    "description",
    "image_url",
    "upc",
    "gtin",
    "ean",
    "isbn",
    "issn",
    "price",
    "quantity",
    "shipping_weight",
)


class ProductAdminForm(forms.ModelForm):
    """Identifiers are typed freely and normalised; the catalog rules (check digits, two decimals) apply."""

    image_url = forms.CharField(label=_("Image URL"), max_length=1000, required=False)

    class Meta:
        model = Product
        fields = EDITABLE_PRODUCT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("upc", "gtin", "ean", "isbn", "issn"):
            field = cast(forms.CharField, self.fields[name])
            field.max_length = 20
            field.widget.attrs["maxlength"] = 20
            field.validators = []

    def clean(self):
        super().clean()
        data = self.cleaned_data
        raw = {name: self.data.get(name, "") for name in EDITABLE_PRODUCT_FIELDS}
        clean, errors = product_fields_clean(raw, fields=[name for name in EDITABLE_PRODUCT_FIELDS if name in raw])
        for error in errors:
            if error.field in self.fields and error.field not in self.errors:
                self.add_error(error.field, error.message)
        data.update({name: value for name, value in clean.items() if name in data})
        return data


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("sku", "name", "brand", "price", "quantity", "upc", "gtin", "updated_at")
    search_fields = ("sku", "name", "brand", "upc", "gtin", "ean", "isbn")
    readonly_fields = ("created_at", "updated_at")
    list_per_page = 100
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        """Through the catalog service, so quantities go through the stock service and the planners hear of it."""
        values = {name: self.form_value(form, name) for name in EDITABLE_PRODUCT_FIELDS}
        try:
            if change:
                product = Product.objects.get(pk=obj.pk)
                changes = {name: values[name] for name in form.changed_data if name in values}
                product_update(product=product, actor=request.user.get_username() or "admin", **changes)
            else:
                product = product_create(actor=request.user.get_username() or "admin", **values)
                obj.pk = product.pk
        except ProductInvalid as error:  # pragma: no cover - the form applies the same rules first
            raise forms.ValidationError(str(error)) from error
        obj.refresh_from_db()

    @staticmethod
    def form_value(form, name):
        value = form.cleaned_data.get(name)
        return "" if value is None else value


def _listings_by_store(queryset: QuerySet[Listing]) -> Iterable[tuple[Store, list[int]]]:
    stores: dict[int, tuple[Store, list[int]]] = {}
    for listing in queryset.select_related("store"):
        stores.setdefault(listing.store_id, (listing.store, []))[1].append(listing.pk)
    return stores.values()


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = (
        "product",
        "walmart_sku",
        "store",
        "status",
        "error_description",
        "walmart_item_id",
        "published_status",
        "lifecycle_status",
        "last_synced_at",
    )
    list_filter = ("status", "store", "published_status", "lifecycle_status")
    search_fields = ("product__sku", "walmart_sku", "product__name", "walmart_item_id")
    list_select_related = ("product", "store")
    raw_id_fields = ("product", "match_feed")
    readonly_fields = ("created_at", "updated_at", "match_submitted_at", "retired_at")
    actions = ["match_selected", "retire_selected", "reset_selected", "reread_selected"]
    show_full_result_count = False

    @admin.action(description=_("Match on Walmart (Draft and Error listings)"), permissions=["change"])
    def match_selected(self, request, queryset):
        submitted = refused = 0
        for store, ids in _listings_by_store(queryset):
            try:
                result = listings_match(store=store, listings=Listing.objects.filter(pk__in=ids), actor=request.user)
            except MatchNotConfigured as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            submitted += result.submitted
            refused += result.refused
        self.message_user(
            request,
            ngettext("%d listing sent for matching.", "%d listings sent for matching.", submitted) % submitted
            + (f" {refused} could not be sent (see Error description)." if refused else ""),
        )

    @admin.action(description=_("Retire on Walmart"), permissions=["change"])
    def retire_selected(self, request, queryset):
        count = listings_retire_queue(listings=queryset)
        self.message_user(
            request, ngettext("%d listing queued for retirement.", "%d listings queued for retirement.", count) % count
        )

    @admin.action(description=_("Reset to Draft"), permissions=["change"])
    def reset_selected(self, request, queryset):
        count = listings_reset_to_draft(listings=queryset)
        self.message_user(request, ngettext("%d listing reset to Draft.", "%d listings reset to Draft.", count) % count)

    @admin.action(description=_("Re-read from Walmart"), permissions=["change"])
    def reread_selected(self, request, queryset):
        count = listings_reread_queue(listings=queryset)
        self.message_user(
            request, ngettext("%d listing queued to be re-read.", "%d listings queued to be re-read.", count) % count
        )


class ImportRowErrorInline(admin.TabularInline):
    model = ImportRowError
    fields = ("row_number", "sku", "field", "message")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("row_number", "id")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "original_filename",
        "status",
        "rows_processed",
        "created_count",
        "updated_count",
        "error_count",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "file_format")
    readonly_fields = [field.name for field in ImportJob._meta.fields]
    inlines = [ImportRowErrorInline]
    actions = ["rerun_selected"]

    @admin.action(description=_("Run the selected imports again"), permissions=["change"])
    def rerun_selected(self, request, queryset):
        count = import_jobs_rerun(jobs=queryset)
        self.message_user(request, ngettext("%d import queued again.", "%d imports queued again.", count) % count)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) if obj is None else False

    def has_add_permission(self, request):
        return False


@admin.register(StoreAttributeMapping)
class StoreAttributeMappingAdmin(admin.ModelAdmin):
    list_display = ("store", "identifiers", "updated_at")
