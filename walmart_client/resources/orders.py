"""Orders API: https://developer.walmart.com/us-marketplace/reference/getallorders (and siblings).

Lists follow `meta.nextCursor` verbatim: the cursor is a ready-made query string that is appended to the
list path with no other parameter, never decoded or re-encoded. Walmart answers an empty list with 404,
which these iterators treat as "no (more) orders". Writes (acknowledge, ship, cancel, refund) are never
retried after the request may have reached Walmart: on `WalmartConnectionError(request_sent=True)` or a
5xx, read the order back (`get`) before deciding to resend.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from walmart_client.enums import CANCEL_REASONS, CARRIERS, CHARGE_TYPES, METHOD_CODES, REFUND_REASONS
from walmart_client.gc_pause import gc_paused
from walmart_client.models import CancelLine, OrdersPage, RefundLine, ShipLine, WalmartOrder, to_epoch_ms
from walmart_client.requestor import Requestor
from walmart_client.resources._common import check_money, check_quantity, date_param, path_part
from walmart_client.transport import Retry

MAX_PAGE_SIZE = 200
SELLER_ORDER_ID_MAX_LENGTH = 30

_LIST_PARAMS = {
    "sku": "sku",
    "customer_order_id": "customerOrderId",
    "purchase_order_id": "purchaseOrderId",
    "status": "status",
    "created_start_date": "createdStartDate",
    "created_end_date": "createdEndDate",
    "from_expected_ship_date": "fromExpectedShipDate",
    "to_expected_ship_date": "toExpectedShipDate",
    "last_modified_start_date": "lastModifiedStartDate",
    "last_modified_end_date": "lastModifiedEndDate",
    "product_info": "productInfo",
    "ship_node_type": "shipNodeType",
    "shipping_program_type": "shippingProgramType",
    "replacement_info": "replacementInfo",
    "order_type": "orderType",
}
# GET /v3/orders/released has no status or last-modified filters (every released line is Created).
_RELEASED_PARAMS = {
    name: param
    for name, param in _LIST_PARAMS.items()
    if name not in ("status", "last_modified_start_date", "last_modified_end_date")
}


def _ship_status(line: ShipLine, number: str) -> dict[str, Any]:
    """One Shipped status of line `number`, with its tracking. Raises ValueError for what Walmart would reject."""
    check_quantity(line.quantity, what=f"quantity of line {number}")
    if line.method_code not in METHOD_CODES:
        raise ValueError(
            f"method code {line.method_code!r} of line {number} is not one of Walmart's: "
            + ", ".join(sorted(METHOD_CODES))
        )
    if not line.tracking_number:
        raise ValueError(f"line {number} needs a tracking number")
    if not isinstance(line.ship_datetime, datetime) or line.ship_datetime.tzinfo is None:
        raise ValueError(f"ship_datetime of line {number} must be a timezone-aware datetime")
    if line.carrier and line.carrier in CARRIERS and not line.other_carrier:
        carrier_name: dict[str, str] = {"carrier": line.carrier}
    else:
        other = line.other_carrier or line.carrier
        if not other:
            raise ValueError(f"line {number} needs a carrier")
        if not line.tracking_url:
            raise ValueError(
                f"carrier {other!r} of line {number} is not one of Walmart's named carriers; "
                "a tracking URL is required for it"
            )
        carrier_name = {"otherCarrier": other}
    tracking: dict[str, Any] = {
        "shipDateTime": to_epoch_ms(line.ship_datetime),
        "carrierName": carrier_name,
        "methodCode": line.method_code,
        "trackingNumber": str(line.tracking_number),
    }
    if line.tracking_url:
        tracking["trackingURL"] = line.tracking_url
    status: dict[str, Any] = {
        "status": "Shipped",
        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(line.quantity)},
        "trackingInfo": tracking,
    }
    if line.replaces_tracking_number:
        status["currentTrackingInfo"] = {"trackingNumber": str(line.replaces_tracking_number)}
    return status


def build_ship_body(lines: Sequence[ShipLine], *, seller_order_id: str) -> dict[str, Any]:
    """The `orderShipment` payload. Raises ValueError for anything Walmart would reject."""
    if not seller_order_id or not str(seller_order_id).strip():
        raise ValueError("sellerOrderId is required to ship (Walmart prints it on the return label)")
    if len(str(seller_order_id)) > SELLER_ORDER_ID_MAX_LENGTH:
        raise ValueError(f"sellerOrderId is longer than {SELLER_ORDER_ID_MAX_LENGTH} characters")
    if not lines:
        raise ValueError("a shipment needs at least one line")
    corrections = {bool(line.replaces_tracking_number) for line in lines}
    if len(corrections) > 1:
        raise ValueError("a tracking correction cannot be mixed with new shipments in one call")
    by_line: dict[str, list[dict[str, Any]]] = {}
    override: set[str] = set()
    for line in lines:
        number = str(line.line_number)
        if line.intent_to_cancel_override:
            override.add(number)
        by_line.setdefault(number, []).append(_ship_status(line, number))
    order_lines = []
    for number, statuses in by_line.items():
        order_line: dict[str, Any] = {"lineNumber": number, "sellerOrderId": str(seller_order_id)}
        if number in override:
            order_line["intentToCancelOverride"] = True
        order_line["orderLineStatuses"] = {"orderLineStatus": statuses}
        order_lines.append(order_line)
    shipment: dict[str, Any] = {"orderLines": {"orderLine": order_lines}}
    if corrections == {True}:
        shipment = {"processMode": "PARTIAL_UPDATE", **shipment}
    return {"orderShipment": shipment}


def build_cancel_body(lines: Sequence[CancelLine]) -> dict[str, Any]:
    """The `orderCancellation` payload. Raises ValueError for an unknown reason or a bad quantity."""
    if not lines:
        raise ValueError("a cancellation needs at least one line")
    by_line: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        number = str(line.line_number)
        check_quantity(line.quantity, what=f"quantity of line {number}")
        if line.reason not in CANCEL_REASONS:
            raise ValueError(
                f"cancel reason {line.reason!r} of line {number} is not one of Walmart's: "
                + ", ".join(sorted(CANCEL_REASONS))
            )
        by_line.setdefault(number, []).append(
            {
                "status": "Cancelled",
                "cancellationReason": line.reason,
                "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(line.quantity)},
            }
        )
    return {
        "orderCancellation": {
            "orderLines": {
                "orderLine": [
                    {"lineNumber": number, "orderLineStatuses": {"orderLineStatus": statuses}}
                    for number, statuses in by_line.items()
                ]
            }
        }
    }


def build_refund_body(purchase_order_id: str, lines: Sequence[RefundLine]) -> dict[str, Any]:
    """The `orderRefund` payload (partial refunds). Raises ValueError for a positive/zero amount, a
    positive tax, more than two decimals, or an unknown reason / charge type."""
    if not lines:
        raise ValueError("a refund needs at least one line")
    by_line: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        number = str(line.line_number)
        amount = check_money(line.amount, what=f"refund amount of line {number}")
        tax = check_money(line.tax, what=f"refund tax of line {number}")
        if amount >= 0:
            raise ValueError(f"refund amount of line {number} must be negative (Walmart's sign), got {amount}")
        if tax > 0:
            raise ValueError(f"refund tax of line {number} must be zero or negative, got {tax}")
        if line.reason not in REFUND_REASONS:
            raise ValueError(f"refund reason {line.reason!r} of line {number} is not one of Walmart's")
        if line.charge_type not in CHARGE_TYPES:
            raise ValueError(f"charge type {line.charge_type!r} of line {number} must be PRODUCT or SHIPPING")
        charge: dict[str, Any] = {
            "chargeType": line.charge_type,
            "chargeName": line.charge_name,
            "chargeAmount": {"currency": line.currency, "amount": amount},
            "tax": {"taxName": line.tax_name, "taxAmount": {"currency": line.currency, "amount": tax}},
        }
        refund: dict[str, Any] = {"refundCharges": {"refundCharge": [{"refundReason": line.reason, "charge": charge}]}}
        if line.comments:
            refund["refundComments"] = line.comments
        by_line.setdefault(number, []).append(refund)
    return {
        "orderRefund": {
            "purchaseOrderId": str(purchase_order_id),
            "orderLines": {
                "orderLine": [
                    {"lineNumber": number, "isFullRefund": False, "refunds": {"refund": refunds}}
                    for number, refunds in by_line.items()
                ]
            },
        }
    }


class Orders:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    # ----------------------------------------------------------------------------------------- reads

    def _params(self, filters: dict[str, Any], limit: int, allowed: dict[str, str] = _LIST_PARAMS) -> dict[str, Any]:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        params: dict[str, Any] = {}
        for name, value in filters.items():
            if name not in allowed:
                raise TypeError(f"unknown order filter {name!r}")
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            params[allowed[name]] = date_param(value) if isinstance(value, datetime | date) else value
        params["limit"] = limit
        return params

    def list_page(
        self,
        path: str = "/v3/orders",
        *,
        cursor: str | None = None,
        family: str = "orders.list",
        params: dict[str, Any] | None = None,
    ) -> OrdersPage:
        """One page. With `cursor`, the cursor is appended verbatim to `path` and `params` are ignored."""
        if cursor:
            data = self._requestor.get_or_none(path + cursor, family=family)
        else:
            data = self._requestor.get_or_none(path, family=family, params=params)
        with gc_paused():
            return OrdersPage.from_api(data)

    def _iterate(self, path: str, family: str, params: dict[str, Any]) -> Iterator[WalmartOrder]:
        page = self.list_page(path, family=family, params=params)
        seen: set[str] = set()
        while True:
            yield from page.orders
            if not page.next_cursor or not page.orders or page.next_cursor in seen:
                return  # a cursor seen before would loop forever
            seen.add(page.next_cursor)
            page = self.list_page(path, cursor=page.next_cursor, family=family)

    def iter_all(self, *, limit: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[WalmartOrder]:
        """Every order matching the filters (`created_start_date`, `last_modified_start_date`, `status`,
        `sku`, `purchase_order_id`, ...; datetimes must be aware). GET /v3/orders, then nextCursor."""
        return self._iterate("/v3/orders", "orders.list", self._params(filters, limit))

    def iter_released(self, *, limit: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[WalmartOrder]:
        """Orders released for fulfilment (lines still Created). GET /v3/orders/released, then nextCursor."""
        return self._iterate("/v3/orders/released", "orders.released", self._params(filters, limit, _RELEASED_PARAMS))

    def get(self, purchase_order_id: str, *, product_info: bool | None = None) -> WalmartOrder:
        """One order. Raises WalmartNotFound."""
        params = {"productInfo": "true" if product_info else None}
        data = self._requestor.get(f"/v3/orders/{path_part(purchase_order_id)}", family="orders.get", params=params)
        return WalmartOrder.from_api(data["order"])

    # ---------------------------------------------------------------------------------------- writes

    def _write(self, purchase_order_id: str, action: str, body: dict[str, Any] | None) -> WalmartOrder:
        data = self._requestor.request(
            "POST",
            f"/v3/orders/{path_part(purchase_order_id)}/{action}",
            family=f"orders.{'ship' if action == 'shipping' else action}",
            retry=Retry.WRITE,
            json_body=body,
        )
        return WalmartOrder.from_api(data["order"])

    def acknowledge(self, purchase_order_id: str) -> WalmartOrder:
        """Acknowledge every line of the order (no body). Safe to repeat on an acknowledged order."""
        return self._write(purchase_order_id, "acknowledge", None)

    def ship(self, purchase_order_id: str, *, lines: Iterable[ShipLine], seller_order_id: str) -> WalmartOrder:
        """Mark quantities of lines shipped with tracking. Raises ValueError before sending for an
        unknown carrier without tracking URL, a method code outside Walmart's enum or a missing
        sellerOrderId. Not safe to blindly repeat: on an ambiguous failure read the order back first."""
        body = build_ship_body(list(lines), seller_order_id=seller_order_id)
        return self._write(purchase_order_id, "shipping", body)

    def cancel(self, purchase_order_id: str, *, lines: Iterable[CancelLine]) -> WalmartOrder:
        """Cancel quantities of lines. Raises ValueError before sending for an unknown reason."""
        return self._write(purchase_order_id, "cancel", build_cancel_body(list(lines)))

    def refund(self, purchase_order_id: str, *, lines: Iterable[RefundLine]) -> WalmartOrder:
        """Refund parts of shipped lines (negative amounts). Raises ValueError before sending for a
        positive amount, more than two decimals or an unknown reason."""
        return self._write(purchase_order_id, "refund", build_refund_body(purchase_order_id, list(lines)))
