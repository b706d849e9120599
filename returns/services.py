"""Writes of the returns app: intake of Walmart's returns, refunds (intent, push, retry), and the pull-back
of refunds Walmart made on its own.

Rules that hold everywhere:
- A return is upserted on `(store, return_order_id)`; reading it again updates it.
- A refund is validated completely before anything is written: its quantity never exceeds what was
  returned minus what is refunded or being refunded, its money never exceeds what was charged for those
  units (pro rata per unit, tax included). A refused refund writes nothing, moves no stock, sends nothing.
- A refund is saved as an intent row (with its stock moves, in one transaction) and pushed by a task
  after commit. An ambiguous failure (a timeout after the request left, a 5xx) is resolved by reading the
  return (or the order) back from Walmart before anything is resent, so nothing is refunded twice.
- A refund Walmart made on its own (the auto-refund after the deadline, or one done in Seller Center) is
  seen by intake: the return becomes Refunded and pending refunds of those units are cancelled, never sent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from channel_manager import polling
from channel_manager.intents import request_maybe_applied_after
from channel_manager.models import Store
from channel_manager.polling import client_correlation_id, error_text
from returns.mapping import (
    ZERO,
    items_summary,
    money,
    raw_lines_by_number,
    refund_share,
    refund_split,
    return_fields_from_remote,
    return_line_fields_from_remote,
    walmart_refunded_quantity,
)
from returns.models import Refund, RefundLine, Return, ReturnEvent, ReturnLine, ReturnSettings, auto_refund_hours

logger = logging.getLogger(__name__)

Actor = ReturnEvent.Actor
PAGE_SIZE = 200
DEFAULT_REFUND_REASON = "Customer returned item"
HOLDING_STATUSES = (Refund.Status.PENDING, Refund.Status.ERROR)
LINE_FIELDS_FROM_WALMART = [
    "purchase_order_id",
    "purchase_order_line_number",
    "sku",
    "product_name",
    "quantity",
    "unit_price",
    "unit_tax",
    "item_price",
    "tax",
    "return_reason",
    "refund_channel",
    "is_return_for_exception",
    "exception_item_type",
]


def _walmart_client(store: Store):
    from channel_manager.walmart import walmart_client_for_store

    return walmart_client_for_store(store)


def _units(quantity: int) -> str:
    return f"{quantity} unit" if quantity == 1 else f"{quantity} units"


def return_settings_ensure(*, store: Store) -> ReturnSettings:
    """The store's returns settings, created with defaults the first time. Safe to re-run."""
    return_settings, _ = ReturnSettings.objects.get_or_create(store=store)
    return return_settings


def return_settings_update(*, store: Store, poll_interval_seconds: int, poll_overlap_seconds: int) -> ReturnSettings:
    """Change how often and how far back returns are read. Raises ValidationError for an interval under a
    minute or an overlap shorter than the interval's quarter (windows must overlap)."""
    errors = {}
    if poll_interval_seconds < 60:
        errors["poll_interval_seconds"] = "Read returns at most once a minute (60 seconds or more)."
    if poll_overlap_seconds < 60:
        errors["poll_overlap_seconds"] = "Windows must overlap by at least 60 seconds."
    if errors:
        raise ValidationError(errors)
    return_settings = return_settings_ensure(store=store)
    return_settings.poll_interval_seconds = poll_interval_seconds
    return_settings.poll_overlap_seconds = poll_overlap_seconds
    return_settings.save(update_fields=["poll_interval_seconds", "poll_overlap_seconds", "updated_at"])
    return return_settings


def return_event_add(
    *, return_order: Return, actor: str, message: str, user=None, correlation_id: str = ""
) -> ReturnEvent:
    return ReturnEvent.objects.create(
        return_order=return_order, actor=actor, user=user, message=message[:4000], correlation_id=correlation_id
    )


# --- intake ---------------------------------------------------------------------------------------------------


def _order_links(*, store: Store, remote: Any) -> tuple[Any, dict[tuple[str, str], Any]]:
    """The stored purchase order of a return (by the lines' purchase order id, else the customer order id)
    and its lines by (purchase order id, line number). None / {} while the order is not stored yet."""
    from orders.models import Order, OrderLine

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
    *, store: Store, remote: Any, actor: str = Actor.SCHEDULE, correlation_id: str = "", user=None
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
    text = ", ".join(f"{_units(units)} of {lines[number].sku}" for number, units in sorted(own.items()))
    return_event_add(
        return_order=return_order,
        actor=actor,
        message=(
            f"Walmart refunded {text} on its own"
            f"{' before the return reached us' if created else ' (auto-refund or Seller Center)'}."
        ),
    )


def return_status_refresh(*, return_order: Return) -> Return:
    """Recompute a return's status, details and totals from its lines and refunds. Safe to re-run.

    Error while a refund failed; Refunded once every returned unit is refunded; Received otherwise."""
    lines = list(ReturnLine.objects.filter(return_order=return_order).order_by("return_order_line_number"))
    refunds = list(Refund.objects.filter(return_order=return_order).order_by("id"))
    returned = sum(line.quantity for line in lines)
    refunded_units = sum(line.refunded_quantity for line in lines)
    walmart_units = sum(line.refunded_by_walmart_quantity for line in lines)
    refunded_total = sum((refund.total for refund in refunds if refund.status == Refund.Status.SENT), ZERO) + sum(
        (line.unit_total * line.refunded_by_walmart_quantity for line in lines), ZERO
    )
    failed = [refund for refund in refunds if refund.status == Refund.Status.ERROR]
    pending = [refund for refund in refunds if refund.status == Refund.Status.PENDING]
    if failed:
        status = Return.Status.ERROR
        details = "\n".join(f"Refund {refund.pk} failed: {refund.error}" for refund in failed)
    elif lines and refunded_units >= returned:
        status = Return.Status.REFUNDED
        details = (
            "Refunded by Walmart on its own (auto-refund)."
            if walmart_units >= returned
            else f"Refunded ({_units(walmart_units)} by Walmart on its own)."
            if walmart_units
            else "Refunded."
        )
    else:
        status = Return.Status.RECEIVED
        parts = []
        if pending:
            parts.append("Refund pending." if len(pending) == 1 else f"{len(pending)} refunds pending.")
        if refunded_units:
            parts.append(f"Partially refunded: {refunded_units} of {returned} units.")
        details = " ".join(parts)
    values = {
        "status": status,
        "status_details": details,
        "refunded_total": money(refunded_total),
        "charged_total": money(sum((line.charged_total for line in lines), ZERO)),
        "item_quantity": returned,
        "items_summary": items_summary([(line.sku, line.quantity) for line in lines]),
    }
    if any(getattr(return_order, name) != value for name, value in values.items()):
        Return.objects.filter(pk=return_order.pk).update(**values, updated_at=timezone.now())
        for name, value in values.items():
            setattr(return_order, name, value)
    return return_order


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
    client = _walmart_client(store)
    created = updated = 0
    with polling.poll_recorded(return_settings, window):
        for remote in client.returns.iter_all(return_last_modified_start_date=window_start, limit=PAGE_SIZE):
            _, was_created = return_upsert_from_walmart(
                store=store, remote=remote, actor=actor, correlation_id=client_correlation_id(client)
            )
            created += was_created
            updated += not was_created
    return PollResult(created=created, updated=updated, window_start=window_start)


def _return_read(client: Any, return_order_id: str) -> Any:
    """Walmart's current copy of one return. Raises WalmartNotFound when Walmart does not list it."""
    from walmart_client.errors import WalmartNotFound

    for remote in client.returns.iter_all(return_order_id=return_order_id, limit=10):
        if remote.return_order_id == return_order_id:
            return remote
    raise WalmartNotFound(f"Walmart does not list return {return_order_id}.", status=404)


def return_refresh(*, return_order: Return, actor: str, user=None) -> Return:
    """Re-read one return from Walmart and upsert it (admin action, operator button). Safe to re-run.
    Raises WalmartError."""
    client = _walmart_client(return_order.store)
    remote = _return_read(client, return_order.return_order_id)
    refreshed, _ = return_upsert_from_walmart(
        store=return_order.store, remote=remote, actor=actor, correlation_id=client_correlation_id(client), user=user
    )
    return refreshed


def stores_poll_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the stores whose returns read is due (returns sync on, their interval elapsed)."""
    return polling.stores_poll_due(
        enabled_field="returns_enabled", settings_relation="return_settings", default_interval_seconds=900, now=now
    )


# --- refunds ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundLineRequest:
    """One line of a refund as the operator asks for it. `amount` (item price + tax, positive) is only
    for items outside Walmart's returns program; None refunds what was charged for the quantity."""

    return_line_id: int
    quantity: int
    back_to_stock: bool = False
    amount: Decimal | None = None


def _held_quantities(return_order: Return) -> dict[int, int]:
    """Units of each return line in refunds that are pending or failed (a failed one can be retried)."""
    held: dict[int, int] = defaultdict(int)
    for line_id, quantity in RefundLine.objects.filter(
        refund__return_order=return_order, refund__status__in=HOLDING_STATUSES
    ).values_list("return_line_id", "quantity"):
        held[line_id] += quantity
    return held


def refund_available(*, return_order: Return) -> dict[int, int]:
    """{return line id: units that can still be refunded} (returned - refunded - in progress)."""
    held = _held_quantities(return_order)
    return {
        line.pk: max(0, line.quantity - line.refunded_quantity - held.get(line.pk, 0))
        for line in return_order.lines.all()
    }


def _product_for(line: ReturnLine):
    from listings.models import Product

    order_line = line.order_line
    listing = getattr(order_line, "listing", None) if order_line is not None else None
    if listing is not None:
        return listing.product
    return Product.objects.filter(sku=line.sku).first()


@dataclass
class _PlannedLine:
    line: ReturnLine
    quantity: int
    amount: Decimal
    tax: Decimal
    back_to_stock: bool
    channel: str
    product: Any = None


def _refund_plan(*, return_order: Return, requests: Sequence[RefundLineRequest], reason: str) -> list[_PlannedLine]:
    """Validate a refund completely. Raises ValidationError with one message per problem; reads only."""
    from walmart_client.enums import REFUND_REASONS

    lines = {line.pk: line for line in return_order.lines.select_related("order_line__listing__product")}
    held = _held_quantities(return_order)
    errors: list[str] = []
    planned: list[_PlannedLine] = []
    seen: set[int] = set()
    for request in requests:
        line = lines.get(request.return_line_id)
        if line is None:
            errors.append(f"Line {request.return_line_id} is not a line of return {return_order.return_order_id}.")
            continue
        if line.pk in seen:
            errors.append(f"Line {line.return_order_line_number} ({line.sku}) is listed twice.")
            continue
        seen.add(line.pk)
        label = f"Line {line.return_order_line_number} ({line.sku})"
        quantity = request.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            errors.append(f"{label}: the quantity must be a whole number of 0 or more.")
            continue
        if quantity == 0:
            continue
        in_progress = held.get(line.pk, 0)
        available = line.quantity - line.refunded_quantity - in_progress
        if quantity > available:
            errors.append(
                f"{label}: cannot refund {quantity}; only {max(available, 0)} of the {line.quantity} returned "
                f"units can still be refunded ({line.refunded_quantity} refunded, {in_progress} in progress)."
            )
            continue
        charged_amount, charged_tax = refund_share(
            unit_price=line.unit_price, unit_tax=line.unit_tax, quantity=quantity
        )
        charged = charged_amount + charged_tax
        channel = Refund.Channel.ORDER_REFUND if line.is_return_for_exception else Refund.Channel.RETURN_REFUND
        amount, tax = charged_amount, charged_tax
        if request.amount is not None:
            wanted = request.amount
            if not isinstance(wanted, Decimal) or not wanted.is_finite() or wanted != wanted.quantize(Decimal("0.01")):
                errors.append(f"{label}: the amount must be a number with at most two decimals.")
                continue
            if wanted <= 0:
                errors.append(f"{label}: the amount must be more than 0.")
                continue
            if wanted > charged:
                errors.append(
                    f"{label}: {wanted} is more than was paid for {_units(quantity)} ({charged} = item price "
                    f"{charged_amount} + tax {charged_tax}); a refund can never exceed what was charged."
                )
                continue
            if wanted != charged:
                if channel == Refund.Channel.RETURN_REFUND:
                    errors.append(
                        f"{label}: Walmart's return refund pays back what was charged per unit ({charged} for "
                        f"{_units(quantity)}); a different amount is only possible for items outside Walmart's "
                        "returns program."
                    )
                    continue
                amount, tax = refund_split(total=wanted, charged_amount=charged_amount, charged_tax=charged_tax)
        if channel == Refund.Channel.ORDER_REFUND and not (line.purchase_order_id and line.purchase_order_line_number):
            errors.append(
                f"{label}: Walmart did not say which order line it is, so it cannot be refunded as an order refund."
            )
            continue
        if channel == Refund.Channel.ORDER_REFUND and amount <= 0:
            errors.append(f"{label}: Walmart's order refund needs an item price amount above 0.")
            continue
        product = None
        if request.back_to_stock:
            product = _product_for(line)
            if product is None:
                errors.append(f"{label}: SKU {line.sku} is not in the catalog, so it cannot go back to stock.")
                continue
            if quantity > line.quantity - line.restocked_quantity:
                errors.append(
                    f"{label}: only {line.quantity - line.restocked_quantity} of the {line.quantity} returned units "
                    f"are not back in stock yet; {quantity} asked."
                )
                continue
        planned.append(
            _PlannedLine(
                line=line,
                quantity=quantity,
                amount=amount,
                tax=tax,
                back_to_stock=bool(request.back_to_stock),
                channel=channel,
                product=product,
            )
        )
    if any(item.channel == Refund.Channel.ORDER_REFUND for item in planned) and reason not in REFUND_REASONS:
        errors.append(f"The refund reason {reason!r} is not one of Walmart's.")
    if not errors and not planned:
        errors.append("Choose at least one line and a quantity to refund.")
    if errors:
        raise ValidationError(errors)
    return planned


def refund_create(
    *,
    return_order: Return,
    lines: Sequence[RefundLineRequest],
    user=None,
    actor: str = Actor.OPERATOR,
    reason: str = DEFAULT_REFUND_REASON,
) -> list[Refund]:
    """Save a refund of some return lines as intent rows, put the chosen units back in stock, and push the
    refunds to Walmart after commit.

    Lines of Walmart's returns program go in one return refund (POST /v3/returns/{id}/refund, quantities
    only: Walmart pays what was charged); items outside it (HAZMAT, OTHER, FREIGHT) in one order refund per
    purchase order (POST /v3/orders/{po}/refund, with amounts). Raises ValidationError (a clear message
    per line) for more units than can be refunded, an amount above what was charged, an unknown line, an
    unknown SKU to restock, or nothing chosen; then nothing is written, no stock moves, nothing is sent.
    Not idempotent: each call is a new refund (the quantity check refuses a repeat of a full refund)."""
    from inventory.models import StockMovement
    from inventory.services import stock_move

    stock_actor = user.get_username() if user is not None else str(actor)
    with transaction.atomic():
        locked = Return.objects.select_for_update().get(pk=return_order.pk)
        planned = _refund_plan(return_order=locked, requests=lines, reason=reason)
        groups: dict[tuple[str, str], list[_PlannedLine]] = defaultdict(list)
        for item in planned:
            po = item.line.purchase_order_id if item.channel == Refund.Channel.ORDER_REFUND else ""
            groups[(item.channel, po)].append(item)
        refunds = []
        for (channel, po), items in groups.items():
            refund = Refund.objects.create(
                return_order=locked,
                channel=channel,
                purchase_order_id=po,
                reason=reason,
                amount=sum((item.amount for item in items), ZERO),
                tax=sum((item.tax for item in items), ZERO),
                created_by=user,
                next_attempt_at=timezone.now(),
            )
            RefundLine.objects.bulk_create(
                [
                    RefundLine(
                        refund=refund,
                        return_line=item.line,
                        quantity=item.quantity,
                        amount=item.amount,
                        tax=item.tax,
                        back_to_stock=item.back_to_stock,
                    )
                    for item in items
                ]
            )
            refunds.append(refund)
            described = ", ".join(f"{item.line.sku} x {item.quantity}" for item in items)
            return_event_add(
                return_order=locked,
                actor=actor,
                user=user,
                message=f"Refund {refund.pk} ({refund.get_channel_display().lower()}) of {described}: "
                f"{refund.total} {locked.currency} saved; sending to Walmart.",
            )
        for item in planned:
            if not item.back_to_stock:
                continue
            stock_move(
                product=item.product,
                delta=item.quantity,
                reason=StockMovement.Reason.RETURN_TO_STOCK,
                actor=stock_actor,
                reference=f"RMA {locked.return_order_id} line {item.line.return_order_line_number}",
            )
            ReturnLine.objects.filter(pk=item.line.pk).update(
                restocked_quantity=F("restocked_quantity") + item.quantity
            )
            return_event_add(
                return_order=locked,
                actor=actor,
                user=user,
                message=f"{_units(item.quantity)} of {item.line.sku} returned to stock.",
            )
        return_status_refresh(return_order=locked)
        for refund in refunds:
            _push_enqueue(refund.pk)
    return refunds


def return_restock(
    *, return_order: Return, quantities: Mapping[int, int], user=None, actor: str = Actor.OPERATOR
) -> int:
    """Put returned units back in stock without a refund (units Walmart refunded itself, for example).
    `quantities` is {return line id: units}. Never more units of a line than were returned and are not
    back in stock yet. Raises ValidationError (then nothing moves). Returns the units moved."""
    from inventory.models import StockMovement
    from inventory.services import stock_move

    with transaction.atomic():
        locked = Return.objects.select_for_update().get(pk=return_order.pk)
        lines = {line.pk: line for line in locked.lines.select_related("order_line__listing__product")}
        errors: list[str] = []
        planned = []
        for line_id, quantity in quantities.items():
            line = lines.get(line_id)
            if line is None:
                errors.append(f"Line {line_id} is not a line of return {locked.return_order_id}.")
                continue
            label = f"Line {line.return_order_line_number} ({line.sku})"
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                errors.append(f"{label}: the quantity must be a whole number of 0 or more.")
                continue
            if not quantity:
                continue
            left = line.quantity - line.restocked_quantity
            if quantity > left:
                errors.append(
                    f"{label}: only {left} of the {line.quantity} returned units are not back in stock yet; "
                    f"{quantity} asked."
                )
                continue
            product = _product_for(line)
            if product is None:
                errors.append(f"{label}: SKU {line.sku} is not in the catalog, so it cannot go back to stock.")
                continue
            planned.append((line, quantity, product))
        if not errors and not planned:
            errors.append("Choose at least one line and a quantity to return to stock.")
        if errors:
            raise ValidationError(errors)
        stock_actor = user.get_username() if user is not None else str(actor)
        for line, quantity, product in planned:
            stock_move(
                product=product,
                delta=quantity,
                reason=StockMovement.Reason.RETURN_TO_STOCK,
                actor=stock_actor,
                reference=f"RMA {locked.return_order_id} line {line.return_order_line_number}",
            )
            ReturnLine.objects.filter(pk=line.pk).update(restocked_quantity=F("restocked_quantity") + quantity)
            return_event_add(
                return_order=locked,
                actor=actor,
                user=user,
                message=f"{_units(quantity)} of {line.sku} returned to stock (no refund).",
            )
    return sum(quantity for _, quantity, _ in planned)


def _push_enqueue(refund_id: int) -> None:
    from returns.tasks import refund_push_task

    transaction.on_commit(lambda: refund_push_task.delay(refund_id))


def _order_refunded_product(remote_line: Any) -> Decimal:
    """Item price Walmart shows refunded on an order line (positive)."""
    refund = getattr(remote_line, "refund", None)
    if refund is None:
        return ZERO
    return sum((-charge.charge.amount for charge in refund.charges if charge.charge.charge_type == "PRODUCT"), ZERO)


def _order_refund_applied(refund: Refund, refund_lines: Sequence[RefundLine], remote: Any) -> bool:
    """Does Walmart's copy of the order show this order refund? Yes when, on every line, the item price
    Walmart shows refunded covers every refund we already had accepted on it plus this one."""
    for ref_line in refund_lines:
        return_line = ref_line.return_line
        remote_line = next(
            (line for line in remote.lines if str(line.line_number) == return_line.purchase_order_line_number), None
        )
        if remote_line is None:
            return False
        accepted = sum(
            (
                row.amount
                for row in RefundLine.objects.filter(
                    return_line__purchase_order_id=return_line.purchase_order_id,
                    return_line__purchase_order_line_number=return_line.purchase_order_line_number,
                    return_line__return_order__store_id=refund.return_order.store_id,
                    refund__status=Refund.Status.SENT,
                ).exclude(refund=refund)
            ),
            ZERO,
        )
        if _order_refunded_product(remote_line) < accepted + ref_line.amount:
            return False
    return True


def _refund_push(refund: Refund, *, final_attempt: bool, actor: str) -> None:
    from walmart_client.errors import (
        WalmartBadRequest,
        WalmartConnectionError,
        WalmartError,
        WalmartRateLimited,
        WalmartServerError,
    )
    from walmart_client.models import RefundLine as WalmartRefundLine
    from walmart_client.models import ReturnRefundLine

    return_order = refund.return_order
    store = return_order.store
    client = _walmart_client(store)
    refund_lines = list(refund.lines.select_related("return_line").order_by("return_line__return_order_line_number"))
    is_return_refund = refund.channel == Refund.Channel.RETURN_REFUND
    try:
        if refund.request_maybe_applied:
            if is_return_refund:
                # Intake's reconciliation marks this refund Sent when Walmart shows its units refunded.
                return_upsert_from_walmart(
                    store=store,
                    remote=_return_read(client, return_order.return_order_id),
                    actor=actor,
                    correlation_id=client_correlation_id(client),
                )
                refund.refresh_from_db()
                if refund.status != Refund.Status.PENDING:
                    return
            elif _order_refund_applied(refund, refund_lines, client.orders.get(refund.purchase_order_id)):
                _refund_sent(
                    refund,
                    refund_lines,
                    actor=actor,
                    correlation_id=client_correlation_id(client),
                    message=f"Refund {refund.pk}: Walmart already shows it (the earlier answer was lost); "
                    "not sent again.",
                )
                return
        if is_return_refund:
            client.returns.refund(
                return_order.return_order_id,
                customer_order_id=return_order.customer_order_id,
                lines=[
                    ReturnRefundLine(
                        return_order_line_number=ref_line.return_line.return_order_line_number,
                        quantity=ref_line.quantity,
                    )
                    for ref_line in refund_lines
                ],
            )
        else:
            client.orders.refund(
                refund.purchase_order_id,
                lines=[
                    WalmartRefundLine(
                        line_number=ref_line.return_line.purchase_order_line_number,
                        amount=-ref_line.amount,
                        tax=-ref_line.tax,
                        reason=refund.reason,
                        quantity=ref_line.quantity,
                        currency=return_order.currency or "USD",
                        comments=f"Return {return_order.return_order_id}",
                    )
                    for ref_line in refund_lines
                ],
            )
    except (WalmartConnectionError, WalmartServerError, WalmartRateLimited) as error:
        maybe_applied = request_maybe_applied_after(error, already=refund.request_maybe_applied)
        _refund_failed(refund, error=error, maybe_applied=maybe_applied, final=final_attempt, actor=actor)
        if not final_attempt:
            raise
        return
    except (WalmartError, ValueError) as error:
        if is_return_refund and isinstance(error, WalmartBadRequest) and _refunded_meanwhile(refund, client, actor):
            return
        _refund_failed(refund, error=error, maybe_applied=refund.request_maybe_applied, final=True, actor=actor)
        return
    _refund_sent(
        refund,
        refund_lines,
        actor=actor,
        correlation_id=client_correlation_id(client),
        message=f"Refund {refund.pk} of {refund.total} {return_order.currency} sent to Walmart.",
    )


def _refunded_meanwhile(refund: Refund, client: Any, actor: str) -> bool:
    """Walmart refused a return refund: was it because Walmart refunded those units itself in the meantime
    (auto-refund)? Reads the return back; intake's reconciliation then cancels the refund. True when it did."""
    from walmart_client.errors import WalmartError

    return_order = refund.return_order
    try:
        remote = _return_read(client, return_order.return_order_id)
    except WalmartError:
        return False
    return_upsert_from_walmart(
        store=return_order.store, remote=remote, actor=actor, correlation_id=client_correlation_id(client)
    )
    refund.refresh_from_db()
    return refund.status != Refund.Status.PENDING


def _refund_sent(
    refund: Refund, refund_lines: Sequence[RefundLine], *, actor: str, correlation_id: str, message: str
) -> None:
    with transaction.atomic():
        if not Refund.push_sent(refund.pk, correlation_id=correlation_id, only_pending=True):
            return
        for ref_line in refund_lines:
            ReturnLine.objects.filter(pk=ref_line.return_line_id).update(
                refunded_quantity=Least(F("refunded_quantity") + ref_line.quantity, F("quantity"))
            )
        return_event_add(return_order=refund.return_order, actor=actor, message=message, correlation_id=correlation_id)
        return_status_refresh(return_order=Return.objects.get(pk=refund.return_order_id))


def _refund_failed(refund: Refund, *, error: Exception, maybe_applied: bool, final: bool, actor: str) -> None:
    attempts = refund.attempts + 1
    text = error_text(error)
    correlation_id = (getattr(error, "correlation_id", "") or "")[:64]
    with transaction.atomic():
        Refund.push_attempt_failed(
            refund.pk,
            attempts=attempts,
            error_text=text,
            correlation_id=correlation_id,
            maybe_applied=maybe_applied,
            final=final,
            retry_after=getattr(error, "retry_after", None),
        )
        return_event_add(
            return_order=refund.return_order,
            actor=actor,
            correlation_id=correlation_id,
            message=(
                f"Refund {refund.pk} failed: {text}"
                if final
                else f"Refund {refund.pk}: attempt {attempts} failed ({text}); will retry."
            ),
        )
        if final:
            return_status_refresh(return_order=Return.objects.get(pk=refund.return_order_id))


def refund_push(*, refund_id: int, final_attempt: bool = False, actor: str = Actor.SYSTEM) -> Refund:
    """Push one pending refund to Walmart.

    Safe to re-run: only a Pending refund is pushed, under a claim so one worker sends it. A refund whose
    earlier attempt may have reached Walmart (timeout after sending, 5xx) reads the return (or the order)
    back first and is marked Sent without a resend when Walmart shows it. A 4xx marks it Error with
    Walmart's message; a retryable failure (rate limit, 5xx, connection) is recorded and re-raised for the
    task to retry with backoff, and marks Error on the final attempt."""
    if Refund.push_claim(refund_id):
        refund = Refund.objects.select_related("return_order__store").get(pk=refund_id)
        _refund_push(refund, final_attempt=final_attempt, actor=actor)
    return Refund.objects.get(pk=refund_id)


def refund_retry(*, refund: Refund, actor: str, user=None) -> bool:
    """Send a failed refund again (Retry button, admin action). Returns False when it is not in Error.
    A refund that may have reached Walmart is read back before anything is resent."""
    with transaction.atomic():
        if not Refund.push_retry(refund.pk):
            return False
        return_event_add(
            return_order=refund.return_order, actor=actor, user=user, message=f"Refund {refund.pk}: retry requested."
        )
        return_status_refresh(return_order=Return.objects.get(pk=refund.return_order_id))
        _push_enqueue(refund.pk)
    return True


def refunds_due_enqueue(*, now: datetime | None = None) -> int:
    """Re-enqueue pending refunds whose task was lost (due for over a minute, not claimed). Safe to re-run:
    the push claims its row first. Returns how many."""
    from returns.tasks import refund_push_task

    now = now or timezone.now()
    due = Refund.pushes_lost(now=now).values_list("pk", flat=True)
    count = 0
    for pk in due[:500]:
        refund_push_task.delay(pk)
        count += 1
    return count
