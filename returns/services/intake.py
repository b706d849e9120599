"""Intake of Walmart's returns: the poll, one return read again, and the upsert keyed on
(store, return_order_id), which also sees the refunds Walmart made on its own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from channel_manager import polling
from channel_manager.models import Store
from channel_manager.polling import client_correlation_id
from channel_manager.walmart import walmart_client_for_store
from orders.models import Order, OrderLine
from returns.mapping import (
    items_summary,
    raw_lines_by_number,
    return_fields_from_remote,
    return_line_fields_from_remote,
    walmart_refunded_quantity,
)
from returns.models import Refund, Return, ReturnEvent, ReturnLine, auto_refund_hours
from returns.services.common import (
    HOLDING_STATUSES,
    LINE_FIELDS_FROM_WALMART,
    return_event_add,
    return_settings_ensure,
    return_status_refresh,
    units_text,
)
from walmart_client import WalmartClient
from walmart_client.models import WalmartReturn

Actor = ReturnEvent.Actor
PAGE_SIZE = 200


def _order_links(*, store: Store, remote: WalmartReturn) -> tuple[Order | None, dict[tuple[str, str], OrderLine]]:
    """The stored purchase order of a return (by the lines' purchase order id, else the customer order id)
    and its lines by (purchase order id, line number). None / {} while the order is not stored yet."""
    purchase_order_ids = {line.purchase_order_id for line in remote.lines if line.purchase_order_id}
    orders = list(
        Order.objects.filter(store=store, purchase_order_id__in=purchase_order_ids).only("id", "purchase_order_id")
    )
    if not orders and remote.customer_order_id:
        orders = list(
            Order.objects.filter(store=store, customer_order_id=remote.customer_order_id).only(
                "id", "purchase_order_id"
            )
        )
    if not orders:
        return None, {}
    by_id = {order.pk: order for order in orders}
    lines = {
        (by_id[line.order_id].purchase_order_id, line.line_number): line
        for line in OrderLine.objects.filter(order_id__in=by_id).only(
            "id", "order_id", "line_number", "quantity", "product_amount", "tax_amount"
        )
    }
    first_po = next((line.purchase_order_id for line in remote.lines if line.purchase_order_id), None)
    order = next((o for o in orders if o.purchase_order_id == first_po), orders[0])
    return order, lines


def return_upsert_from_walmart(
    *, store: Store, remote: WalmartReturn, actor: str = Actor.SCHEDULE, correlation_id: str = "", user=None
) -> tuple[Return, bool]:
    """Insert or update one Walmart return with its lines, linked to its order and order lines when they
    are stored. Safe to re-run: keyed on (store, return_order_id) and (return, return line number).

    Units Walmart refunded that we never sent (its auto-refund, Seller Center) are recorded as refunded by
    Walmart, and pending or failed refunds that can no longer be applied are cancelled (see
    `_refunds_reconcile`). A line's refunded quantity never goes down."""
    raw_lines = raw_lines_by_number(remote.raw or {})
    order, order_lines = _order_links(store=store, remote=remote)
    fields = return_fields_from_remote(remote, auto_refund_hours=auto_refund_hours())
    now = timezone.now()
    with transaction.atomic():
        return_order, created = Return.objects.update_or_create(
            store=store,
            return_order_id=remote.return_order_id,
            defaults={**fields, "order": order, "last_read_at": now, "raw": remote.raw or {}},
        )
        existing = {
            line.return_order_line_number: line
            for line in ReturnLine.objects.select_for_update().filter(return_order=return_order)
        }
        walmart_refunds: dict[int, int] = {}
        to_create, to_update = [], []
        for remote_line in remote.lines:
            number = int(remote_line.return_order_line_number)
            order_line = order_lines.get(
                (remote_line.purchase_order_id or "", str(remote_line.purchase_order_line_number))
            )
            order_values = (
                {
                    "quantity": order_line.quantity,
                    "product_amount": order_line.product_amount,
                    "tax_amount": order_line.tax_amount,
                }
                if order_line is not None
                else None
            )
            line_fields = return_line_fields_from_remote(
                remote_line, raw_lines.get(number, {}), order_line=order_values
            )
            walmart_refunded = walmart_refunded_quantity(remote_line)
            line = existing.get(number)
            if line is None:
                line = ReturnLine(return_order=return_order, return_order_line_number=number, **line_fields)
                to_create.append(line)
            else:
                for name, value in line_fields.items():
                    setattr(line, name, value)
                to_update.append(line)
            line.order_line = order_line
            line.refunded_quantity = min(line.refunded_quantity, line.quantity)
            line.refunded_by_walmart_quantity = min(line.refunded_by_walmart_quantity, line.quantity)
            if walmart_refunded > line.refunded_quantity:
                walmart_refunds[number] = walmart_refunded - line.refunded_quantity
                line.refunded_quantity = walmart_refunded
        ReturnLine.objects.bulk_create(to_create)
        if to_update:
            ReturnLine.objects.bulk_update(
                to_update,
                [*LINE_FIELDS_FROM_WALMART, "order_line", "refunded_quantity", "refunded_by_walmart_quantity"],
            )
        lines = {line.return_order_line_number: line for line in [*to_create, *to_update]}
        if created:
            return_event_add(
                return_order=return_order,
                actor=actor,
                user=user,
                correlation_id=correlation_id,
                message=f"Return {remote.return_order_id} received from Walmart: {_items_text(lines.values())}.",
            )
        if walmart_refunds:
            _refunds_reconcile(
                return_order=return_order, lines=lines, walmart_refunds=walmart_refunds, actor=actor, created=created
            )
        return_status_refresh(return_order=return_order)
    return_order.refresh_from_db()
    return return_order, created


def _items_text(lines: Iterable[ReturnLine]) -> str:
    return items_summary([(line.sku, line.quantity) for line in lines]) or "no lines"


def _refunds_reconcile(
    *, return_order: Return, lines: dict[int, ReturnLine], walmart_refunds: dict[int, int], actor: str, created: bool
) -> None:
    """Walmart shows more units refunded than we knew. A pending/failed refund whose last attempt may have
    reached Walmart and whose units are all covered is marked Sent (it was ours); any other pending/failed
    refund that asks for more units than are still unrefunded is cancelled. The rest of the surplus is
    Walmart's own refund (auto-refund, Seller Center)."""
    surplus = dict(walmart_refunds)
    by_pk = {line.pk: line for line in lines.values()}
    remaining = {line.pk: line.quantity - line.refunded_quantity for line in lines.values()}
    refunds = (
        Refund.objects.select_for_update()
        .filter(return_order=return_order, status__in=HOLDING_STATUSES)
        .prefetch_related("lines")
        .order_by("created_at", "id")
    )
    now = timezone.now()
    for refund in refunds:
        refund_lines = [ref_line for ref_line in refund.lines.all() if ref_line.return_line_id in by_pk]
        numbers = {ref_line.pk: by_pk[ref_line.return_line_id].return_order_line_number for ref_line in refund_lines}
        if refund.request_maybe_applied and all(
            surplus.get(numbers[ref_line.pk], 0) >= ref_line.quantity for ref_line in refund_lines
        ):
            for ref_line in refund_lines:
                surplus[numbers[ref_line.pk]] -= ref_line.quantity
            Refund.objects.filter(pk=refund.pk).update(
                status=Refund.Status.SENT,
                sent_at=now,
                error="",
                request_maybe_applied=False,
                claimed_until=None,
                next_attempt_at=None,
            )
            return_event_add(
                return_order=return_order,
                actor=actor,
                message=f"Refund {refund.pk}: Walmart shows it applied (the earlier answer was lost); not sent again.",
            )
            continue
        blocked = [ref_line for ref_line in refund_lines if ref_line.quantity > remaining[ref_line.return_line_id]]
        if not blocked:
            for ref_line in refund_lines:
                remaining[ref_line.return_line_id] -= ref_line.quantity
            continue
        detail = ", ".join(
            f"{by_pk[ref_line.return_line_id].sku} (line {numbers[ref_line.pk]})" for ref_line in blocked
        )
        Refund.objects.filter(pk=refund.pk).update(
            status=Refund.Status.CANCELLED,
            error=f"Walmart already refunded {detail} on its own; this refund was not sent.",
            claimed_until=None,
            next_attempt_at=None,
        )
        return_event_add(
            return_order=return_order,
            actor=actor,
            message=f"Refund {refund.pk} cancelled: Walmart already refunded {detail} on its own.",
        )
    own = {number: units for number, units in surplus.items() if units > 0}
    if not own:
        return
    for number, units in own.items():
        ReturnLine.objects.filter(pk=lines[number].pk).update(
            refunded_by_walmart_quantity=Least(F("refunded_by_walmart_quantity") + units, F("quantity"))
        )
    Return.objects.filter(pk=return_order.pk).update(refunded_by_walmart=True)
    text = ", ".join(f"{units_text(units)} of {lines[number].sku}" for number, units in sorted(own.items()))
    return_event_add(
        return_order=return_order,
        actor=actor,
        message=(
            f"Walmart refunded {text} on its own"
            f"{' before the return reached us' if created else ' (auto-refund or Seller Center)'}."
        ),
    )


@dataclass(frozen=True)
class PollResult:
    created: int
    updated: int
    window_start: datetime


def returns_poll(*, store: Store, actor: str = Actor.SCHEDULE) -> PollResult:
    """Read the returns Walmart changed since the watermark minus the overlap, and upsert each.

    Safe to re-run: upserts are idempotent, and the watermark moves to the read's start only once every
    return is stored, so a failed read is redone from the same point. Raises the client's WalmartError
    (the error is recorded on the settings, the watermark untouched).
    See https://developer.walmart.com/us-marketplace/reference/getreturns."""
    return_settings = return_settings_ensure(store=store)
    window = polling.poll_start(
        return_settings, initial_lookback=timedelta(days=getattr(settings, "RETURNS_INITIAL_LOOKBACK_DAYS", 30))
    )
    window_start = window.window_start
    client = walmart_client_for_store(store)
    created = updated = 0
    with polling.poll_recorded(return_settings, window):
        for remote in client.returns.iter_all(return_last_modified_start_date=window_start, limit=PAGE_SIZE):
            _, was_created = return_upsert_from_walmart(
                store=store, remote=remote, actor=actor, correlation_id=client_correlation_id(client)
            )
            created += was_created
            updated += not was_created
    return PollResult(created=created, updated=updated, window_start=window_start)


def return_read(client: WalmartClient, return_order_id: str) -> WalmartReturn:
    """Walmart's current copy of one return. Raises WalmartNotFound when Walmart does not list it."""
    from walmart_client.errors import WalmartNotFound

    for remote in client.returns.iter_all(return_order_id=return_order_id, limit=10):
        if remote.return_order_id == return_order_id:
            return remote
    raise WalmartNotFound(f"Walmart does not list return {return_order_id}.", status=404)


def return_refresh(*, return_order: Return, actor: str, user=None) -> Return:
    """Re-read one return from Walmart and upsert it (admin action, operator button). Safe to re-run.
    Raises WalmartError."""
    client = walmart_client_for_store(return_order.store)
    remote = return_read(client, return_order.return_order_id)
    refreshed, _ = return_upsert_from_walmart(
        store=return_order.store, remote=remote, actor=actor, correlation_id=client_correlation_id(client), user=user
    )
    return refreshed


def stores_poll_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the stores whose returns read is due (returns sync on, their interval elapsed)."""
    return polling.stores_poll_due(
        enabled_field="returns_enabled", settings_relation="return_settings", default_interval_seconds=900, now=now
    )
