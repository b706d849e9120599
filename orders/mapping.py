"""Pure mapping from Walmart's order objects (`walmart_client.models.WalmartOrder`) to our fields.

No database access here: every function takes plain values and returns plain values, so each is
unit-tested on its own.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from walmart_client.models import WalmartOrder, WalmartOrderLine

ZERO = Decimal("0")
SHIPPED_STATUSES = {"Shipped", "Delivered", "Refund"}

# Walmart line status -> our per-status quantity field.
STATUS_QUANTITY_FIELDS = {
    "Created": "quantity_created",
    "Acknowledged": "quantity_acknowledged",
    "Shipped": "quantity_shipped",
    "Delivered": "quantity_delivered",
    "Cancelled": "quantity_cancelled",
    "Refund": "quantity_refunded",
}


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]


def _money(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(Decimal("0.01"))


def customer_name_from_remote(remote: WalmartOrder) -> str:
    """The customer's name as an Order stores it (the shipping address's name)."""
    shipping = getattr(remote, "shipping_info", None)
    address = getattr(shipping, "postal_address", None) if shipping else None
    return _text(getattr(address, "name", ""), 200)


def order_fields_from_remote(remote: WalmartOrder) -> dict[str, Any]:
    """The Order fields Walmart owns, from one WalmartOrder. Totals and the items summary come from the
    lines (`order_totals_from_lines`)."""
    shipping = getattr(remote, "shipping_info", None)
    address = getattr(shipping, "postal_address", None) if shipping else None
    line_status_dates = [
        line_date for line in remote.lines if (line_date := getattr(line, "status_date", None)) is not None
    ]
    return {
        "customer_order_id": _text(remote.customer_order_id, 50),
        "customer_email": _text(getattr(remote, "customer_email_id", ""), 254),
        "order_type": _text(getattr(remote, "order_type", ""), 20),
        "order_date": remote.order_date,
        "phone": _text(getattr(shipping, "phone", ""), 40),
        "ship_by": getattr(shipping, "estimated_ship_date", None),
        "deliver_by": getattr(shipping, "estimated_delivery_date", None),
        "method_code": _text(getattr(shipping, "method_code", ""), 20),
        "customer_name": customer_name_from_remote(remote),
        "address1": _text(getattr(address, "address1", ""), 200),
        "address2": _text(getattr(address, "address2", ""), 200),
        "city": _text(getattr(address, "city", ""), 100),
        "state": _text(getattr(address, "state", ""), 50),
        "postal_code": _text(getattr(address, "postal_code", ""), 20),
        "country": _text(getattr(address, "country", ""), 20),
        "address_type": _text(getattr(address, "address_type", ""), 20),
        "walmart_last_modified": max(line_status_dates) if line_status_dates else None,
    }


def line_quantities_from_statuses(statuses: Iterable[Any]) -> dict[str, int]:
    """Walmart's per-quantity line statuses summed into our quantity fields (unknown statuses ignored)."""
    quantities = dict.fromkeys(STATUS_QUANTITY_FIELDS.values(), 0)
    for status in statuses:
        field = STATUS_QUANTITY_FIELDS.get(status.status)
        if field:
            quantities[field] += int(status.quantity)
    return quantities


def line_status_from_quantities(quantity: int, quantities: dict[str, int]) -> str:
    """One summary status for a line: the dominant Walmart status, or PartiallyShipped."""
    shipped = quantities["quantity_shipped"] + quantities["quantity_delivered"] + quantities["quantity_refunded"]
    cancelled = quantities["quantity_cancelled"]
    if cancelled >= quantity > 0:
        return "Cancelled"
    if quantities["quantity_refunded"] and quantities["quantity_refunded"] + cancelled >= quantity:
        return "Refund"
    if shipped and shipped + cancelled >= quantity:
        return "Delivered" if quantities["quantity_delivered"] + cancelled >= quantity else "Shipped"
    if shipped:
        return "PartiallyShipped"
    if quantities["quantity_acknowledged"]:
        return "Acknowledged"
    return "Created"


def _tracking_from_statuses(statuses: Iterable[Any]) -> list[dict[str, Any]]:
    tracking = []
    for status in statuses:
        info = getattr(status, "tracking_info", None)
        if not info:
            continue
        number = getattr(info, "tracking_number", None)
        if number is None and isinstance(info, dict):
            number = info.get("trackingNumber")
        if number:
            tracking.append({"status": status.status, "quantity": int(status.quantity), "tracking_number": number})
    return tracking


def order_line_fields_from_remote(remote_line: WalmartOrderLine) -> dict[str, Any]:
    """The OrderLine fields Walmart owns, from one WalmartOrderLine: quantities per status, charges and
    tax as Decimal (a line's charge amounts are totals for the line), the unit price."""
    quantity = int(remote_line.quantity)
    statuses = list(getattr(remote_line, "statuses", []) or [])
    quantities = line_quantities_from_statuses(statuses)
    product_amount = shipping_amount = tax_amount = ZERO
    charges = []
    for charge in getattr(remote_line, "charges", []) or []:
        amount = _money(charge.amount)
        tax = _money(getattr(charge, "tax_amount", None))
        charge_type = str(getattr(charge, "charge_type", "") or "").upper()
        if charge_type == "SHIPPING":
            shipping_amount += amount
        else:
            product_amount += amount
        tax_amount += tax
        charges.append(
            {
                "type": charge_type,
                "name": getattr(charge, "name", "") or "",
                "amount": str(amount),
                "tax": str(tax),
                "currency": getattr(charge, "currency", "") or "USD",
            }
        )
    unit_price = (product_amount / quantity).quantize(Decimal("0.01")) if quantity else ZERO
    return {
        "sku": _text(remote_line.sku, 100),
        "product_name": _text(getattr(remote_line, "product_name", ""), 500),
        "quantity": quantity,
        **quantities,
        "unit_price": unit_price,
        "product_amount": product_amount,
        "shipping_amount": shipping_amount,
        "tax_amount": tax_amount,
        "charges": charges,
        "tracking": _tracking_from_statuses(statuses),
        "intent_to_cancel": intent_to_cancel_flag(getattr(remote_line, "intent_to_cancel", None)),
        "status": line_status_from_quantities(quantity, quantities),
    }


def intent_to_cancel_flag(value: Any) -> bool:
    """Walmart's `intentToCancel` is free text on a line ("Y", a reason, ...); absent, empty, "N" or
    "false" mean no."""
    if value is None or isinstance(value, bool):
        return bool(value)
    return str(value).strip().upper() not in {"", "N", "NO", "FALSE", "0", "NONE", "NULL"}


def order_totals_from_lines(lines: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Order value and the items summary from line field dicts (as `order_line_fields_from_remote` gives)."""
    product_total = sum((line["product_amount"] for line in lines), ZERO)
    shipping_total = sum((line["shipping_amount"] for line in lines), ZERO)
    tax_total = sum((line["tax_amount"] for line in lines), ZERO)
    currencies = {charge["currency"] for line in lines for charge in line["charges"]}
    summary = ", ".join(f"{line['sku']} x {line['quantity']}" for line in lines)
    return {
        "product_total": product_total,
        "shipping_total": shipping_total,
        "tax_total": tax_total,
        "order_total": product_total + shipping_total + tax_total,
        "item_quantity": sum(line["quantity"] for line in lines),
        "items_summary": summary if len(summary) <= 500 else summary[:497] + "...",
        "currency": currencies.pop() if len(currencies) == 1 else "USD",
    }


def order_status_from_lines(
    lines: Sequence[dict[str, Any]], *, failed_operations: Sequence[str] = ()
) -> tuple[str, str]:
    """(status, status details) of an order from its lines' quantities and its failed pushes.

    Error wins (a line whose SKU has no listing, or a push that failed), then Canceled (every unit
    cancelled), Shipped (every unit not cancelled has shipped), Partially Shipped, Open.
    """
    details = [line["status_details"] for line in lines if line.get("status") == "Error" and line.get("status_details")]
    details.extend(failed_operations)
    if details:
        return "error", "\n".join(details)
    total = sum(line["quantity"] for line in lines)
    cancelled = sum(line["quantity_cancelled"] for line in lines)
    shipped = sum(line["quantity_shipped"] + line["quantity_delivered"] + line["quantity_refunded"] for line in lines)
    if total and cancelled >= total:
        return "canceled", ""
    if shipped and shipped + cancelled >= total:
        return "shipped", ""
    if shipped:
        return "partially_shipped", ""
    return "open", ""


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@dataclass(frozen=True)
class WebhookEnvelope:
    """What a delivery of Walmart's event notifications says: `{"source": {"eventType", "eventTime",
    "eventId"}, "payload": {...}}` (developer.walmart.com, us-marketplace notifications: PO_CREATED...)."""

    event_id: str
    event_type: str
    purchase_order_id: str


def _text_field(container: Mapping[str, Any], name: str, where: str) -> str:
    value = container.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{where}.{name} must be a string, got {_json_type(value)}.")
    return str(value).strip()


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def webhook_envelope_parse(envelope: Any) -> WebhookEnvelope:
    """The event id, type and purchase order id of one delivery, its shape checked before any use.

    Raises ValueError naming what is wrong: the body is not an object, `source` or `payload` is not an
    object, a field is not a string (or a number, for ids), or there is no event id (`source.eventId`, or a
    top-level `eventId` as some deliveries carry it)."""
    if not isinstance(envelope, dict):
        raise ValueError(f"The delivery must be a JSON object, got {_json_type(envelope)}.")
    parts = {}
    for name in ("source", "payload"):
        part = envelope.get(name)
        if part is None:
            part = {}
        if not isinstance(part, dict):
            raise ValueError(f"{name} must be an object, got {_json_type(part)}.")
        parts[name] = part
    event_id = _text_field(parts["source"], "eventId", "source") or _text_field(envelope, "eventId", "delivery")
    if not event_id:
        raise ValueError("The delivery has no source.eventId.")
    return WebhookEnvelope(
        event_id=event_id[:100],
        event_type=(
            _text_field(parts["source"], "eventType", "source") or _text_field(envelope, "eventType", "delivery")
        )[:60],
        purchase_order_id=_text_field(parts["payload"], "purchaseOrderId", "payload")[:50],
    )


SHIP_DATE_MAX_DAYS_AHEAD = 1  # ORDERS_SHIP_DATE_MAX_DAYS_AHEAD overrides it (Walmart publishes no figure)


def ship_date_error(
    *,
    ship_date: datetime | None,
    ordered_at: datetime | None,
    now: datetime,
    days_ahead: int = SHIP_DATE_MAX_DAYS_AHEAD,
) -> str:
    """Why Walmart would not take `ship_date` as a shipment's shipDateTime ('' when it would).

    Walmart's ship order lines API records when the package shipped (`shipDateTime`, in UTC;
    developer.walmart.com us-marketplace/docs/ship-an-order): not before the order was placed, and not in
    the future beyond `days_ahead` days (the operator's clock and time zone; a date like 9999-12-31 is a
    typing error that Walmart would store as given)."""
    if ship_date is None or ship_date.tzinfo is None:
        return "Enter the ship date and time."
    if ordered_at is not None and ship_date < ordered_at.replace(second=0, microsecond=0):
        placed = ordered_at.astimezone(UTC)
        return f"The ship date cannot be before the order was placed ({placed:%Y-%m-%d %H:%M} UTC)."
    latest = (now + timedelta(days=days_ahead)).astimezone(UTC)
    if ship_date > latest:
        return (
            f"The ship date cannot be more than {days_ahead} day(s) ahead (latest {latest:%Y-%m-%d %H:%M} UTC): "
            "Walmart records when the package shipped."
        )
    return ""
