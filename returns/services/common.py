"""What intake and refunds share: returns settings, the return's timeline, and its status recomputed
from its lines and refunds."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from channel_manager.models import Store
from returns.mapping import (
    ZERO,
    items_summary,
    money,
)
from returns.models import Refund, Return, ReturnEvent, ReturnLine, ReturnSettings

Actor = ReturnEvent.Actor
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


def units_text(quantity: int) -> str:
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
            else f"Refunded ({units_text(walmart_units)} by Walmart on its own)."
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
