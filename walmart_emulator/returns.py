"""Returns (RMAs): the customer's return simulator, the refund endpoint's rules and the auto-refund.

Rules of POST /v3/returns/{returnOrderId}/refund: `customerOrderId` must be the return's; each refund
line must exist on the return; the quantity (default: all not yet refunded) must be >= 1 and at most
what is still unrefunded on that line; a fully refunded line is refused; the money refunded on the order
line (return refunds and order refunds together) never exceeds what was charged. All-or-nothing.
A return the seller has not refunded `WALMART_EMULATOR_RETURN_AUTO_REFUND_HOURS` (default 48) after
it was initiated is refunded by Walmart (`returns_auto_refund_due`, refund channel AUTO).
"""

import random
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Sum

from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError, not_found
from walmart_emulator.models import LineRefund, LineStatus, Order, OrderLine, ReturnLine, ReturnOrder, Seller
from walmart_emulator.orders import SHIPPED_STATUSES, money

RETURN_REASONS = (
    "ARRIVED_LATE",
    "BOUGHT_ANOTHER_SIZE_OR_COLOR",
    "DAMAGED",
    "DEFECTIVE",
    "INCORRECT_ITEM",
    "NOT_AS_DESCRIBED",
    "NO_LONGER_WANTED",
    "WRONG_SIZE/POOR_FIT",
)
API = "GMP_RETURNS_API"


class ReturnSimulationError(ValueError):
    """Nothing to return (no shipped quantity left that is not already returned)."""


def _error(description: str, field: str = "") -> EmulatorError:
    return EmulatorError(description, field=field, code=f"INVALID_REQUEST_CONTENT.{API}")


def return_queryset():
    return ReturnOrder.objects.select_related("order", "seller").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("return_order_line_number"))
    )


def _returnable(line: OrderLine) -> int:
    shipped = sum(row.quantity for row in line.statuses.all() if row.status in SHIPPED_STATUSES)
    returned = sum(return_line.quantity for return_line in line.return_lines.all())
    return shipped - returned


def return_simulate(
    *,
    seller: Seller,
    purchase_order_id: str | None = None,
    line_number: int | None = None,
    quantity: int | None = None,
    reason: str | None = None,
    rng: random.Random | None = None,
) -> ReturnOrder:
    """The customer returns shipped/delivered quantity (default: a random returnable line, all of it).
    Raises ReturnSimulationError when nothing (or not that much) can be returned; writes nothing then."""
    rng = rng or random.Random()  # noqa: S311 - simulation
    now = emulator_now()
    orders = Order.objects.filter(seller=seller).prefetch_related("lines__statuses", "lines__return_lines")
    if purchase_order_id:
        orders = orders.filter(purchase_order_id=purchase_order_id)
    candidates = [
        line
        for order in orders.order_by("-pk")[:200]
        for line in order.lines.all()
        if (line_number is None or line.line_number == line_number) and _returnable(line) > 0
    ]
    if not candidates:
        raise ReturnSimulationError("No shipped quantity is left to return.")
    line = rng.choice(candidates)
    returnable = _returnable(line)
    quantity = quantity or returnable
    if quantity < 1 or quantity > returnable:
        raise ReturnSimulationError(f"Only {returnable} of line {line.line_number} can be returned; {quantity} asked.")
    order = line.order
    first_name, _, last_name = order.postal_address.get("name", "Walmart Customer").partition(" ")
    hours = getattr(settings, "WALMART_EMULATOR_RETURN_AUTO_REFUND_HOURS", 48)
    with transaction.atomic():
        return_order = ReturnOrder.objects.create(
            seller=seller,
            order=order,
            return_order_id=str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(12)),
            customer_order_id=order.customer_order_id,
            customer_first_name=first_name,
            customer_last_name=last_name,
            return_order_date=now,
            return_by_date=now + timedelta(days=30),
            last_modified=now,
            auto_refund_at=now + timedelta(hours=hours),
        )
        ReturnLine.objects.create(
            return_order=return_order,
            return_order_line_number=1,
            order_line=line,
            quantity=quantity,
            return_reason=reason or rng.choice(RETURN_REASONS),
        )
    return return_queryset().get(pk=return_order.pk)


def _refund_return_line(return_line: ReturnLine, quantity: int, channel: str, now: datetime) -> None:
    line = return_line.order_line
    amount = money(line.unit_price * quantity)
    tax = money(line.product_tax * Decimal(quantity) / Decimal(line.quantity))
    from walmart_emulator.orders import _charged

    shipped = (
        LineStatus.objects.filter(line=line, status__in=SHIPPED_STATUSES).aggregate(total=Sum("quantity"))["total"] or 0
    )
    charged, _ = _charged(line, "PRODUCT", shipped)
    refunded = (
        LineRefund.objects.filter(line=line, charge_type="PRODUCT").aggregate(amount=Sum("amount"))["amount"] or 0
    )
    if -refunded + amount > charged:
        raise _error(
            f"Refunding {quantity} of return line {return_line.return_order_line_number} would exceed what was "
            f"charged for the shipped quantity ({charged}).",
            "refundLines",
        )
    LineRefund.objects.create(
        line=line,
        refund_id=str(secrets.randbelow(10**12)),
        charge_type="PRODUCT",
        charge_name="Item Price",
        amount=-amount,
        tax_amount=-tax,
        reason="Customer returned item",
        created_at=now,
    )
    ReturnLine.objects.filter(pk=return_line.pk).update(
        refunded_quantity=return_line.refunded_quantity + quantity, refund_channel=channel
    )


def _finish(return_order: ReturnOrder, now: datetime) -> ReturnOrder:
    lines = list(ReturnLine.objects.filter(return_order=return_order))
    status = (
        ReturnOrder.Status.COMPLETED
        if all(line.refunded_quantity >= line.quantity for line in lines)
        else return_order.status
    )
    ReturnOrder.objects.filter(pk=return_order.pk).update(status=status, last_modified=now)
    Order.objects.filter(pk=return_order.order_id).update(last_modified=now)
    from walmart_emulator.orders import order_snapshot_refresh

    order_snapshot_refresh(order_pk=return_order.order_id)
    return return_queryset().get(pk=return_order.pk)


def return_refund(*, seller: Seller, return_order_id: str, body: dict) -> ReturnOrder:
    """POST /v3/returns/{returnOrderId}/refund (rules in the module docstring). Raises EmulatorError."""
    now = emulator_now()
    with transaction.atomic():
        return_order = (
            return_queryset()
            .select_for_update(of=("self",))
            .filter(seller=seller, return_order_id=return_order_id)
            .first()
        )
        if return_order is None:
            raise not_found(f"Return order '{return_order_id}' was not found.", field="returnOrderId", api=API)
        if body.get("customerOrderId") != return_order.customer_order_id:
            raise _error("customerOrderId does not match the return order.", "customerOrderId")
        refund_lines = body.get("refundLines")
        if not isinstance(refund_lines, list) or not refund_lines:
            raise _error("refundLines must be a non-empty list.", "refundLines")
        by_number = {line.return_order_line_number: line for line in return_order.lines.all()}
        planned: list[tuple[ReturnLine, int]] = []
        for entry in refund_lines:
            number = entry.get("returnOrderLineNumber") if isinstance(entry, dict) else None
            return_line = by_number.get(number) if isinstance(number, int) and not isinstance(number, bool) else None
            if return_line is None:
                raise _error(
                    f"returnOrderLineNumber '{number}' does not exist on this return.", "returnOrderLineNumber"
                )
            remaining = return_line.quantity - return_line.refunded_quantity
            if remaining <= 0:
                raise _error(f"Return line {number} is already refunded.", "returnOrderLineNumber")
            measured = (
                (entry.get("quantity") or {}).get("measurementValue", remaining)
                if isinstance(entry.get("quantity", {}), dict)
                else None
            )
            if (
                isinstance(measured, bool)
                or not isinstance(measured, int | float)
                or measured != int(measured)
                or not 1 <= measured <= remaining
            ):
                raise _error(
                    f"quantity of return line {number} must be a whole number from 1 to {remaining}.", "quantity"
                )
            planned.append((return_line, int(measured)))
        for return_line, quantity in planned:
            _refund_return_line(return_line, quantity, "SELLER", now)
        return _finish(return_order, now)


def returns_auto_refund_due(*, now: datetime | None = None) -> int:
    """Walmart refunds returns the seller left unrefunded past the deadline. Returns how many. Safe to re-run."""
    now = now or emulator_now()
    count = 0
    for return_order in return_queryset().filter(auto_refund_at__lte=now).exclude(status=ReturnOrder.Status.COMPLETED):
        with transaction.atomic():
            for return_line in return_order.lines.all():
                remaining = return_line.quantity - return_line.refunded_quantity
                if remaining > 0:
                    _refund_return_line(return_line, remaining, "AUTO", now)
            _finish(return_order, now)
            count += 1
    return count


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _money_json(value: Decimal) -> dict:
    return {"currencyAmount": float(value), "currencyUnit": "USD"}


def return_json(return_order: ReturnOrder) -> dict:
    lines = list(return_order.lines.all())
    total = Decimal("0")
    line_json = []
    for return_line in lines:
        line = return_line.order_line
        tax_per_unit = money(line.product_tax / line.quantity)
        total += (line.unit_price + tax_per_unit) * return_line.quantity
        refunded, pending = return_line.refunded_quantity, return_line.quantity - return_line.refunded_quantity
        tracking = []
        if refunded:
            tracking.append(
                {
                    "status": "COMPLETED",
                    "statusTime": _iso(return_order.last_modified),
                    "currentRefundStatus": "REFUND_COMPLETED",
                    "quantity": {"unitOfMeasure": "EACH", "measurementValue": refunded},
                }
            )
        if pending:
            tracking.append(
                {
                    "status": "INITIATED",
                    "statusTime": _iso(return_order.return_order_date),
                    "currentRefundStatus": "REFUND_PENDING",
                    "quantity": {"unitOfMeasure": "EACH", "measurementValue": pending},
                }
            )
        line_json.append(
            {
                "returnOrderLineNumber": return_line.return_order_line_number,
                "salesOrderLineNumber": line.line_number,
                "sellerOrderId": line.seller_order_id,
                "returnReason": return_line.return_reason,
                "purchaseOrderId": return_order.order.purchase_order_id,
                "purchaseOrderLineNumber": line.line_number,
                "isReturnForException": False,
                "item": {"sku": line.sku, "condition": line.condition, "productName": line.product_name},
                "charges": [
                    {
                        "chargeCategory": "PRODUCT",
                        "chargeName": "ItemPrice",
                        "chargePerUnit": _money_json(line.unit_price),
                        "isDiscount": False,
                        "isBillable": True,
                        "tax": [{"taxName": "Tax1", "taxPerUnit": _money_json(tax_per_unit)}],
                    }
                ],
                "unitPrice": _money_json(line.unit_price),
                "chargeTotals": [
                    {"name": "lineTotal", "value": _money_json(money(line.unit_price * return_line.quantity))}
                ],
                "cancellableQty": 0,
                "quantity": {"unitOfMeasure": "EACH", "measurementValue": return_line.quantity},
                "returnExpectedFlag": True,
                "isKeepIt": False,
                "lastItem": False,
                "refundedQty": refunded,
                "rechargeableQty": 0,
                "refundChannel": return_line.refund_channel,
                "currentTrackingStatuses": tracking,
                "returnTrackingDetail": [
                    {
                        "sequenceNo": 1,
                        "eventTag": "INITIATED",
                        "eventDescription": "Return initiated",
                        "eventTime": _iso(return_order.return_order_date),
                    }
                ],
            }
        )
    return {
        "returnOrderId": return_order.return_order_id,
        "customerEmailId": return_order.order.customer_email_id,
        "returnType": "REFUND",
        "customerName": {"firstName": return_order.customer_first_name, "lastName": return_order.customer_last_name},
        "customerOrderId": return_order.customer_order_id,
        "returnOrderDate": _iso(return_order.return_order_date),
        "returnByDate": _iso(return_order.return_by_date),
        "refundMode": "ONLINE",
        "totalRefundAmount": _money_json(money(total)),
        "returnLineGroups": [
            {
                "groupNo": 1,
                "returnLines": [{"returnOrderLineNumber": line.return_order_line_number} for line in lines],
                "labels": [
                    {
                        "labelImageURL": f"https://returns.walmart.com/label/{return_order.return_order_id}.pdf",
                        "carrierInfoList": [
                            {
                                "carrierId": "1",
                                "carrierName": "FedEx",
                                "serviceType": "GROUND",
                                "trackingNo": f"RT{return_order.return_order_id}",
                            }
                        ],
                    }
                ],
                "returnExpectedFlag": True,
            }
        ],
        "returnOrderLines": line_json,
        "returnChannel": {"channelName": "ONLINE"},
    }
