"""Admin of onboarding: imports (start one for a store, import again), Walmart items with the bulk link /
create / ignore actions, and each store's first-push confirmation."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channel_manager.models import Store
from onboarding.models import StoreOnboarding, WalmartImport, WalmartItem
from onboarding.services import (
    first_push_confirm,
    walmart_import_start,
    walmart_items_ignore,
    walmart_items_link,
    walmart_items_products_create,
)


def _stores(queryset) -> list[Store]:
    return list(Store.objects.filter(pk__in=queryset.values("store_id")).order_by("pk"))


@admin.register(WalmartImport)
class WalmartImportAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "store",
        "status",
        "source",
        "items_read",
        "quantities_read",
        "linked_count",
        "ambiguous_count",
        "unmanaged_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "source", "store")
    list_select_related = ("store",)
    fields = ("store", "reason")
    actions = ["import_again"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        """Adding an import starts it (or finds the one running for the store)."""
        walmart_import, created = walmart_import_start(
            store=obj.store, actor=request.user, reason=obj.reason or "admin"
        )
        obj.pk = walmart_import.pk
        if not created:
            self.message_user(request, _("An import is already running for this store."), messages.WARNING)

    @admin.action(description=_("Import from Walmart again (the selected imports' stores)"), permissions=["add"])
    def import_again(self, request, queryset):
        started = sum(
            walmart_import_start(store=store, actor=request.user, reason="admin")[1] for store in _stores(queryset)
        )
        self.message_user(request, ngettext("%d import started.", "%d imports started.", started) % started)


@admin.register(WalmartItem)
class WalmartItemAdmin(admin.ModelAdmin):
    list_display = (
        "sku",
        "store",
        "product_name",
        "gtin",
        "published_status",
        "lifecycle_status",
        "quantity",
        "price",
        "link_status",
        "link_method",
        "listing",
    )
    list_filter = ("link_status", "link_method", "store", "published_status", "lifecycle_status")
    search_fields = ("sku", "gtin", "item_id", "product_name")
    list_select_related = ("store", "listing")
    raw_id_fields = ("listing", "last_import")
    show_full_result_count = False
    actions = ["link_automatically", "create_products", "ignore", "unignore"]

    @admin.action(description=_("Link automatically (the selected items' stores)"), permissions=["change"])
    def link_automatically(self, request, queryset):
        linked = ambiguous = unmanaged = 0
        for store in _stores(queryset):
            result = walmart_items_link(store=store)
            linked, ambiguous, unmanaged = (
                linked + result.linked,
                ambiguous + result.ambiguous,
                unmanaged + result.unmanaged,
            )
        self.message_user(request, f"{linked} linked, {ambiguous} ambiguous, {unmanaged} unmanaged.")

    @admin.action(description=_("Create catalog products from the selected items"), permissions=["change"])
    def create_products(self, request, queryset):
        if not request.user.has_perm("listings.add_product"):
            self.message_user(request, _("Creating products needs the catalog's add permission."), messages.ERROR)
            return
        created, errors = walmart_items_products_create(items=queryset, actor=request.user)
        self.message_user(request, ngettext("%d product created.", "%d products created.", created) % created)
        for error in errors[:20]:
            self.message_user(request, error, messages.ERROR)

    @admin.action(description=_("Ignore the selected items"), permissions=["change"])
    def ignore(self, request, queryset):
        count = walmart_items_ignore(items=queryset)
        self.message_user(request, ngettext("%d item ignored.", "%d items ignored.", count) % count)

    @admin.action(description=_("Bring back the selected ignored items"), permissions=["change"])
    def unignore(self, request, queryset):
        count = walmart_items_ignore(items=queryset, ignored=False)
        self.message_user(request, ngettext("%d item brought back.", "%d items brought back.", count) % count)


@admin.register(StoreOnboarding)
class StoreOnboardingAdmin(admin.ModelAdmin):
    list_display = ("store", "first_import_started_at", "first_push_confirmed_at", "first_push_confirmed_by")
    readonly_fields = ("store", "first_import_started_at", "first_push_confirmed_at", "first_push_confirmed_by")
    actions = ["confirm_first_push"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Confirm the first push (held listings join the sync)"), permissions=["change"])
    def confirm_first_push(self, request, queryset):
        released = sum(first_push_confirm(store=onboarding.store, actor=request.user) for onboarding in queryset)
        self.message_user(
            request, ngettext("%d listing joins the sync.", "%d listings join the sync.", released) % released
        )
