"""Admin for stores (secret hidden and replaceable), memberships, and the read-only feed ledger."""

import json
from typing import cast

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import PeriodicTask

from channel_manager.models import Feed, Store, StoreMembership


class StoreAdminForm(forms.ModelForm):
    """The encrypted secret is never a form field: a new one can be typed in, the old one never shown."""

    emulator_base_url = forms.URLField(
        required=False,
        assume_scheme="http",
        help_text=Store._meta.get_field("emulator_base_url").help_text,
    )
    new_client_secret = forms.CharField(
        label=_("New client secret"),
        required=False,
        strip=True,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current secret. Stored encrypted; never shown."),
    )

    class Meta:
        model = Store
        fields = [
            "name",
            "notification_email",
            "is_live",
            "environment",
            "emulator_base_url",
            "client_id",
            "new_client_secret",
            "listings_enabled",
            "inventory_enabled",
            "price_enabled",
            "orders_enabled",
            "returns_enabled",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["environment"]).choices = Store.environment_choices()
        if not settings.WALMART_EMULATOR_ENABLED:
            del self.fields["emulator_base_url"]
        if self.instance.pk is None:
            self.fields["new_client_secret"].required = True
            self.fields["new_client_secret"].label = _("Client secret")
            self.fields["new_client_secret"].help_text = _("Stored encrypted; never shown.")

    def save(self, commit: bool = True) -> Store:
        store = super().save(commit=False)
        new_secret = self.cleaned_data.get("new_client_secret")
        if new_secret:
            store.client_secret = new_secret
            store.connection_status = Store.ConnectionStatus.NOT_TESTED
            store.connection_error = ""
            store.connection_checked_at = None
        if commit:
            store.save()
            self.save_m2m()
        return store


class StoreMembershipInline(admin.TabularInline):
    model = StoreMembership
    extra = 1
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    form = StoreAdminForm
    inlines = [StoreMembershipInline]
    list_display = [
        "name",
        "environment",
        "client_id",
        "connection_status",
        "is_live",
        "listings_enabled",
        "inventory_enabled",
        "price_enabled",
        "orders_enabled",
        "returns_enabled",
    ]
    list_filter = ["environment", "connection_status", "is_live"]
    search_fields = ["name", "client_id", "notification_email"]
    readonly_fields = ["connection_status", "connection_error", "connection_checked_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "notification_email", "is_live"]}),
        (_("Walmart connection"), {"fields": ["environment", "emulator_base_url", "client_id", "new_client_secret"]}),
        (
            _("Syncs"),
            {"fields": ["listings_enabled", "inventory_enabled", "price_enabled", "orders_enabled", "returns_enabled"]},
        ),
        (
            _("Status"),
            {"fields": ["connection_status", "connection_error", "connection_checked_at", "created_at", "updated_at"]},
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if settings.WALMART_EMULATOR_ENABLED:
            return self.fieldsets
        return [
            (title, {**options, "fields": [field for field in options["fields"] if field != "emulator_base_url"]})
            for title, options in self.fieldsets
        ]

    @method_decorator(sensitive_post_parameters("new_client_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(StoreMembership)
class StoreMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "store", "role", "created_at"]
    list_filter = ["role", "store"]
    search_fields = ["user__username", "user__email", "store__name"]
    autocomplete_fields = ["user", "store"]
    list_select_related = ["user", "store"]


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    """The ledger of bulk feeds: read-only (rows are written by the sync services only).

    Apps add their repair actions (poll now, resend a pending feed) from their own admin.py.
    """

    list_display = [
        "id",
        "store",
        "feed_type",
        "walmart_feed_id",
        "status",
        "item_count",
        "items_succeeded",
        "items_failed",
        "items_processing",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "feed_type", "store", "created_at"]
    search_fields = ["walmart_feed_id", "correlation_id", "store__name"]
    list_select_related = ["store"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = readonly_fields = (
        "store",
        "feed_type",
        "walmart_feed_id",
        "status",
        "item_count",
        "items_received",
        "items_succeeded",
        "items_failed",
        "items_processing",
        "error",
        "correlation_id",
        "created_at",
        "submitted_at",
        "last_polled_at",
        "completed_at",
        "payload_pretty",
    )

    @admin.display(description=_("Payload"))
    def payload_pretty(self, feed: Feed) -> str:
        return format_html("<pre>{}</pre>", json.dumps(feed.payload, indent=2, sort_keys=True, default=str))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # A feed page is view-only (no Save that could overwrite what the poller just wrote); the
        # change permission on the list still lets staff run the repair actions apps add.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Third-party admins whose actions check no permission -------------------------------------------
# django-celery-beat's periodic task actions (enable, disable, toggle, run) and django-axes' "clean up
# expired attempts" are offered to any staff user who may view the model. The same admins are registered
# again with each action requiring the permission to change (or delete) rows.


class PeriodicTaskAdmin(celery_beat_admin.PeriodicTaskAdmin):
    @admin.action(description=_("Enable selected tasks"), permissions=["change"])
    def enable_tasks(self, request, queryset):
        return super().enable_tasks(request, queryset)

    @admin.action(description=_("Disable selected tasks"), permissions=["change"])
    def disable_tasks(self, request, queryset):
        return super().disable_tasks(request, queryset)

    @admin.action(description=_("Toggle activity of selected tasks"), permissions=["change"])
    def toggle_tasks(self, request, queryset):
        return super().toggle_tasks(request, queryset)

    @admin.action(description=_("Run selected tasks"), permissions=["change"])
    def run_tasks(self, request, queryset):
        return super().run_tasks(request, queryset)


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


for _model, _admin_class in ((PeriodicTask, PeriodicTaskAdmin), (AccessAttempt, AccessAttemptAdmin)):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
