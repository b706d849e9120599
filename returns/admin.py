"""Admin for ops staff: returns with their lines, refunds and timeline; actions call services and report
a pluralised count."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channel_manager.admin_inlines import TIMELINE_FIELDS, ReadOnlyTabularInline
from channel_manager.walmart import error_text
from returns import services
from returns.models import Refund, RefundLine, Return, ReturnEvent, ReturnLine, ReturnSettings

ADMIN = ReturnEvent.Actor.ADMIN


class ReturnLineInline(ReadOnlyTabularInline):
    model = ReturnLine
    fields = [
        "return_order_line_number",
        "sku",
        "product_name",
        "purchase_order_id",
        "purchase_order_line_number",
        "quantity",
        "refunded_quantity",
        "refunded_by_walmart_quantity",
        "restocked_quantity",
        "unit_price",
        "unit_tax",
        "item_price",
        "tax",
        "is_return_for_exception",
        "return_reason",
    ]


class RefundInline(ReadOnlyTabularInline):
    model = Refund
    fields = ["channel", "amount", "tax", "status", "attempts", "error", "created_by", "created_at"]
    show_change_link = True


class ReturnEventInline(ReadOnlyTabularInline):
    model = ReturnEvent
    fields = TIMELINE_FIELDS


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    list_display = [
        "return_order_id",
        "store",
        "purchase_order_id",
        "requested_at",
        "refund_deadline",
        "items_summary",
        "charged_total",
        "refunded_total",
        "status",
    ]
    list_filter = ["status", "store", "refunded_by_walmart"]
    search_fields = ["return_order_id", "purchase_order_id", "customer_order_id", "lines__sku"]
    list_select_related = ["store"]
    readonly_fields = [field.name for field in Return._meta.fields]
    inlines = [ReturnLineInline, RefundInline, ReturnEventInline]
    actions = ["reread_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Re-read the selected returns from Walmart"), permissions=["change"])
    def reread_selected(self, request, queryset):
        from walmart_client.errors import WalmartError

        count = failed = 0
        for return_order in queryset.select_related("store"):
            try:
                services.return_refresh(return_order=return_order, actor=ADMIN, user=request.user)
            except WalmartError as error:
                failed += 1
                self.message_user(
                    request,
                    f"Return {return_order.return_order_id}: {error_text(error)}",
                    level=messages.ERROR,
                )
            else:
                count += 1
        self.message_user(request, ngettext("%d return re-read.", "%d returns re-read.", count) % count)


class RefundLineInline(ReadOnlyTabularInline):
    model = RefundLine
    fields = ["return_line", "quantity", "amount", "tax", "back_to_stock"]


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["pk", "return_order", "channel", "amount", "tax", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "channel"]
    search_fields = ["return_order__return_order_id", "purchase_order_id", "correlation_id"]
    list_select_related = ["return_order"]
    readonly_fields = [
        "id",
        "return_order",
        "channel",
        "purchase_order_id",
        "reason",
        "amount",
        "tax",
        "status",
        "error",
        "correlation_id",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "request_maybe_applied",
        "created_by",
        "created_at",
        "sent_at",
    ]
    inlines = [RefundLineInline]
    actions = ["retry_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Retry the selected failed refunds"), permissions=["change"])
    def retry_selected(self, request, queryset):
        count = sum(
            services.refund_retry(refund=refund, actor=ADMIN, user=request.user)
            for refund in queryset.filter(status=Refund.Status.ERROR).select_related("return_order")
        )
        self.message_user(request, ngettext("%d refund queued again.", "%d refunds queued again.", count) % count)


@admin.register(ReturnSettings)
class ReturnSettingsAdmin(admin.ModelAdmin):
    list_display = ["store", "poll_interval_seconds", "poll_overlap_seconds", "polled_through", "last_poll_error"]
    readonly_fields = ["polled_through", "last_poll_started_at", "last_poll_finished_at", "last_poll_error"]
