"""What a batch of Walmart purchase orders changes in our copy, computed without the database.

`orders_diff` takes Walmart's orders and what is stored (the orders and lines of the batch, the store's
listings by SKU, the failed pushes per order) and returns what to insert and update, the timeline
messages and the moves of the status-card counters. It reads nothing and writes nothing: the intake's
writer (`orders.services.intake`) does both, around it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from listings.models import Listing
from orders.mapping import (
    order_fields_from_remote,
    order_line_fields_from_remote,
    order_status_from_lines,
    order_totals_from_lines,
)
from orders.models import Order, OrderLine
from orders.services.common import LINE_FIELDS_FROM_WALMART, ORDER_COMPLETE_FIELDS
from walmart_client.models import WalmartOrder, WalmartOrderLine

LineFields = tuple[str, dict[str, Any]]  # (Walmart's line number, our line fields)


@dataclass(frozen=True)
class NewOrder:
    """A purchase order not stored yet: its order fields and its lines' fields."""

    purchase_order_id: str
    fields: dict[str, Any]
    lines: list[LineFields]


@dataclass
class OrdersDiff:
    """What a batch changes. Existing orders and lines come back with Walmart's values already set on them
    (the instances passed in); `changes` holds, per changed order, the messages for its timeline."""

    new: list[NewOrder] = field(default_factory=list)
    lines_to_create: list[OrderLine] = field(default_factory=list)
    lines_to_update: list[OrderLine] = field(default_factory=list)
    # Lines of a provisional order that Walmart's copy does not have (they came from its notification only).
    lines_to_delete: list[OrderLine] = field(default_factory=list)
    orders_to_update: list[Order] = field(default_factory=list)
    changes: list[tuple[Order, list[str]]] = field(default_factory=list)
    status_deltas: Counter[str] = field(default_factory=Counter)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def line_fields_with_listing(remote_line: WalmartOrderLine, listings: Mapping[str, Listing]) -> dict[str, Any]:
    """Our line fields for one Walmart line, linked to the store's listing of its SKU; a SKU the store does
    not list makes the line Error with the reason."""
    fields = order_line_fields_from_remote(remote_line)
    listing = listings.get(fields["sku"])
    fields["listing"] = listing
    fields["status_details"] = ""
    if listing is None:
        fields["status"] = OrderLine.Status.ERROR
        fields["status_details"] = (
            f"Line {remote_line.line_number}: Walmart SKU {fields['sku']} is not linked to a catalog product in this "
            "store (nothing reserved). Link this SKU and the order is processed again."
        )
    return fields


def line_change_messages(line: OrderLine, fields: Mapping[str, Any]) -> list[str]:
    """The timeline's words for what Walmart changed on a stored line (quantities per status, intent to cancel)."""
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


def acknowledged_on_walmart(lines: Sequence[Mapping[str, Any]]) -> bool:
    """Walmart's line statuses say the order was acknowledged: no unit is still Created, and some unit went
    past it (Acknowledged, Shipped, Delivered, Refund). A wholly cancelled order was never acknowledged."""
    if any(line["quantity_created"] for line in lines):
        return False
    past_created = ("quantity_acknowledged", "quantity_shipped", "quantity_delivered", "quantity_refunded")
    return any(line[name] for line in lines for name in past_created)


def _order_fields(
    remote: WalmartOrder, line_fields: Sequence[LineFields], *, failed_operations: Sequence[str], now: datetime
) -> dict[str, Any]:
    lines = [fields for _, fields in line_fields]
    fields = order_fields_from_remote(remote) | order_totals_from_lines(lines)
    fields["order_date"] = fields["order_date"] or now
    fields["intent_to_cancel"] = any(line["intent_to_cancel"] for line in lines)
    fields["status"], fields["status_details"] = order_status_from_lines(lines, failed_operations=failed_operations)
    return fields | ORDER_COMPLETE_FIELDS


def _existing_order_diff(
    diff: OrdersDiff,
    order: Order,
    fields: dict[str, Any],
    line_fields: Sequence[LineFields],
    existing_lines: Mapping[tuple[int, str], OrderLine],
    now: datetime,
) -> None:
    changes: list[str] = []
    lines_changed = False
    for line_number, fields_of_line in line_fields:
        line = existing_lines.get((order.pk, line_number))
        if line is None:
            diff.lines_to_create.append(OrderLine(order=order, line_number=line_number, **fields_of_line))
            changes.append(f"line {line_number} ({fields_of_line['sku']}) added")
            continue
        changes.extend(line_change_messages(line, fields_of_line))
        if any(getattr(line, name) != fields_of_line[name] for name in LINE_FIELDS_FROM_WALMART):
            for name in LINE_FIELDS_FROM_WALMART:
                setattr(line, name, fields_of_line[name])
            diff.lines_to_update.append(line)
            lines_changed = True
    order_changed = lines_changed or any(getattr(order, name) != value for name, value in fields.items())
    if order.acknowledged_at is None and acknowledged_on_walmart([fields_of_line for _, fields_of_line in line_fields]):
        order.acknowledged_at, order.acknowledging_since, order.acknowledge_maybe_applied = now, None, False
        order_changed = True
    if fields["status"] != order.status:
        changes.append(f"status {order.get_status_display()} -> {Order.Status(fields['status']).label}")
        diff.status_deltas[order.status] -= 1
        diff.status_deltas[fields["status"]] += 1
    if not (order_changed or changes):
        diff.unchanged.append(order.pk)
        return
    if order.provisional:
        # Stored from Walmart's notification: its values were never Walmart's full copy, so the differences are
        # not changes; the timeline stays what it would be had this read stored the order first.
        changes = []
    for name, value in fields.items():
        setattr(order, name, value)
    order.updated_at = now
    order.last_read_at = now
    diff.orders_to_update.append(order)
    diff.updated.append(order.pk)
    if changes:
        diff.changes.append((order, changes))


def orders_diff(
    *,
    remotes: Sequence[WalmartOrder],
    existing: Mapping[str, Order],
    existing_lines: Mapping[tuple[int, str], OrderLine],
    listings: Mapping[str, Listing],
    failed_operations: Mapping[int, list[str]],
    now: datetime,
) -> OrdersDiff:
    """Compare Walmart's orders (`remotes`, one per purchase order id) with the stored ones.

    `existing`: stored orders by purchase order id; `existing_lines`: their lines by (order pk, line
    number); `listings`: the store's listings by SKU; `failed_operations`: per order pk, the texts of its
    failed pushes (they keep an order in Error). Only what differs is set on the stored instances and
    listed to update; a new line of a stored order is listed to create; a line of a provisional order that
    Walmart's copy lacks (it was in the notification only) is listed to delete. A snapshot older than the stored
    order (its line status dates, `walmart_last_modified`) is left unapplied. An order whose lines Walmart shows
    past Created is recorded as acknowledged (`acknowledged_at`), however that came about. No database
    access.
    """
    diff = OrdersDiff()
    completed: set[int] = set()  # provisional orders this batch completes
    read_lines: set[tuple[int, str]] = set()
    for remote in remotes:
        line_fields = [(line.line_number, line_fields_with_listing(line, listings)) for line in remote.lines]
        order = existing.get(remote.purchase_order_id)
        if order is None:
            fields = _order_fields(remote, line_fields, failed_operations=[], now=now)
            if acknowledged_on_walmart([fields_of_line for _, fields_of_line in line_fields]):
                fields["acknowledged_at"] = now
            diff.new.append(NewOrder(purchase_order_id=remote.purchase_order_id, fields=fields, lines=line_fields))
            continue
        fields = _order_fields(remote, line_fields, failed_operations=failed_operations.get(order.pk, []), now=now)
        if snapshot_older(fields["walmart_last_modified"], order.walmart_last_modified):
            diff.unchanged.append(order.pk)
            continue
        if order.provisional:
            completed.add(order.pk)
            read_lines.update((order.pk, line_number) for line_number, _ in line_fields)
        _existing_order_diff(diff, order, fields, line_fields, existing_lines, now)
    diff.lines_to_delete = [
        line for key, line in existing_lines.items() if line.order_id in completed and key not in read_lines
    ]
    return diff


def snapshot_older(read: datetime | None, stored: datetime | None) -> bool:
    """Is Walmart's copy just read older than the one stored? A poll can carry a snapshot taken before a push
    whose answer was stored a moment ago (a line shipped, then the poll's older page says Created): applying it
    would undo the shipment here (and its stock) until the next read. Equal or unknown dates are applied."""
    return read is not None and stored is not None and read < stored
