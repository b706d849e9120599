"""What every part of the orders app writes: order settings, the order timeline, the status-card
counters, and an order's status recomputed from its lines and failed pushes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channel_manager.models import Store
from orders.mapping import (
    order_status_from_lines,
)
from orders.models import (
    Cancellation,
    Order,
    OrderEvent,
    OrderSettings,
    OrderStatusCount,
    Shipment,
)

Actor = OrderEvent.Actor


ORDER_FIELDS_FROM_WALMART = [
    "customer_order_id",
    "customer_email",
    "order_type",
    "order_date",
    "phone",
    "ship_by",
    "deliver_by",
    "method_code",
    "customer_name",
    "address1",
    "address2",
    "city",
    "state",
    "postal_code",
    "country",
    "address_type",
    "walmart_last_modified",
    "product_total",
    "shipping_total",
    "tax_total",
    "order_total",
    "item_quantity",
    "items_summary",
    "currency",
    "intent_to_cancel",
    "status",
    "status_details",
    # Any read of Walmart's copy completes an order stored from its notification (orders.services.provisional).
    *("provisional", "provisional_read_at", "provisional_read_attempts", "provisional_read_error"),
]
# What an order read from Walmart holds in the provisional fields (a complete order).
ORDER_COMPLETE_FIELDS = {
    "provisional": False,
    "provisional_read_at": None,
    "provisional_read_attempts": 0,
    "provisional_read_error": "",
}
LINE_FIELDS_FROM_WALMART = [
    "sku",
    "product_name",
    "quantity",
    "quantity_created",
    "quantity_acknowledged",
    "quantity_shipped",
    "quantity_delivered",
    "quantity_cancelled",
    "quantity_refunded",
    "unit_price",
    "product_amount",
    "shipping_amount",
    "tax_amount",
    "charges",
    "tracking",
    "intent_to_cancel",
    "status",
    "status_details",
    "listing",
]
# Pending and failed pushes hold their units: a failed push can be retried, so its units are not free.
HOLDING_STATUSES = ("pending", "error")


def order_settings_ensure(*, store: Store) -> OrderSettings:
    """The store's order settings, created with defaults the first time. Safe to re-run."""
    order_settings, _ = OrderSettings.objects.get_or_create(store=store)
    return order_settings


def order_event_add(*, order: Order, actor: str, message: str, user=None, correlation_id: str = "") -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, actor=actor, message=message, user=user, correlation_id=(correlation_id or "")[:64]
    )


def order_status_counts_shift(*, store_id: int, deltas: Mapping[str, int]) -> None:
    """Move the status-card counters by `deltas` ({status: +n/-n}) with F() updates, inside the caller's
    transaction (the counter rows stay locked until it commits, so counts never drift under concurrency)."""
    for status, delta in sorted(deltas.items()):
        if not delta:
            continue
        updated = OrderStatusCount.objects.filter(store_id=store_id, status=status).update(count=F("count") + delta)
        if not updated:
            try:
                with transaction.atomic():
                    OrderStatusCount.objects.create(store_id=store_id, status=status, count=delta)
            except IntegrityError:  # created by a concurrent transaction meanwhile
                OrderStatusCount.objects.filter(store_id=store_id, status=status).update(count=F("count") + delta)


def order_status_counts_rebuild(*, store: Store) -> dict[str, int]:
    """Recompute a store's status-card counters from its orders (after a bulk load or a repair). Safe to
    re-run. Returns the counts."""
    from django.db.models import Count

    with transaction.atomic():
        counts = dict.fromkeys(Order.Status.values, 0)
        for row in Order.objects.filter(store=store).order_by().values("status").annotate(total=Count("id")):
            counts[row["status"]] = row["total"]
        for status, count in counts.items():
            OrderStatusCount.objects.update_or_create(store=store, status=status, defaults={"count": count})
    return counts


def order_failed_operations(order_ids: Sequence[int]) -> dict[int, list[str]]:
    failed: dict[int, list[str]] = defaultdict(list)
    if not order_ids:
        return failed
    for order_id, tracking, error in Shipment.objects.filter(
        order_id__any_of=order_ids, status=Shipment.Status.ERROR
    ).values_list("order_id", "tracking_number", "error"):
        failed[order_id].append(f"Shipment {tracking} failed: {error}")
    for order_id, pk, error in Cancellation.objects.filter(
        order_id__any_of=order_ids, status=Cancellation.Status.ERROR
    ).values_list("order_id", "pk", "error"):
        failed[order_id].append(f"Cancellation {pk} failed: {error}")
    return failed


def order_status_refresh(*, order: Order) -> Order:
    """Recompute an order's status and details from its lines and failed pushes. Safe to re-run."""
    lines = list(order.lines.values(*LINE_FIELDS_FROM_WALMART))
    failed = order_failed_operations([order.pk])
    status, details = order_status_from_lines(lines, failed_operations=failed.get(order.pk, []))
    if (status, details) != (order.status, order.status_details):
        with transaction.atomic():
            previous = Order.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)
            Order.objects.filter(pk=order.pk).update(status=status, status_details=details, updated_at=timezone.now())
            if previous != status:
                order_status_counts_shift(store_id=order.store_id, deltas={previous: -1, status: 1})
        order.status, order.status_details = status, details
    return order


def order_settings_update(*, store: Store, user=None, **values: Any) -> OrderSettings:
    """Save order settings fields (prefix, auto-acknowledge, poll interval, carrier mapping, webhook auth)."""
    order_settings = order_settings_ensure(store=store)
    password = values.pop("webhook_basic_password", None)
    for name, value in values.items():
        setattr(order_settings, name, value)
    if password:
        order_settings.webhook_basic_password = password
    order_settings.full_clean()
    order_settings.save()
    return order_settings
