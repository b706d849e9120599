"""Pure mapping from Walmart's return objects (`walmart_client.models.WalmartReturn`) to our fields, and
the refund arithmetic. No database access: plain values in, plain values out, each unit-tested on its own.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from walmart_client.models import ReturnLine as WalmartReturnLine
from walmart_client.models import WalmartReturn

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PRODUCT_CATEGORIES = {"", "PRODUCT"}


def money(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Any, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]


def raw_lines_by_number(raw: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    """Walmart's JSON of each return line, by return line number (for fields the typed model leaves out)."""
    lines = raw.get("returnOrderLines") or []
    if isinstance(lines, Mapping):
        lines = [lines]
    result: dict[int, Mapping[str, Any]] = {}
    for line in lines:
        try:
            result[int(line.get("returnOrderLineNumber"))] = line
        except (TypeError, ValueError):
            continue
    return result


def unit_charges(
    remote_line: WalmartReturnLine, raw_line: Mapping[str, Any], *, order_line: Mapping[str, Any] | None = None
) -> tuple[Decimal, Decimal]:
    """(item price, tax) charged per unit of a return line.

    Walmart's return charges are per unit (`chargePerUnit`, `taxPerUnit`); a charge given as a line total
    (`chargeAmount`) is divided by the returned quantity. Only PRODUCT charges count (discounts included,
    as negative amounts). Without charges, the order line's pro rata price and tax are used."""
    raw_charges = raw_line.get("charges") or []
    if isinstance(raw_charges, Mapping):
        raw_charges = [raw_charges]
    quantity = int(remote_line.quantity or 0)
    price = tax = ZERO
    found = False
    for index, charge in enumerate(remote_line.charges):
        category = str(charge.charge_category or "").upper()
        if category not in PRODUCT_CATEGORIES:
            continue
        found = True
        raw_charge = raw_charges[index] if index < len(raw_charges) else {}
        per_unit = "chargePerUnit" in raw_charge or not raw_charge
        amount, charge_tax = Decimal(charge.amount), Decimal(charge.tax_amount)
        if not per_unit and quantity:
            amount, charge_tax = amount / quantity, charge_tax / quantity
        price += amount
        tax += charge_tax
    if not found and order_line and int(order_line.get("quantity") or 0):
        ordered = int(order_line["quantity"])
        price = Decimal(order_line.get("product_amount") or 0) / ordered
        tax = Decimal(order_line.get("tax_amount") or 0) / ordered
    return money(price), money(tax)


def walmart_refunded_quantity(remote_line: WalmartReturnLine) -> int:
    """Units Walmart shows as refunded: `refundedQty`, or the REFUND_COMPLETED tracking quantities when
    those say more."""
    completed = sum(
        status.quantity
        for status in getattr(remote_line, "tracking_statuses", []) or []
        if str(status.current_refund_status or "").upper() == "REFUND_COMPLETED"
    )
    return min(int(remote_line.quantity or 0), max(int(remote_line.refunded_qty or 0), completed))


def return_line_fields_from_remote(
    remote_line: WalmartReturnLine, raw_line: Mapping[str, Any], *, order_line: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ReturnLine fields Walmart owns (refunded quantity excluded: see `walmart_refunded_quantity`)."""
    quantity = int(remote_line.quantity or 0)
    unit_price, unit_tax = unit_charges(remote_line, raw_line, order_line=order_line)
    po_line = remote_line.purchase_order_line_number
    return {
        "purchase_order_id": _text(remote_line.purchase_order_id, 50),
        "purchase_order_line_number": "" if po_line is None else str(po_line),
        "sku": _text(remote_line.sku, 100),
        "product_name": _text(remote_line.product_name, 500),
        "quantity": quantity,
        "unit_price": unit_price,
        "unit_tax": unit_tax,
        "item_price": unit_price * quantity,
        "tax": unit_tax * quantity,
        "return_reason": _text(remote_line.return_reason, 60),
        "refund_channel": _text(remote_line.refund_channel, 40),
        "is_return_for_exception": bool(raw_line.get("isReturnForException")),
        "exception_item_type": _text(raw_line.get("exceptionItemType"), 40),
    }


def return_fields_from_remote(remote: WalmartReturn, *, auto_refund_hours: float) -> dict[str, Any]:
    """The Return fields Walmart owns, from one WalmartReturn. The refund deadline is the request time
    plus Walmart's auto-refund delay."""
    lines = remote.lines
    purchase_order_ids = [line.purchase_order_id for line in lines if line.purchase_order_id]
    status_times = [
        status.status_time for line in lines for status in line.tracking_statuses if status.status_time is not None
    ]
    requested = remote.return_order_date
    last_modified = max([*status_times, *([requested] if requested else [])], default=None)
    return {
        "customer_order_id": _text(remote.customer_order_id, 50),
        "purchase_order_id": _text(purchase_order_ids[0] if purchase_order_ids else "", 50),
        "customer_name": _text(remote.customer_name, 200),
        "customer_email": _text(remote.customer_email_id, 254),
        "return_type": _text(remote.return_type, 20),
        "refund_mode": _text(remote.refund_mode, 40),
        "return_channel": _text(remote.return_channel, 40),
        "requested_at": requested,
        "return_by": remote.return_by_date,
        "refund_deadline": requested + timedelta(hours=auto_refund_hours) if requested else None,
        "currency": _text(remote.currency or "USD", 3),
        "walmart_refund_total": money(remote.total_refund_amount) if remote.total_refund_amount is not None else None,
        "walmart_last_modified": last_modified,
    }


def items_summary(lines: Sequence[tuple[str, int]]) -> str:
    """ "SKU-1 x 2, SKU-2 x 1" (cut at 500 characters)."""
    text = ", ".join(f"{sku} x {quantity}" for sku, quantity in lines)
    return text if len(text) <= 500 else text[:497] + "..."


def refund_share(*, unit_price: Decimal, unit_tax: Decimal, quantity: int) -> tuple[Decimal, Decimal]:
    """What was charged (item price, tax) for `quantity` units: the most a refund of them may pay back."""
    return money(unit_price * quantity), money(unit_tax * quantity)


def refund_split(*, total: Decimal, charged_amount: Decimal, charged_tax: Decimal) -> tuple[Decimal, Decimal]:
    """Split a refund total (item price + tax) between item price and tax in the proportion charged."""
    charged = charged_amount + charged_tax
    if charged <= 0:
        return money(total), ZERO
    tax = money(total * charged_tax / charged)
    return money(total) - tax, tax


def deadline_text(left: timedelta | None) -> str:
    """ "1d 4h", "3h 20m", "12m", "overdue" or "" (no deadline)."""
    if left is None:
        return ""
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return "overdue"
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
