"""Shipments and cancellations: the intent saved first, pushed after commit, read back before any resend."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from channel_manager.intents import pushes_sweep, request_maybe_applied_after
from channel_manager.polling import client_correlation_id
from channel_manager.walmart import RETRYABLE, error_text, walmart_client_for_store
from channel_manager.work import enqueue_on_commit
from orders.mapping import SHIP_DATE_MAX_DAYS_AHEAD, order_line_fields_from_remote, ship_date_error
from orders.models import (
    Cancellation,
    CancellationLine,
    CancellationReason,
    MethodCode,
    Order,
    OrderEvent,
    OrderLine,
    Shipment,
    ShipmentLine,
)
from orders.services.acknowledge import order_acknowledge
from orders.services.common import HOLDING_STATUSES, order_event_add, order_status_refresh
from orders.services.intake import order_upsert_from_walmart
from orders.services.provisional import order_complete_required
from walmart_client.models import CancelLine, ShipLine, WalmartOrder, WalmartOrderLine

Actor = OrderEvent.Actor


def _held_quantities(*, order: Order) -> dict[int, int]:
    """Units of each line held by shipments and cancellations not yet confirmed by Walmart."""
    held: dict[int, int] = defaultdict(int)
    for model, parent in ((ShipmentLine, "shipment"), (CancellationLine, "cancellation")):
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
    cannot ship the same units. A provisional order (awaiting Walmart's details) is refused the same way.
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
    ship_date_problem = ship_date_error(
        ship_date=ship_date,
        ordered_at=order.order_date,
        now=timezone.now(),
        days_ahead=getattr(settings, "ORDERS_SHIP_DATE_MAX_DAYS_AHEAD", SHIP_DATE_MAX_DAYS_AHEAD),
    )
    if ship_date_problem:
        errors["ship_date"].append(ship_date_problem)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        order_complete_required(order=order, action="shipped")
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
        _push_enqueue(shipment)
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
    line the customer did not ask to cancel, a quantity beyond what remains, or a provisional order (awaiting
    Walmart's details). Stock comes back when
    Walmart confirms the cancellation (see `orders_upsert_from_walmart`).
    """
    errors: dict[str, list[str]] = defaultdict(list)
    if reason not in CancellationReason.values:
        errors["reason"].append("Choose a cancellation reason.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        order_complete_required(order=order, action="cancelled")
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
        _push_enqueue(cancellation)
    return cancellation


def _push_enqueue(operation: Shipment | Cancellation) -> None:
    """Queue the operation's push once the transaction commits."""
    from orders.tasks import cancellation_push_task, shipment_push_task

    enqueue_on_commit(shipment_push_task if isinstance(operation, Shipment) else cancellation_push_task, operation.pk)


def _remote_line(remote: WalmartOrder, line_number: str) -> WalmartOrderLine | None:
    for remote_line in remote.lines:
        if str(remote_line.line_number) == str(line_number):
            return remote_line
    return None


def _already_applied(operation: Shipment | Cancellation, remote: WalmartOrder) -> dict[int, bool]:
    """For each line of a push whose last attempt may have reached Walmart: does Walmart's copy of the
    order already show it? A shipment is found by its tracking number on the line; failing that (and for
    cancellations), by Walmart's quantity covering this push plus every push of the line already sent."""
    applied: dict[int, bool] = {}
    for op_line in _operation_lines(operation):
        remote_line = _remote_line(remote, op_line.line.line_number)
        if remote_line is None:
            applied[op_line.pk] = False
            continue
        fields = order_line_fields_from_remote(remote_line)
        sent: QuerySet[ShipmentLine] | QuerySet[CancellationLine]
        if isinstance(operation, Shipment):
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


def _operation_lines(operation: Shipment | Cancellation) -> list[ShipmentLine | CancellationLine]:
    """The lines of a push, each with its order line."""
    return [op_line for op_line in operation.lines.select_related("line")]


def _ship_lines(shipment: Shipment, op_lines: Sequence[ShipmentLine | CancellationLine]) -> list[ShipLine]:
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


def _cancel_lines(cancellation: Cancellation, op_lines: Sequence[ShipmentLine | CancellationLine]) -> list[CancelLine]:
    return [
        CancelLine(line_number=op_line.line.line_number, quantity=op_line.quantity, reason=cancellation.reason)
        for op_line in op_lines
    ]


def _operation_push(operation: Shipment | Cancellation, *, attempt_id: str, final_attempt: bool, actor: str) -> None:
    """One claimed attempt: read Walmart back first when an earlier attempt may have applied it, mark it in
    flight (committed) just before the request, send what Walmart does not show yet, store the answer.
    Any failure outside Walmart's answers leaves it in flight: a database or Redis failure is re-raised for
    the task, which retries within seconds under the same attempt id (`retried_after_outage`); a killed
    process's row is re-driven by the sweep once its claim expires. Either way the read-back decides."""
    from walmart_client.errors import WalmartError

    model = type(operation)
    is_shipment = model is Shipment
    label = operation.label
    order = operation.order
    store = order.store
    client = walmart_client_for_store(store)
    op_lines = _operation_lines(operation)
    maybe_applied_before = operation.request_maybe_applied
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
            maybe_applied_before = False  # what Walmart applied is known now
        if is_shipment and order.acknowledged_at is None and any(line.line.quantity_created for line in op_lines):
            order_acknowledge(order_id=order.pk, actor=actor)
        if not model.push_in_flight(operation.pk, attempt_id=attempt_id):
            return  # the claim expired and another attempt owns the row now
        if isinstance(operation, Shipment):
            remote = client.orders.ship(
                order.purchase_order_id,
                lines=_ship_lines(operation, op_lines),
                seller_order_id=order.commerce_order_number[:30],
            )
        else:
            remote = client.orders.cancel(order.purchase_order_id, lines=_cancel_lines(operation, op_lines))
    except RETRYABLE as error:
        maybe_applied = request_maybe_applied_after(error, already=maybe_applied_before)
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
            maybe_applied=maybe_applied_before,
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


def shipment_push(
    *, shipment_id: int, final_attempt: bool = False, actor: str = Actor.SYSTEM, attempt_id: str | None = None
) -> Shipment:
    """Push one pending shipment to Walmart (POST /v3/orders/{id}/shipping).

    Safe to re-run: only a Pending shipment is pushed, under a claim so one worker sends it; a push whose
    earlier attempt may have reached Walmart reads the order back first and sends only the lines Walmart
    does not show. A 4xx marks it Error with Walmart's message; a retryable failure (rate limit, 5xx,
    connection) is recorded and re-raised for the task to retry, and on the final attempt marks Error.
    `attempt_id`: the task's own (see `PushIntent.push_claim`).
    """
    attempt_id = Shipment.push_claim(shipment_id, attempt_id=attempt_id)
    if attempt_id:
        shipment = Shipment.objects.select_related("order__store").get(pk=shipment_id)
        _operation_push(shipment, attempt_id=attempt_id, final_attempt=final_attempt, actor=actor)
    return Shipment.objects.get(pk=shipment_id)


def cancellation_push(
    *, cancellation_id: int, final_attempt: bool = False, actor: str = Actor.SYSTEM, attempt_id: str | None = None
) -> Cancellation:
    """Push one pending cancellation to Walmart (POST /v3/orders/{id}/cancel). Same contract as
    `shipment_push`. The cancelled stock comes back when Walmart's answer is stored."""
    attempt_id = Cancellation.push_claim(cancellation_id, attempt_id=attempt_id)
    if attempt_id:
        cancellation = Cancellation.objects.select_related("order__store").get(pk=cancellation_id)
        _operation_push(cancellation, attempt_id=attempt_id, final_attempt=final_attempt, actor=actor)
    return Cancellation.objects.get(pk=cancellation_id)


def operation_retry(*, operation: Shipment | Cancellation, actor: str, user=None) -> bool:
    """Send a failed push again (Retry button, admin action). Returns False when it is not in Error.
    An operation that may have reached Walmart is read back before anything is resent."""
    model = type(operation)
    with transaction.atomic():
        if not model.push_retry(operation.pk):
            return False
        order_event_add(order=operation.order, actor=actor, user=user, message=f"{operation.label}: retry requested.")
        order_status_refresh(order=operation.order)
        _push_enqueue(operation)
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
        order_event_add(order=operation.order, actor=actor, user=user, message=f"{operation.label}: discarded.")
        order_status_refresh(order=operation.order)
    return True


def shipments_sweep(now: datetime) -> int:
    """The shipment sweep (registered in OrdersConfig.ready): see `channel_manager.intents.pushes_sweep`."""
    from orders.tasks import shipment_push_task

    return pushes_sweep(Shipment, shipment_push_task, now=now)


def cancellations_sweep(now: datetime) -> int:
    """The cancellation sweep (registered in OrdersConfig.ready): see `channel_manager.intents.pushes_sweep`."""
    from orders.tasks import cancellation_push_task

    return pushes_sweep(Cancellation, cancellation_push_task, now=now)
