"""Writes of the orders app: intake (poll, webhook, fetch), acknowledgement, commerce orders, shipments
and cancellations.

Every push to Walmart follows the same rule: the intent row is saved first (a `Shipment`, a
`Cancellation`), the push runs after commit in a task, and an ambiguous failure (a timeout after the
request was sent, a 5xx) is resolved by reading the order back from Walmart before anything is resent.
Stock follows Walmart's quantities: a unit is reserved once when the order is first stored and given back
once when Walmart shows it cancelled (by us, by the customer, by auto-cancel or in Seller Center).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from channel_manager import polling
from channel_manager.intents import request_maybe_applied_after
from channel_manager.models import Store
from channel_manager.polling import client_correlation_id, error_text
from orders.mapping import (
    order_fields_from_remote,
    order_line_fields_from_remote,
    order_status_from_lines,
    order_totals_from_lines,
)
from orders.models import (
    Cancellation,
    CancellationLine,
    CancellationReason,
    MethodCode,
    Order,
    OrderEvent,
    OrderLine,
    OrderSettings,
    OrderStatusCount,
    Shipment,
    ShipmentLine,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

Actor = OrderEvent.Actor
PAGE_SIZE = 200  # Walmart's maximum page of orders
ACKNOWLEDGE_CLAIM_SECONDS = 600
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
]
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


def _walmart_client(store: Store):
    from channel_manager.walmart import walmart_client_for_store

    return walmart_client_for_store(store)


def _actor_name(actor: str, user=None) -> str:
    if user is not None and actor in (Actor.OPERATOR, Actor.ADMIN):
        return user.get_username()
    return str(actor)


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


# --- intake -------------------------------------------------------------------------------------------


@dataclass
class UpsertResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def _listings_by_sku(*, store: Store, skus: Iterable[str]) -> dict[str, Any]:
    from listings.models import Listing

    listings = Listing.objects.filter(store=store, product__sku__in=set(skus)).select_related("product")
    return {listing.product.sku: listing for listing in listings}


def _line_fields(remote_line: Any, listings: Mapping[str, Any]) -> dict[str, Any]:
    fields = order_line_fields_from_remote(remote_line)
    listing = listings.get(fields["sku"])
    fields["listing"] = listing
    fields["status_details"] = ""
    if listing is None:
        fields["status"] = OrderLine.Status.ERROR
        fields["status_details"] = f"Line {remote_line.line_number}: SKU {fields['sku']} has no listing in this store."
    return fields


def _failed_operations(order_ids: Sequence[int]) -> dict[int, list[str]]:
    failed: dict[int, list[str]] = defaultdict(list)
    if not order_ids:
        return failed
    for order_id, tracking, error in Shipment.objects.filter(
        order_id__in=order_ids, status=Shipment.Status.ERROR
    ).values_list("order_id", "tracking_number", "error"):
        failed[order_id].append(f"Shipment {tracking} failed: {error}")
    for order_id, pk, error in Cancellation.objects.filter(
        order_id__in=order_ids, status=Cancellation.Status.ERROR
    ).values_list("order_id", "pk", "error"):
        failed[order_id].append(f"Cancellation {pk} failed: {error}")
    return failed


def _commerce_numbers_allocate(*, store: Store, count: int) -> tuple[OrderSettings, int]:
    """Reserve `count` consecutive commerce order numbers (one F() update; the row lock serialises
    concurrent intakes of one store until commit). Returns the settings and the first number."""
    order_settings_ensure(store=store)
    OrderSettings.objects.filter(store=store).update(next_commerce_number=F("next_commerce_number") + count)
    order_settings = OrderSettings.objects.get(store=store)
    return order_settings, order_settings.next_commerce_number - count


def _change_messages(line: OrderLine, fields: dict[str, Any]) -> list[str]:
    messages = []
    for field_name, label in (
        ("quantity_shipped", "shipped"),
        ("quantity_delivered", "delivered"),
        ("quantity_cancelled", "cancelled"),
        ("quantity_refunded", "refunded"),
    ):
        before, after = getattr(line, field_name), fields[field_name]
        if after != before:
            messages.append(f"line {line.line_number} ({line.sku}): {label} {before} -> {after}")
    if fields["intent_to_cancel"] and not line.intent_to_cancel:
        messages.append(f"line {line.line_number} ({line.sku}): the customer asked to cancel (intent to cancel)")
    return messages


def _stock_release_due(lines: Iterable[OrderLine]) -> list[tuple[OrderLine, int]]:
    """Lines whose Walmart-cancelled units exceed what was given back, with the delta to give back."""
    due = []
    for line in lines:
        if line.listing_id is None:
            continue
        delta = min(line.quantity_cancelled, line.stock_reserved) - line.stock_released
        if delta > 0:
            due.append((line, delta))
    return due


def _stock_reference(shares: Sequence[tuple[OrderLine, int]]) -> str:
    """The stock movement's reference: the purchase order and line, or how many lines of which orders."""
    if len(shares) == 1:
        line = shares[0][0]
        return f"PO {line.order.purchase_order_id} line {line.line_number}"
    orders = sorted({line.order.purchase_order_id for line, _ in shares})
    text = f"{len(shares)} order lines: PO " + ", ".join(orders)
    return text if len(text) <= 100 else text[:97] + "..."


def _orders_upsert_batch(
    *, store: Store, remotes: Sequence[Any], actor: str, correlation_id: str, user=None
) -> tuple[UpsertResult, list[Order]]:
    from inventory.services import stock_move

    now = timezone.now()
    result = UpsertResult()
    status_deltas: Counter[str] = Counter()
    purchase_order_ids = [remote.purchase_order_id for remote in remotes]
    existing = {
        order.purchase_order_id: order
        for order in Order.objects.select_for_update().filter(store=store, purchase_order_id__in=purchase_order_ids)
    }
    listings = _listings_by_sku(store=store, skus=(line.sku for remote in remotes for line in remote.lines))
    remote_line_fields = {
        remote.purchase_order_id: [(line.line_number, _line_fields(line, listings)) for line in remote.lines]
        for remote in remotes
    }
    failed = _failed_operations([order.pk for order in existing.values()])

    def order_fields(remote: Any, order_id: int | None) -> dict[str, Any]:
        line_fields = [fields for _, fields in remote_line_fields[remote.purchase_order_id]]
        fields = order_fields_from_remote(remote) | order_totals_from_lines(line_fields)
        fields["order_date"] = fields["order_date"] or now
        fields["intent_to_cancel"] = any(line["intent_to_cancel"] for line in line_fields)
        fields["status"], fields["status_details"] = order_status_from_lines(
            line_fields, failed_operations=failed.get(order_id, []) if order_id else []
        )
        return fields

    # New orders: one INSERT for the batch, commerce numbers allocated as a block.
    new_remotes = [remote for remote in remotes if remote.purchase_order_id not in existing]
    new_orders: list[Order] = []
    if new_remotes:
        order_settings, first_number = _commerce_numbers_allocate(store=store, count=len(new_remotes))
        new_orders = [
            Order(
                store=store,
                purchase_order_id=remote.purchase_order_id,
                commerce_order_number=order_settings.commerce_order_number(first_number + index),
                last_read_at=now,
                **order_fields(remote, None),
            )
            for index, remote in enumerate(new_remotes)
        ]
        Order.objects.bulk_create(new_orders)
        result.created = [order.pk for order in new_orders]
        status_deltas.update(order.status for order in new_orders)

    # Existing orders: lines compared field by field; only what changed is written.
    existing_lines: dict[tuple[int, str], OrderLine] = {
        (line.order_id, line.line_number): line
        for line in OrderLine.objects.filter(order__in=list(existing.values())).select_related("listing__product")
    }
    lines_to_create: list[OrderLine] = []
    lines_to_update: list[OrderLine] = []
    orders_to_update: list[Order] = []
    events: list[OrderEvent] = []
    for order in new_orders:
        for line_number, fields in remote_line_fields[order.purchase_order_id]:
            lines_to_create.append(OrderLine(order=order, line_number=line_number, **fields))
        events.append(
            OrderEvent(
                order=order,
                actor=actor,
                user=user,
                correlation_id=correlation_id,
                message=f"Order received from Walmart; commerce order {order.commerce_order_number} created.",
                created_at=now,
            )
        )
    for remote in remotes:
        order = existing.get(remote.purchase_order_id)
        if order is None:
            continue
        fields = order_fields(remote, order.pk)
        changes: list[str] = []
        lines_changed = False
        for line_number, line_fields in remote_line_fields[remote.purchase_order_id]:
            line = existing_lines.get((order.pk, line_number))
            if line is None:
                lines_to_create.append(OrderLine(order=order, line_number=line_number, **line_fields))
                changes.append(f"line {line_number} ({line_fields['sku']}) added")
                continue
            changes.extend(_change_messages(line, line_fields))
            if any(getattr(line, name) != line_fields[name] for name in LINE_FIELDS_FROM_WALMART):
                for name in LINE_FIELDS_FROM_WALMART:
                    setattr(line, name, line_fields[name])
                lines_to_update.append(line)
                lines_changed = True
        order_changed = lines_changed or any(getattr(order, name) != value for name, value in fields.items())
        if fields["status"] != order.status:
            changes.append(f"status {order.get_status_display()} -> {Order.Status(fields['status']).label}")
            status_deltas[order.status] -= 1
            status_deltas[fields["status"]] += 1
        if order_changed or changes:
            for name, value in fields.items():
                setattr(order, name, value)
            order.updated_at = now
            order.last_read_at = now
            orders_to_update.append(order)
            result.updated.append(order.pk)
            if changes:
                events.append(
                    OrderEvent(
                        order=order,
                        actor=actor,
                        user=user,
                        correlation_id=correlation_id,
                        message="Walmart: " + "; ".join(changes),
                        created_at=now,
                    )
                )
        else:
            result.unchanged.append(order.pk)

    # Stock: reserve each new line once; give back what Walmart shows cancelled beyond what was given back.
    # Moves are summed per product for the batch (one stock_move each); each line records its own share.
    created_ids = set(result.created)
    reservations: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines_to_create:
        if line.listing is not None and line.order.pk in created_ids:
            line.stock_reserved = line.quantity
            reservations[line.listing.product_id].append(line)
    releases: dict[int, list[tuple[OrderLine, int]]] = defaultdict(list)
    for line, delta in _stock_release_due([*lines_to_create, *lines_to_update]):
        line.stock_released += delta
        releases[line.listing.product_id].append((line, delta))
        events.append(
            OrderEvent(
                order=line.order,
                actor=actor,
                user=user,
                correlation_id=correlation_id,
                message=f"{delta} unit(s) of {line.sku} cancelled on Walmart returned to stock.",
                created_at=now,
            )
        )

    OrderLine.objects.bulk_create(lines_to_create)
    if lines_to_update:
        OrderLine.objects.bulk_update(lines_to_update, [*LINE_FIELDS_FROM_WALMART, "stock_released"])
    if orders_to_update:
        Order.objects.bulk_update(orders_to_update, [*ORDER_FIELDS_FROM_WALMART, "updated_at", "last_read_at"])

    actor_name = _actor_name(actor, user)
    for lines in reservations.values():
        stock_move(
            product=lines[0].listing.product,
            delta=-sum(line.quantity for line in lines),
            reason="order_reservation",
            actor=actor_name,
            reference=_stock_reference([(line, line.quantity) for line in lines]),
        )
    for shares in releases.values():
        stock_move(
            product=shares[0][0].listing.product,
            delta=sum(delta for _, delta in shares),
            reason="order_cancellation",
            actor=actor_name,
            reference=_stock_reference(shares),
        )
    OrderEvent.objects.bulk_create(events)
    order_status_counts_shift(store_id=store.pk, deltas=status_deltas)
    return result, [*new_orders, *existing.values()]


def _upsert_batch_size() -> int:
    return int(getattr(settings, "ORDERS_UPSERT_BATCH_SIZE", 1000))


def orders_upsert_from_walmart(
    *, store: Store, remotes: Sequence[Any], actor: str, correlation_id: str = "", user=None
) -> UpsertResult:
    """Insert or update Walmart purchase orders in one transaction per batch (ORDERS_UPSERT_BATCH_SIZE, 1000).

    Safe to re-run: keyed on (store, purchase_order_id) under a unique constraint; unchanged orders are
    not written; stock is reserved only when an order is first stored and given back only for the
    cancelled units not yet given back. If a concurrent intake inserts one of the same orders first, the
    batch is rolled back and redone (it then updates instead). New orders are acknowledged after commit
    when the store's auto-acknowledge switch is on.
    """
    deduplicated = list({remote.purchase_order_id: remote for remote in remotes}.values())
    total = UpsertResult()
    batch_size = _upsert_batch_size()
    for start in range(0, len(deduplicated), batch_size):
        batch = deduplicated[start : start + batch_size]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    result, orders = _orders_upsert_batch(
                        store=store, remotes=batch, actor=actor, correlation_id=correlation_id, user=user
                    )
                    _acknowledge_enqueue_due(store=store, orders=orders)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.info("Concurrent intake of store %s; redoing a batch of %d orders.", store.pk, len(batch))
        total.created.extend(result.created)
        total.updated.extend(result.updated)
        total.unchanged.extend(result.unchanged)
    return total


def order_upsert_from_walmart(
    *, store: Store, remote: Any, actor: str, correlation_id: str = "", user=None
) -> tuple[Order, bool]:
    """One purchase order; see `orders_upsert_from_walmart`. Returns (order, created)."""
    result = orders_upsert_from_walmart(
        store=store, remotes=[remote], actor=actor, correlation_id=correlation_id, user=user
    )
    order = Order.objects.get(store=store, purchase_order_id=remote.purchase_order_id)
    return order, bool(result.created)


def _acknowledge_enqueue_due(*, store: Store, orders: Sequence[Order]) -> None:
    """After commit, acknowledge the orders that still need it (never acknowledged, with Created lines)."""
    order_settings = OrderSettings.objects.filter(store=store).only("auto_acknowledge").first()
    if order_settings is not None and not order_settings.auto_acknowledge:
        return
    order_ids = [order.pk for order in orders if order.acknowledged_at is None]
    if not order_ids:
        return
    due = list(
        OrderLine.objects.filter(order_id__in=order_ids, quantity_created__gt=0)
        .values_list("order_id", flat=True)
        .distinct()
    )
    if not due:
        return
    from orders.tasks import order_acknowledge_task

    def enqueue() -> None:
        for order_id in due:
            order_acknowledge_task.delay(order_id)

    transaction.on_commit(enqueue)


@dataclass(frozen=True)
class PollResult:
    created: int
    updated: int
    unchanged: int
    window_start: datetime


def order_poll(*, store: Store, actor: str = Actor.SCHEDULE) -> PollResult:
    """Pull the orders Walmart changed since the watermark (minus the overlap), and the released-orders
    queue (unacknowledged orders created before that window), and upsert them in batches.

    Safe to re-run: upserts are idempotent. The watermark advances to the poll's start only after every
    batch has committed, so a failed poll is simply redone from the same point next time. Raises the
    client's `WalmartError` on failure (the watermark is then untouched; the error is recorded).
    See https://developer.walmart.com/us-marketplace/reference/getallorders and getallreleasedorders.
    """
    order_settings = order_settings_ensure(store=store)
    window = polling.poll_start(
        order_settings, initial_lookback=timedelta(days=getattr(settings, "ORDERS_INITIAL_LOOKBACK_DAYS", 7))
    )
    started, window_start = window.started, window.window_start
    client = _walmart_client(store)
    totals = UpsertResult()
    seen: set[str] = set()

    def flush(batch: list[Any]) -> None:
        result = orders_upsert_from_walmart(store=store, remotes=batch, actor=actor)
        totals.created.extend(result.created)
        totals.updated.extend(result.updated)
        totals.unchanged.extend(result.unchanged)
        batch.clear()

    with polling.poll_recorded(order_settings, window):
        batch: list[Any] = []
        created_since = started - timedelta(days=getattr(settings, "ORDERS_POLL_CREATED_WITHIN_DAYS", 30))
        # Walmart defaults createdStartDate to 7 days ago: older orders changed since (auto-cancels, late
        # cancellations in Seller Center) are only listed when it is given.
        for remote in client.orders.iter_all(
            created_start_date=min(created_since, window_start),
            last_modified_start_date=window_start,
            limit=PAGE_SIZE,
        ):
            seen.add(remote.purchase_order_id)
            batch.append(remote)
            if len(batch) >= _upsert_batch_size():
                flush(batch)
        flush(batch)
        # The released queue (lines still Created) catches orders the last-modified pass can no longer
        # see: those created before its window. Orders created inside the window were just read.
        released_since = window_start - timedelta(days=getattr(settings, "ORDERS_RELEASED_LOOKBACK_DAYS", 7))
        for remote in client.orders.iter_released(
            created_start_date=released_since, created_end_date=window_start, limit=PAGE_SIZE
        ):
            if remote.purchase_order_id in seen:
                continue
            seen.add(remote.purchase_order_id)
            batch.append(remote)
            if len(batch) >= _upsert_batch_size():
                flush(batch)
        flush(batch)
    return PollResult(
        created=len(totals.created),
        updated=len(totals.updated),
        unchanged=len(totals.unchanged),
        window_start=window_start,
    )


def order_fetch(*, store: Store, purchase_order_id: str, actor: str, user=None) -> tuple[Order, bool]:
    """Read one purchase order from Walmart and upsert it. Safe to re-run. Raises WalmartError."""
    client = _walmart_client(store)
    remote = client.orders.get(purchase_order_id)
    return order_upsert_from_walmart(
        store=store, remote=remote, actor=actor, correlation_id=client_correlation_id(client), user=user
    )


def order_refresh(*, order: Order, actor: str, user=None) -> Order:
    """Re-read an order from Walmart (admin action, operator button). Safe to re-run."""
    refreshed, _ = order_fetch(store=order.store, purchase_order_id=order.purchase_order_id, actor=actor, user=user)
    return refreshed


# --- acknowledgement -----------------------------------------------------------------------------------


def order_acknowledge(*, order_id: int, actor: str = Actor.SYSTEM, force: bool = False, user=None) -> bool:
    """Acknowledge a purchase order on Walmart (POST /v3/orders/{id}/acknowledge) and store the answer.

    Runs at most once per order unless `force` (re-acknowledge, which Walmart allows): a claim on the row
    keeps two workers from both calling. Returns True when Walmart was called and answered. Raises
    WalmartError on failure (the claim is released, so a retry can run).
    """
    now = timezone.now()
    claim = Order.objects.filter(pk=order_id).filter(
        Q(acknowledging_since__isnull=True)
        | Q(acknowledging_since__lt=now - timedelta(seconds=ACKNOWLEDGE_CLAIM_SECONDS))
    )
    if not force:
        claim = claim.filter(acknowledged_at__isnull=True)
    if not claim.update(acknowledging_since=now):
        return False
    order = Order.objects.select_related("store").get(pk=order_id)
    client = _walmart_client(order.store)
    try:
        remote = client.orders.acknowledge(order.purchase_order_id)
    except Exception as error:
        Order.objects.filter(pk=order_id).update(acknowledging_since=None)
        order_event_add(
            order=order,
            actor=actor,
            user=user,
            message=f"Acknowledgement failed: {error_text(error)}",
            correlation_id=getattr(error, "correlation_id", "") or "",
        )
        raise
    correlation_id = client_correlation_id(client)
    with transaction.atomic():
        order_upsert_from_walmart(store=order.store, remote=remote, actor=actor, correlation_id=correlation_id)
        Order.objects.filter(pk=order_id).update(acknowledged_at=timezone.now(), acknowledging_since=None)
        order_event_add(
            order=order,
            actor=actor,
            user=user,
            message="Re-acknowledged on Walmart." if force else "Acknowledged on Walmart.",
            correlation_id=correlation_id,
        )
    return True


# --- shipments and cancellations -----------------------------------------------------------------------


def _held_quantities(*, order: Order) -> dict[int, int]:
    """Units of each line held by shipments and cancellations not yet confirmed by Walmart."""
    held: dict[int, int] = defaultdict(int)
    for model in (ShipmentLine, CancellationLine):
        parent = "shipment" if model is ShipmentLine else "cancellation"
        rows = (
            model.objects.filter(**{f"{parent}__order": order, f"{parent}__status__in": HOLDING_STATUSES})
            .values("line_id")
            .annotate(total=Sum("quantity"))
        )
        for row in rows:
            held[row["line_id"]] += row["total"]
    return held


def order_line_remaining(*, order: Order) -> dict[int, int]:
    """Units of each line that can still be shipped or cancelled: open on Walmart, not held by a push."""
    held = _held_quantities(order=order)
    return {line.pk: max(0, line.quantity_open - held.get(line.pk, 0)) for line in order.lines.all()}


def _quantities_validated(*, order: Order, quantities: Mapping[int, int], verb: str) -> dict[OrderLine, int]:
    lines = {line.pk: line for line in order.lines.all()}
    remaining = order_line_remaining(order=order)
    errors: dict[str, list[str]] = defaultdict(list)
    chosen: dict[OrderLine, int] = {}
    for line_id, quantity in quantities.items():
        line = lines.get(int(line_id))
        if line is None:
            errors["__all__"].append(f"Line {line_id} is not a line of this order.")
            continue
        if quantity is None or quantity == 0:
            continue
        if quantity < 0:
            errors[f"quantity_{line.pk}"].append("Enter a quantity of 0 or more.")
        elif quantity > remaining[line.pk]:
            errors[f"quantity_{line.pk}"].append(
                f"Line {line.line_number} ({line.sku}): cannot {verb} {quantity}; only {remaining[line.pk]} "
                f"left to {verb} (ordered {line.quantity}, shipped {line.quantity_shipped_total}, "
                f"cancelled {line.quantity_cancelled}, in progress {line.quantity_open - remaining[line.pk]})."
            )
        else:
            chosen[line] = quantity
    if not chosen and not errors:
        errors["__all__"].append(f"Choose at least one line and a quantity to {verb}.")
    if errors:
        raise ValidationError(dict(errors))
    return chosen


def shipment_create(
    *,
    order: Order,
    quantities: Mapping[int, int],
    tracking_number: str,
    method_code: str,
    ship_date: datetime,
    carrier: str = "",
    other_carrier: str = "",
    tracking_url: str = "",
    merchant_carrier: str = "",
    intent_to_cancel_override: bool = False,
    user=None,
    actor: str = Actor.OPERATOR,
) -> Shipment:
    """Save a shipment of some lines and quantities as an intent, and push it after commit.

    Raises ValidationError (with field keys) and writes nothing when: no quantity is chosen, a quantity
    exceeds what remains (shipped, cancelled or held by another push), the tracking number is missing,
    neither a Walmart carrier nor another carrier with a tracking URL is given, the method code is not
    one of Walmart's, or a chosen line is one the customer asked to cancel and `intent_to_cancel_override`
    (the operator's explicit confirmation) is not set. With it, those lines are sent with Walmart's
    `intentToCancelOverride`. The order row is locked while quantities are checked, so two operators
    cannot ship the same units.
    """
    errors: dict[str, list[str]] = defaultdict(list)
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        errors["tracking_number"].append("Walmart requires a tracking number for every shipment.")
    if not carrier:
        if not (other_carrier or "").strip():
            errors["other_carrier"].append("Enter the carrier's name (this carrier is not mapped to Walmart's).")
        if not (tracking_url or "").strip():
            errors["tracking_url"].append("Walmart requires a tracking URL when the carrier is not one of its own.")
    if method_code not in MethodCode.values:
        errors["method_code"].append(f"Choose one of Walmart's ship methods: {', '.join(MethodCode.values)}.")
    if ship_date is None or timezone.is_naive(ship_date):
        errors["ship_date"].append("Enter the ship date and time.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        try:
            chosen = _quantities_validated(order=order, quantities=quantities, verb="ship")
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors[key].extend(messages)
            chosen = {}
        for line in chosen:
            if line.intent_to_cancel and not intent_to_cancel_override:
                errors[f"quantity_{line.pk}"].append(
                    f"Line {line.line_number} ({line.sku}): the customer asked to cancel it. Cancel it with the "
                    'reason "The customer asked to cancel", or tick "Ship anyway" to ship it.'
                )
        if errors:
            raise ValidationError(dict(errors))
        shipment = Shipment.objects.create(
            order=order,
            carrier=carrier,
            other_carrier="" if carrier else other_carrier.strip(),
            tracking_url=(tracking_url or "").strip(),
            merchant_carrier=merchant_carrier,
            method_code=method_code,
            tracking_number=tracking_number,
            ship_date=ship_date,
            intent_to_cancel_override=intent_to_cancel_override,
            created_by=user,
            next_attempt_at=timezone.now(),
        )
        ShipmentLine.objects.bulk_create(
            [ShipmentLine(shipment=shipment, line=line, quantity=quantity) for line, quantity in chosen.items()]
        )
        summary = ", ".join(f"line {line.line_number} x {quantity}" for line, quantity in chosen.items())
        overridden = [line.line_number for line in chosen if line.intent_to_cancel]
        override_note = (
            f" Shipped although the customer asked to cancel line(s) {', '.join(overridden)} (override confirmed)."
            if overridden
            else ""
        )
        order_event_add(
            order=order,
            actor=actor,
            user=user,
            message=(
                f"Shipment created ({summary}; {shipment.carrier_label} {tracking_number}); sending to Walmart."
                f"{override_note}"
            ),
        )
        _push_enqueue("shipment", shipment.pk)
    return shipment


def cancellation_create(
    *,
    order: Order,
    quantities: Mapping[int, int] | None,
    reason: str,
    user=None,
    actor: str = Actor.OPERATOR,
) -> Cancellation:
    """Save a cancellation of some lines and quantities (`quantities=None`: the whole order, every unit
    that remains) with Walmart's reason, and push it after commit.

    Raises ValidationError and writes nothing for an unknown reason, the customer-requested reason on a
    line the customer did not ask to cancel, or a quantity beyond what remains. Stock comes back when
    Walmart confirms the cancellation (see `orders_upsert_from_walmart`).
    """
    errors: dict[str, list[str]] = defaultdict(list)
    if reason not in CancellationReason.values:
        errors["reason"].append("Choose a cancellation reason.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if quantities is None:
            quantities = {line_id: left for line_id, left in order_line_remaining(order=order).items() if left}
            if not quantities:
                errors["__all__"].append("Nothing left to cancel on this order.")
        chosen: dict[OrderLine, int] = {}
        if quantities:
            try:
                chosen = _quantities_validated(order=order, quantities=quantities, verb="cancel")
            except ValidationError as error:
                for key, messages in error.message_dict.items():
                    errors[key].extend(messages)
        if reason == CancellationReason.CUSTOMER_REQUESTED:
            not_requested = [line for line in chosen if not line.intent_to_cancel]
            if not_requested:
                errors["reason"].append(
                    "This reason is only for lines the customer asked to cancel "
                    f"(not line {', '.join(line.line_number for line in not_requested)})."
                )
        if errors:
            raise ValidationError(dict(errors))
        cancellation = Cancellation.objects.create(
            order=order, reason=reason, created_by=user, next_attempt_at=timezone.now()
        )
        CancellationLine.objects.bulk_create(
            [
                CancellationLine(cancellation=cancellation, line=line, quantity=quantity)
                for line, quantity in chosen.items()
            ]
        )
        summary = ", ".join(f"line {line.line_number} x {quantity}" for line, quantity in chosen.items())
        order_event_add(
            order=order,
            actor=actor,
            user=user,
            message=f"Cancellation created ({summary}; {CancellationReason(reason).label}); sending to Walmart.",
        )
        _push_enqueue("cancellation", cancellation.pk)
    return cancellation


def _push_enqueue(kind: str, pk: int) -> None:
    from orders.tasks import cancellation_push_task, shipment_push_task

    task = shipment_push_task if kind == "shipment" else cancellation_push_task
    transaction.on_commit(lambda: task.delay(pk))


def _remote_line(remote: Any, line_number: str) -> Any | None:
    for remote_line in remote.lines:
        if str(remote_line.line_number) == str(line_number):
            return remote_line
    return None


def _already_applied(operation: Shipment | Cancellation, remote: Any) -> dict[int, bool]:
    """For each line of a push whose last attempt may have reached Walmart: does Walmart's copy of the
    order already show it? A shipment is found by its tracking number on the line; failing that (and for
    cancellations), by Walmart's quantity covering this push plus every push of the line already sent."""
    is_shipment = isinstance(operation, Shipment)
    applied: dict[int, bool] = {}
    for op_line in operation.lines.select_related("line"):
        remote_line = _remote_line(remote, op_line.line.line_number)
        if remote_line is None:
            applied[op_line.pk] = False
            continue
        fields = order_line_fields_from_remote(remote_line)
        if is_shipment:
            if any(t["tracking_number"] == operation.tracking_number for t in fields["tracking"]):
                applied[op_line.pk] = True
                continue
            walmart_quantity = fields["quantity_shipped"] + fields["quantity_delivered"] + fields["quantity_refunded"]
            sent = ShipmentLine.objects.filter(line=op_line.line, shipment__status=Shipment.Status.SENT)
        else:
            walmart_quantity = fields["quantity_cancelled"]
            sent = CancellationLine.objects.filter(line=op_line.line, cancellation__status=Cancellation.Status.SENT)
        already_sent = sent.exclude(pk=op_line.pk).aggregate(total=Sum("quantity"))["total"] or 0
        applied[op_line.pk] = walmart_quantity >= already_sent + op_line.quantity
    return applied


def _ship_lines(shipment: Shipment, op_lines: Sequence[ShipmentLine]) -> list[Any]:
    from walmart_client.models import ShipLine

    return [
        ShipLine(
            line_number=op_line.line.line_number,
            quantity=op_line.quantity,
            carrier=shipment.carrier or None,
            other_carrier=shipment.other_carrier or None,
            tracking_number=shipment.tracking_number,
            tracking_url=shipment.tracking_url or None,
            method_code=shipment.method_code,
            ship_datetime=shipment.ship_date,
            intent_to_cancel_override=shipment.intent_to_cancel_override and op_line.line.intent_to_cancel,
        )
        for op_line in op_lines
    ]


def _cancel_lines(cancellation: Cancellation, op_lines: Sequence[CancellationLine]) -> list[Any]:
    from walmart_client.models import CancelLine

    return [
        CancelLine(line_number=op_line.line.line_number, quantity=op_line.quantity, reason=cancellation.reason)
        for op_line in op_lines
    ]


def _operation_push(operation: Shipment | Cancellation, *, final_attempt: bool, actor: str) -> None:
    from walmart_client.errors import (
        WalmartConnectionError,
        WalmartError,
        WalmartRateLimited,
        WalmartServerError,
    )

    model = type(operation)
    is_shipment = model is Shipment
    label = f"Shipment {operation.tracking_number}" if is_shipment else f"Cancellation {operation.pk}"
    order = operation.order
    store = order.store
    client = _walmart_client(store)
    op_lines = list(operation.lines.select_related("line"))
    try:
        if operation.request_maybe_applied:
            remote = client.orders.get(order.purchase_order_id)
            order_upsert_from_walmart(
                store=store, remote=remote, actor=actor, correlation_id=client_correlation_id(client)
            )
            applied = _already_applied(operation, remote)
            if all(applied.values()):
                _operation_sent(
                    operation,
                    actor=actor,
                    correlation_id=client_correlation_id(client),
                    message=f"{label}: Walmart already shows it (the earlier answer was lost); not sent again.",
                )
                return
            op_lines = [op_line for op_line in op_lines if not applied[op_line.pk]]
        if is_shipment and order.acknowledged_at is None and any(line.line.quantity_created for line in op_lines):
            order_acknowledge(order_id=order.pk, actor=actor)
        if is_shipment:
            remote = client.orders.ship(
                order.purchase_order_id,
                lines=_ship_lines(operation, op_lines),
                seller_order_id=order.commerce_order_number[:30],
            )
        else:
            remote = client.orders.cancel(order.purchase_order_id, lines=_cancel_lines(operation, op_lines))
    except (WalmartConnectionError, WalmartServerError, WalmartRateLimited) as error:
        maybe_applied = request_maybe_applied_after(error, already=operation.request_maybe_applied)
        _operation_failed(
            operation,
            error=error,
            maybe_applied=maybe_applied,
            final=final_attempt,
            actor=actor,
            label=label,
        )
        if not final_attempt:
            raise
        return
    except (WalmartError, ValueError) as error:
        _operation_failed(
            operation,
            error=error,
            maybe_applied=operation.request_maybe_applied,
            final=True,
            actor=actor,
            label=label,
        )
        return
    correlation_id = client_correlation_id(client)
    with transaction.atomic():
        order_upsert_from_walmart(store=store, remote=remote, actor=actor, correlation_id=correlation_id)
        _operation_sent(operation, actor=actor, correlation_id=correlation_id, message=f"{label} sent to Walmart.")


def _operation_sent(operation, *, actor: str, correlation_id: str, message: str) -> None:
    with transaction.atomic():
        type(operation).push_sent(operation.pk, correlation_id=correlation_id)
        order_event_add(order=operation.order, actor=actor, message=message, correlation_id=correlation_id)
        order_status_refresh(order=operation.order)


def _operation_failed(operation, *, error: Exception, maybe_applied: bool, final: bool, actor: str, label: str) -> None:
    attempts = operation.attempts + 1
    text = error_text(error)
    with transaction.atomic():
        type(operation).push_attempt_failed(
            operation.pk,
            attempts=attempts,
            error_text=text,
            correlation_id=(getattr(error, "correlation_id", "") or "")[:64],
            maybe_applied=maybe_applied,
            final=final,
            retry_after=getattr(error, "retry_after", None),
        )
        order_event_add(
            order=operation.order,
            actor=actor,
            correlation_id=getattr(error, "correlation_id", "") or "",
            message=(
                f"{label} failed: {text}" if final else f"{label}: attempt {attempts} failed ({text}); will retry."
            ),
        )
        if final:
            order_status_refresh(order=operation.order)


def shipment_push(*, shipment_id: int, final_attempt: bool = False, actor: str = Actor.SYSTEM) -> Shipment:
    """Push one pending shipment to Walmart (POST /v3/orders/{id}/shipping).

    Safe to re-run: only a Pending shipment is pushed, under a claim so one worker sends it; a push whose
    earlier attempt may have reached Walmart reads the order back first and sends only the lines Walmart
    does not show. A 4xx marks it Error with Walmart's message; a retryable failure (rate limit, 5xx,
    connection) is recorded and re-raised for the task to retry, and on the final attempt marks Error.
    """
    if Shipment.push_claim(shipment_id):
        shipment = Shipment.objects.select_related("order__store").get(pk=shipment_id)
        _operation_push(shipment, final_attempt=final_attempt, actor=actor)
    return Shipment.objects.get(pk=shipment_id)


def cancellation_push(*, cancellation_id: int, final_attempt: bool = False, actor: str = Actor.SYSTEM) -> Cancellation:
    """Push one pending cancellation to Walmart (POST /v3/orders/{id}/cancel). Same contract as
    `shipment_push`. The cancelled stock comes back when Walmart's answer is stored."""
    if Cancellation.push_claim(cancellation_id):
        cancellation = Cancellation.objects.select_related("order__store").get(pk=cancellation_id)
        _operation_push(cancellation, final_attempt=final_attempt, actor=actor)
    return Cancellation.objects.get(pk=cancellation_id)


def operation_retry(*, operation: Shipment | Cancellation, actor: str, user=None) -> bool:
    """Send a failed push again (Retry button, admin action). Returns False when it is not in Error.
    An operation that may have reached Walmart is read back before anything is resent."""
    model = type(operation)
    with transaction.atomic():
        if not model.push_retry(operation.pk):
            return False
        label = f"Shipment {operation.tracking_number}" if model is Shipment else f"Cancellation {operation.pk}"
        order_event_add(order=operation.order, actor=actor, user=user, message=f"{label}: retry requested.")
        order_status_refresh(order=operation.order)
        _push_enqueue("shipment" if model is Shipment else "cancellation", operation.pk)
    return True


def operation_discard(*, operation: Shipment | Cancellation, actor: str, user=None) -> bool:
    """Give up a failed push (the operator fixed it another way): its units are free again. Only an
    Error push that cannot have reached Walmart can be discarded. Returns False otherwise."""
    model = type(operation)
    with transaction.atomic():
        updated = model.objects.filter(pk=operation.pk, status=model.Status.ERROR, request_maybe_applied=False).update(
            status=model.Status.DISCARDED
        )
        if not updated:
            return False
        label = f"Shipment {operation.tracking_number}" if model is Shipment else f"Cancellation {operation.pk}"
        order_event_add(order=operation.order, actor=actor, user=user, message=f"{label}: discarded.")
        order_status_refresh(order=operation.order)
    return True


def order_status_refresh(*, order: Order) -> Order:
    """Recompute an order's status and details from its lines and failed pushes. Safe to re-run."""
    lines = list(order.lines.values(*LINE_FIELDS_FROM_WALMART))
    failed = _failed_operations([order.pk])
    status, details = order_status_from_lines(lines, failed_operations=failed.get(order.pk, []))
    if (status, details) != (order.status, order.status_details):
        with transaction.atomic():
            previous = Order.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)
            Order.objects.filter(pk=order.pk).update(status=status, status_details=details, updated_at=timezone.now())
            if previous != status:
                order_status_counts_shift(store_id=order.store_id, deltas={previous: -1, status: 1})
        order.status, order.status_details = status, details
    return order


def operations_due_enqueue(*, now: datetime | None = None) -> int:
    """Re-enqueue pushes whose task was lost (Pending, due, not claimed) and acknowledgements left undone.
    Safe to re-run: the push and acknowledge services claim their row first. Returns how many."""
    from orders.tasks import cancellation_push_task, order_acknowledge_task, shipment_push_task

    now = now or timezone.now()
    stale = now - timedelta(seconds=60)
    count = 0
    for model, task in ((Shipment, shipment_push_task), (Cancellation, cancellation_push_task)):
        for pk in model.pushes_lost(now=now).values_list("pk", flat=True)[:500]:
            task.delay(pk)
            count += 1
    unacknowledged = (
        Order.objects.filter(
            acknowledged_at__isnull=True,
            created_at__lt=stale,
            store__order_settings__auto_acknowledge=True,
            lines__quantity_created__gt=0,
        )
        .filter(Q(acknowledging_since__isnull=True) | Q(acknowledging_since__lt=now - timedelta(seconds=600)))
        .values_list("pk", flat=True)
        .distinct()
    )
    for pk in unacknowledged[:500]:
        order_acknowledge_task.delay(pk)
        count += 1
    return count


def stores_poll_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the stores whose order poll is due (orders sync on, interval elapsed since the last start)."""
    return polling.stores_poll_due(
        enabled_field="orders_enabled", settings_relation="order_settings", default_interval_seconds=300, now=now
    )


# --- webhooks ---------------------------------------------------------------------------------------------


def webhook_signature_valid(*, order_settings: OrderSettings, body: bytes, headers: Mapping[str, str]) -> bool:
    """Does this delivery carry the authentication the subscription asked Walmart for?

    HMAC: the configured header holds HMAC-SHA256 of the raw body keyed with the store's client secret
    (hex or base64: Walmart does not document the encoding, both are accepted). Basic: the configured
    header (or Authorization) holds base64(user:password). Constant-time comparisons; never raises.
    """
    header_name = order_settings.webhook_auth_header or "Authorization"
    lowered = {key.lower(): value for key, value in headers.items()}
    received = (lowered.get(header_name.lower()) or "").strip()
    try:
        if order_settings.webhook_auth_method == OrderSettings.WebhookAuth.BASIC:
            received = received or (lowered.get("authorization") or "").strip()
            if not order_settings.webhook_basic_username:
                return False
            token = received.removeprefix("Basic ").strip()
            expected = base64.b64encode(
                f"{order_settings.webhook_basic_username}:{order_settings.webhook_basic_password}".encode()
            ).decode()
            return bool(token) and hmac.compare_digest(token.encode(), expected.encode())
        if not received:
            return False
        digest = hmac.new(order_settings.store.client_secret.encode(), body, hashlib.sha256).digest()
        candidates = (digest.hex(), base64.b64encode(digest).decode())
        value = received.removeprefix("sha256=")
        return any(hmac.compare_digest(value.encode(), candidate.encode()) for candidate in candidates)
    except Exception:  # a malformed header or an undecryptable secret is a refusal, never a 500
        logger.warning("Webhook authentication of store %s could not be checked.", order_settings.store_id)
        return False


def webhook_event_record(*, store: Store, envelope: Mapping[str, Any]) -> tuple[WebhookEvent | None, bool]:
    """Record an authenticated delivery once, keyed on (store, event id), and fetch its purchase order
    after commit. Returns (event, created); a duplicate returns (existing event, False) and does nothing.
    Raises ValueError when the envelope has no event id."""
    source = envelope.get("source") or {}
    payload = envelope.get("payload") or {}
    event_id = str(source.get("eventId") or envelope.get("eventId") or "").strip()
    if not event_id:
        raise ValueError("The delivery has no source.eventId.")
    event_type = str(source.get("eventType") or envelope.get("eventType") or "")
    purchase_order_id = str(payload.get("purchaseOrderId") or "")
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            store=store,
            event_id=event_id[:100],
            defaults={
                "event_type": event_type[:60],
                "purchase_order_id": purchase_order_id[:50],
                "payload": dict(envelope),
            },
        )
        if created:
            from orders.tasks import webhook_event_process_task

            transaction.on_commit(lambda: webhook_event_process_task.delay(event.pk))
    return event, created


def webhook_event_process(*, event_id: int) -> Order | None:
    """Fetch the purchase order a webhook named and upsert it (the webhook is only a hint). Safe to re-run.
    Raises WalmartError for the task to retry; an event without a purchase order is just marked processed."""
    event = WebhookEvent.objects.select_related("store").get(pk=event_id)
    order = None
    if event.purchase_order_id:
        try:
            order, _ = order_fetch(store=event.store, purchase_order_id=event.purchase_order_id, actor=Actor.WEBHOOK)
        except Exception as error:
            WebhookEvent.objects.filter(pk=event.pk).update(error=error_text(error))
            raise
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error="")
    return order


# --- settings ------------------------------------------------------------------------------------------


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


# --- webhook subscriptions (Channel Settings -> Webhooks) -------------------------------------------------

ORDER_EVENT_TYPES = ("PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL", "ORDER_UPDATES")


def _webhook_auth_details(order_settings: OrderSettings) -> dict[str, str]:
    if order_settings.webhook_auth_method == OrderSettings.WebhookAuth.BASIC:
        return {
            "authMethod": "BASIC_AUTH",
            "authHeaderName": order_settings.webhook_auth_header or "Authorization",
            "userName": order_settings.webhook_basic_username,
            "password": order_settings.webhook_basic_password,
        }
    return {"authMethod": "HMAC", "authHeaderName": order_settings.webhook_auth_header}


def _order_event_types(client: Any) -> list[str]:
    """The order events to subscribe to: the specific ones Walmart offers (ORDER_UPDATES carries the same
    events again, so it is only used when they are not offered)."""
    try:
        offered = {event.event_type for event in client.notifications.event_types() if event.resource_name == "ORDER"}
    except Exception:  # the event-type list is advisory; PO_CREATED is always offered
        offered = set()
    chosen = [event_type for event_type in ORDER_EVENT_TYPES[:3] if event_type in offered]
    if chosen:
        return chosen
    return ["ORDER_UPDATES"] if "ORDER_UPDATES" in offered else ["PO_CREATED"]


def webhook_subscribe(*, store: Store, event_url: str) -> int:
    """Subscribe the store's webhook endpoint to Walmart's order events (POST /v3/webhooks/subscriptions)
    with the configured authentication. Returns how many ORDER subscriptions now point at the endpoint.
    Raises WalmartError (e.g. when one already exists: unsubscribe first)."""
    from walmart_client.resources.notifications import build_event

    order_settings = order_settings_ensure(store=store)
    client = _walmart_client(store)
    auth_details = _webhook_auth_details(order_settings)
    events = [
        build_event(event_type=event_type, resource_name="ORDER", event_url=event_url, auth_details=auth_details)
        for event_type in _order_event_types(client)
    ]
    client.notifications.create_subscription(events=events)
    # Walmart's spec answers `event` and its example `events`: read the subscriptions back instead.
    ours = [
        subscription
        for subscription in client.notifications.subscriptions(resource_name="ORDER")
        if subscription.event_url == event_url and subscription.subscription_id
    ]
    OrderSettings.objects.filter(pk=order_settings.pk).update(
        webhook_subscription_ids=sorted({subscription.subscription_id for subscription in ours})
    )
    return len(ours)


def webhook_unsubscribe(*, store: Store) -> int:
    """Delete every ORDER subscription of the seller pointing at this store's endpoint (or recorded by us).
    Returns how many were deleted. Raises WalmartError."""
    order_settings = order_settings_ensure(store=store)
    client = _walmart_client(store)
    recorded = set(order_settings.webhook_subscription_ids)
    deleted = 0
    for subscription in client.notifications.subscriptions(resource_name="ORDER"):
        ours = subscription.subscription_id in recorded or order_settings.webhook_token in (
            subscription.event_url or ""
        )
        if ours and subscription.subscription_id:
            client.notifications.delete_subscription(subscription.subscription_id)
            deleted += 1
    OrderSettings.objects.filter(pk=order_settings.pk).update(webhook_subscription_ids=[])
    return deleted


def webhook_test(*, store: Store, event_url: str) -> str:
    """Ask Walmart to deliver its test event to the endpoint (POST /v3/webhooks/test). Returns Walmart's
    message. Raises WalmartError when Walmart could not validate the URL."""
    from walmart_client.resources.notifications import build_event

    order_settings = order_settings_ensure(store=store)
    client = _walmart_client(store)
    event = build_event(
        event_type="PO_CREATED",
        resource_name="ORDER",
        event_url=event_url,
        auth_details=_webhook_auth_details(order_settings),
    )
    return client.notifications.test(event=event) or "OK"


def webhook_subscriptions(*, store: Store) -> tuple[list[Any], str]:
    """The seller's ORDER subscriptions on Walmart, and an error text instead when Walmart cannot be read."""
    try:
        return list(_walmart_client(store).notifications.subscriptions(resource_name="ORDER")), ""
    except Exception as error:  # shown on the settings page
        return [], f"Could not read the subscriptions from Walmart: {error_text(error)}"
