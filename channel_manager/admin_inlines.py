"""Admin pieces the apps share: a read-only tabular inline (ops staff look at lines, pushes and timelines
in the admin; changes go through actions that call services) and the timeline's columns."""

from django.contrib import admin

TIMELINE_FIELDS = ("created_at", "actor", "user", "message", "correlation_id")


class ReadOnlyTabularInline(admin.TabularInline):
    """No blank rows, no delete box, every shown field read-only (`fields`, else `readonly_fields`)."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or self.readonly_fields


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """A ledger's admin: rows are written by services only, so nothing is added or changed here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
