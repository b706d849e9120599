"""Admin for ops staff: orders with their lines, pushes and timeline; actions call services and report
a pluralised count."""

from django.contrib import admin, messages
from django.utils.translation import ngettext

from channel_manager.admin_inlines import TIMELINE_FIELDS, ReadOnlyTabularInline
from channel_manager.walmart import error_text
from orders import services
from orders.models import (
    Cancellation,
    CancellationLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderSettings,
    Shipment,
    ShipmentLine,
    WebhookEvent,
)

# A push's state, in the order the change page shows it.
INTENT_FIELDS = [
    "status",
    "error",
    "correlation_id",
    "attempts",
    "claimed_until",
    "next_attempt_at",
    "request_maybe_applied",
    "created_by",
    "created_at",
    "sent_at",
]
ADMIN = OrderEvent.Actor.ADMIN


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = [
        "line_number",
        "sku",
        "product_name",
        "quantity",
        "quantity_shipped",
        "quantity_cancelled",
        "quantity_refunded",
        "unit_price",
        "tax_amount",
        "status",
        "status_details",
    ]


class ShipmentInline(ReadOnlyTabularInline):
    model = Shipment
    fields = ["carrier", "other_carrier", "tracking_number", "method_code", "ship_date", "status", "attempts", "error"]
    show_change_link = True


class CancellationInline(ReadOnlyTabularInline):
    model = Cancellation
    fields = ["reason", "status", "attempts", "error"]
    show_change_link = True


class OrderEventInline(ReadOnlyTabularInline):
    model = OrderEvent
    fields = TIMELINE_FIELDS


def _retry(modeladmin, request, queryset, noun: tuple[str, str]) -> None:
    count = sum(
        services.operation_retry(operation=operation, actor=ADMIN, user=request.user)
        for operation in queryset.filter(status=Shipment.Status.ERROR).select_related("order")
    )
    modeladmin.message_user(
        request, ngettext(f"%d {noun[0]} queued again.", f"%d {noun[1]} queued again.", count) % count
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "purchase_order_id",
        "commerce_order_number",
        "store",
        "order_date",
        "ship_by",
        "order_total",
        "status",
        "acknowledged_at",
        "intent_to_cancel",
        "provisional",
        "updated_at",
    ]
    list_filter = ["status", "intent_to_cancel", "provisional", "store"]
    search_fields = ["purchase_order_id", "customer_order_id", "commerce_order_number", "customer_name"]
    list_select_related = ["store"]
    show_full_result_count = False
    readonly_fields = [field.name for field in Order._meta.fields]
    inlines = [OrderLineInline, ShipmentInline, CancellationInline, OrderEventInline]
    actions = ["retry_failed_pushes", "reacknowledge", "reread_from_walmart"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # An order mirrors a Walmart purchase order (and the status-card counters count it): never deleted.
        return False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(
        description="Retry the failed shipments and cancellations of the selected orders", permissions=["change"]
    )
    def retry_failed_pushes(self, request, queryset):
        count = 0
        for model in (Shipment, Cancellation):
            for operation in model.objects.filter(order__in=queryset, status=model.Status.ERROR).select_related(
                "order"
            ):
                count += services.operation_retry(operation=operation, actor=ADMIN, user=request.user)
        self.message_user(request, ngettext("%d push queued again.", "%d pushes queued again.", count) % count)

    @admin.action(description="Re-acknowledge the selected orders on Walmart", permissions=["change"])
    def reacknowledge(self, request, queryset):
        count, failures = 0, []
        for order in queryset:
            try:
                count += services.order_acknowledge(order_id=order.pk, actor=ADMIN, force=True, user=request.user)
            except Exception as error:  # noqa: BLE001 - reported to the admin user
                failures.append(f"{order.purchase_order_id}: {error_text(error)}")
        self.message_user(request, ngettext("%d order acknowledged.", "%d orders acknowledged.", count) % count)
        if failures:
            self.message_user(request, "Failed: " + "; ".join(failures[:10]), level=messages.ERROR)

    @admin.action(description="Re-read the selected orders from Walmart", permissions=["change"])
    def reread_from_walmart(self, request, queryset):
        count, failures = 0, []
        for order in queryset.select_related("store"):
            try:
                services.order_refresh(order=order, actor=ADMIN, user=request.user)
                count += 1
            except Exception as error:  # noqa: BLE001 - reported to the admin user
                failures.append(f"{order.purchase_order_id}: {error_text(error)}")
        self.message_user(request, ngettext("%d order re-read.", "%d orders re-read.", count) % count)
        if failures:
            self.message_user(request, "Failed: " + "; ".join(failures[:10]), level=messages.ERROR)


class ShipmentLineInline(ReadOnlyTabularInline):
    model = ShipmentLine
    readonly_fields = ["line", "quantity"]


class CancellationLineInline(ReadOnlyTabularInline):
    model = CancellationLine
    readonly_fields = ["line", "quantity"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["pk", "order", "carrier", "other_carrier", "tracking_number", "status", "attempts", "created_at"]
    list_filter = ["status", "carrier"]
    search_fields = ["tracking_number", "order__purchase_order_id", "order__commerce_order_number"]
    list_select_related = ["order"]
    readonly_fields = [
        "id",
        *INTENT_FIELDS,
        "order",
        "carrier",
        "merchant_carrier",
        "other_carrier",
        "tracking_url",
        "method_code",
        "tracking_number",
        "ship_date",
        "intent_to_cancel_override",
    ]
    inlines = [ShipmentLineInline]
    actions = ["retry_selected"]

    @admin.action(description="Retry the selected failed shipments", permissions=["change"])
    def retry_selected(self, request, queryset):
        _retry(self, request, queryset, ("shipment", "shipments"))


@admin.register(Cancellation)
class CancellationAdmin(admin.ModelAdmin):
    list_display = ["pk", "order", "reason", "status", "attempts", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["order__purchase_order_id", "order__commerce_order_number"]
    list_select_related = ["order"]
    readonly_fields = ["id", *INTENT_FIELDS, "order", "reason"]
    inlines = [CancellationLineInline]
    actions = ["retry_selected"]

    @admin.action(description="Retry the selected failed cancellations", permissions=["change"])
    def retry_selected(self, request, queryset):
        _retry(self, request, queryset, ("cancellation", "cancellations"))


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "event_type", "store", "purchase_order_id", "received_at", "processed_at", "error"]
    list_filter = ["event_type", "store"]
    search_fields = ["event_id", "purchase_order_id"]
    readonly_fields = [field.name for field in WebhookEvent._meta.fields]


@admin.register(OrderSettings)
class OrderSettingsAdmin(admin.ModelAdmin):
    list_display = ["store", "commerce_order_prefix", "auto_acknowledge", "poll_interval_seconds", "polled_through"]
    readonly_fields = [
        "polled_through",
        "last_poll_started_at",
        "last_poll_finished_at",
        "last_poll_error",
        "webhook_token",
    ]
    exclude = ["webhook_basic_password_encrypted"]
