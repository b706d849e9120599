"""Refunds: validated completely, saved as an intent row with their stock moves, pushed after commit, and
read back from Walmart before any resend; restock without refund."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from channel_manager.intents import pushes_sweep, request_maybe_applied_after
from channel_manager.polling import client_correlation_id
from channel_manager.walmart import RETRYABLE, error_text, walmart_client_for_store
from channel_manager.work import enqueue_on_commit
from returns.mapping import (
    ZERO,
    refund_share,
    refund_split,
)
from returns.models import Refund, RefundLine, Return, ReturnEvent, ReturnLine
from returns.services.common import HOLDING_STATUSES, return_event_add, return_status_refresh, units_text
from returns.services.intake import return_read, return_upsert_from_walmart
from walmart_client import WalmartClient
from walmart_client.models import WalmartOrder, WalmartOrderLine

Actor = ReturnEvent.Actor
DEFAULT_REFUND_REASON = "Customer returned item"


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
    """The catalog product of a return line: its order line's listing, else the store's listing with the
    line's Walmart SKU, else the product with that SKU unless it is listed in the store under another
    Walmart SKU. None when there is none."""
    from listings.models import Listing, Product

    order_line = line.order_line
    listing = getattr(order_line, "listing", None) if order_line is not None else None
    if listing is not None:
        return listing.product
    store_id = line.return_order.store_id
    listing = Listing.objects.filter(store_id=store_id, walmart_sku=line.sku).select_related("product").first()
    if listing is not None:
        return listing.product
    return Product.objects.filter(sku=line.sku).exclude(listings__store_id=store_id).first()


@dataclass
class _PlannedLine:
    line: ReturnLine
    quantity: int
    amount: Decimal
    tax: Decimal
    back_to_stock: bool
    channel: str
    product: Any = None


class _LineRefused(Exception):
    """One requested line cannot be refunded as asked (the message says why, without the line's label)."""


def _refund_amounts(
    line: ReturnLine, request: RefundLineRequest, *, quantity: int, channel: str
) -> tuple[Decimal, Decimal]:
    """(item price, tax) to refund: what was charged for `quantity`, or the operator's `request.amount` split
    the same way (only for an order refund: Walmart's return refund pays back exactly what was charged)."""
    charged_amount, charged_tax = refund_share(unit_price=line.unit_price, unit_tax=line.unit_tax, quantity=quantity)
    charged = charged_amount + charged_tax
    if request.amount is None:
        return charged_amount, charged_tax
    wanted = request.amount
    if not isinstance(wanted, Decimal) or not wanted.is_finite() or wanted != wanted.quantize(Decimal("0.01")):
        raise _LineRefused("the amount must be a number with at most two decimals.")
    if wanted <= 0:
        raise _LineRefused("the amount must be more than 0.")
    if wanted > charged:
        raise _LineRefused(
            f"{wanted} is more than was paid for {units_text(quantity)} ({charged} = item price "
            f"{charged_amount} + tax {charged_tax}); a refund can never exceed what was charged."
        )
    if wanted == charged:
        return charged_amount, charged_tax
    if channel == Refund.Channel.RETURN_REFUND:
        raise _LineRefused(
            f"Walmart's return refund pays back what was charged per unit ({charged} for "
            f"{units_text(quantity)}); a different amount is only possible for items outside Walmart's "
            "returns program."
        )
    return refund_split(total=wanted, charged_amount=charged_amount, charged_tax=charged_tax)


def _refund_line_plan(line: ReturnLine, request: RefundLineRequest, *, in_progress: int) -> _PlannedLine | None:
    """One requested line checked against what is left to refund (None for a quantity of 0). Raises
    _LineRefused."""
    quantity = request.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise _LineRefused("the quantity must be a whole number of 0 or more.")
    if quantity == 0:
        return None
    available = line.quantity - line.refunded_quantity - in_progress
    if quantity > available:
        raise _LineRefused(
            f"cannot refund {quantity}; only {max(available, 0)} of the {line.quantity} returned "
            f"units can still be refunded ({line.refunded_quantity} refunded, {in_progress} in progress)."
        )
    channel = Refund.Channel.ORDER_REFUND if line.is_return_for_exception else Refund.Channel.RETURN_REFUND
    amount, tax = _refund_amounts(line, request, quantity=quantity, channel=channel)
    if channel == Refund.Channel.ORDER_REFUND and not (line.purchase_order_id and line.purchase_order_line_number):
        raise _LineRefused("Walmart did not say which order line it is, so it cannot be refunded as an order refund.")
    if channel == Refund.Channel.ORDER_REFUND and amount <= 0:
        raise _LineRefused("Walmart's order refund needs an item price amount above 0.")
    product = None
    if request.back_to_stock:
        product = _product_for(line)
        if product is None:
            raise _LineRefused(f"SKU {line.sku} is not in the catalog, so it cannot go back to stock.")
        if quantity > line.quantity - line.restocked_quantity:
            raise _LineRefused(
                f"only {line.quantity - line.restocked_quantity} of the {line.quantity} returned units "
                f"are not back in stock yet; {quantity} asked."
            )
    return _PlannedLine(
        line=line,
        quantity=quantity,
        amount=amount,
        tax=tax,
        back_to_stock=bool(request.back_to_stock),
        channel=channel,
        product=product,
    )


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
        try:
            planned_line = _refund_line_plan(line, request, in_progress=held.get(line.pk, 0))
        except _LineRefused as refusal:
            errors.append(f"Line {line.return_order_line_number} ({line.sku}): {refusal}")
            continue
        if planned_line is not None:
            planned.append(planned_line)
    if any(item.channel == Refund.Channel.ORDER_REFUND for item in planned) and reason not in REFUND_REASONS:
        errors.append(f"The refund reason {reason!r} is not one of Walmart's.")
    if not errors and not planned:
        errors.append("Choose at least one line and a quantity to refund.")
    if errors:
        raise ValidationError(errors)
    return planned


def _orders_complete_required(planned: Sequence[_PlannedLine]) -> None:
    """Refuse (ValidationError) a refund of lines whose purchase order is still awaiting Walmart's details."""
    from orders.models import Order
    from orders.services import order_complete_required

    order_line_ids = [item.line.order_line_id for item in planned if item.line.order_line_id]
    for order in Order.objects.filter(lines__id__in=order_line_ids, provisional=True).distinct():
        order_complete_required(order=order, action="refunded")


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
    unknown SKU to restock, a line of an order still awaiting Walmart's details, or nothing chosen; then nothing
    is written, no stock moves, nothing is sent.
    Not idempotent: each call is a new refund (the quantity check refuses a repeat of a full refund)."""
    from inventory.models import StockMovement
    from inventory.services import stock_move

    stock_actor = user.get_username() if user is not None else str(actor)
    with transaction.atomic():
        locked = Return.objects.select_for_update().get(pk=return_order.pk)
        planned = _refund_plan(return_order=locked, requests=lines, reason=reason)
        _orders_complete_required(planned)
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
                message=f"{units_text(item.quantity)} of {item.line.sku} returned to stock.",
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
                message=f"{units_text(quantity)} of {line.sku} returned to stock (no refund).",
            )
    return sum(quantity for _, quantity, _ in planned)


def _push_enqueue(refund_id: int) -> None:
    from returns.tasks import refund_push_task

    enqueue_on_commit(refund_push_task, refund_id)


def _order_refunded_product(remote_line: WalmartOrderLine) -> Decimal:
    """Item price Walmart shows refunded on an order line (positive)."""
    refund = getattr(remote_line, "refund", None)
    if refund is None:
        return ZERO
    return sum((-charge.charge.amount for charge in refund.charges if charge.charge.charge_type == "PRODUCT"), ZERO)


def _order_refund_applied(refund: Refund, refund_lines: Sequence[RefundLine], remote: WalmartOrder) -> bool:
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


def _refund_push(refund: Refund, *, attempt_id: str, final_attempt: bool, actor: str) -> None:
    """One claimed attempt: read Walmart back first when an earlier attempt may have applied it, mark it in
    flight (committed) just before the request, send, store the answer. Any failure outside Walmart's
    answers leaves it in flight: the task retries a database or Redis failure within seconds
    (`retried_after_outage`), the sweep re-drives a killed process's row once its claim expires, and the
    read-back decides."""
    from walmart_client.errors import WalmartBadRequest, WalmartError
    from walmart_client.models import RefundLine as WalmartRefundLine
    from walmart_client.models import ReturnRefundLine

    return_order = refund.return_order
    store = return_order.store
    client = walmart_client_for_store(store)
    refund_lines = list(refund.lines.select_related("return_line").order_by("return_line__return_order_line_number"))
    is_return_refund = refund.channel == Refund.Channel.RETURN_REFUND
    maybe_applied_before = refund.request_maybe_applied
    try:
        if refund.request_maybe_applied:
            if is_return_refund:
                # Intake's reconciliation marks this refund Sent when Walmart shows its units refunded.
                return_upsert_from_walmart(
                    store=store,
                    remote=return_read(client, return_order.return_order_id),
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
            maybe_applied_before = False  # what Walmart applied is known now
        if not Refund.push_in_flight(refund.pk, attempt_id=attempt_id):
            return  # the claim expired and another attempt owns the row now
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
    except RETRYABLE as error:
        maybe_applied = request_maybe_applied_after(error, already=maybe_applied_before)
        _refund_failed(refund, error=error, maybe_applied=maybe_applied, final=final_attempt, actor=actor)
        if not final_attempt:
            raise
        return
    except (WalmartError, ValueError) as error:
        # Walmart refused it: this request was not applied (the in-flight mark no longer holds).
        Refund.objects.filter(pk=refund.pk).update(request_maybe_applied=maybe_applied_before)
        if is_return_refund and isinstance(error, WalmartBadRequest) and _refunded_meanwhile(refund, client, actor):
            return
        _refund_failed(refund, error=error, maybe_applied=maybe_applied_before, final=True, actor=actor)
        return
    _refund_sent(
        refund,
        refund_lines,
        actor=actor,
        correlation_id=client_correlation_id(client),
        message=f"Refund {refund.pk} of {refund.total} {return_order.currency} sent to Walmart.",
    )


def _refunded_meanwhile(refund: Refund, client: WalmartClient, actor: str) -> bool:
    """Walmart refused a return refund: was it because Walmart refunded those units itself in the meantime
    (auto-refund)? Reads the return back; intake's reconciliation then cancels the refund. True when it did."""
    from walmart_client.errors import WalmartError

    return_order = refund.return_order
    try:
        remote = return_read(client, return_order.return_order_id)
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


def refund_push(
    *, refund_id: int, final_attempt: bool = False, actor: str = Actor.SYSTEM, attempt_id: str | None = None
) -> Refund:
    """Push one pending refund to Walmart.

    Safe to re-run: only a Pending refund is pushed, under a claim so one worker sends it. A refund whose
    earlier attempt may have reached Walmart (timeout after sending, 5xx) reads the return (or the order)
    back first and is marked Sent without a resend when Walmart shows it. A 4xx marks it Error with
    Walmart's message; a retryable failure (rate limit, 5xx, connection) is recorded and re-raised for the
    task to retry with backoff, and marks Error on the final attempt. `attempt_id`: the task's own (see
    `PushIntent.push_claim`)."""
    attempt_id = Refund.push_claim(refund_id, attempt_id=attempt_id)
    if attempt_id:
        refund = Refund.objects.select_related("return_order__store").get(pk=refund_id)
        _refund_push(refund, attempt_id=attempt_id, final_attempt=final_attempt, actor=actor)
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


def refunds_sweep(now: datetime) -> int:
    """The refund sweep (registered in ReturnsConfig.ready): see `channel_manager.intents.pushes_sweep`."""
    from returns.tasks import refund_push_task

    return pushes_sweep(Refund, refund_push_task, now=now)
