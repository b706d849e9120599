"""Returns API: list returns (`GET /v3/returns`, cursor paging) and refund return lines.

https://developer.walmart.com/us-marketplace/reference/getreturns
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from walmart_client.models import ReturnRefundLine, ReturnRefundResult, WalmartReturn
from walmart_client.requestor import Requestor
from walmart_client.resources._common import check_quantity, date_param, path_part
from walmart_client.transport import Retry

MAX_PAGE_SIZE = 200
_FILTERS = {
    "return_order_id": "returnOrderId",
    "customer_order_id": "customerOrderId",
    "status": "status",
    "replacement_info": "replacementInfo",
    "return_type": "returnType",
    "return_creation_start_date": "returnCreationStartDate",
    "return_creation_end_date": "returnCreationEndDate",
    "return_last_modified_start_date": "returnLastModifiedStartDate",
    "return_last_modified_end_date": "returnLastModifiedEndDate",
}
RETURN_STATUSES = frozenset({"INITIATED", "DELIVERED", "COMPLETED"})


def build_return_refund_body(customer_order_id: str, lines: Iterable[ReturnRefundLine]) -> dict[str, Any]:
    lines = list(lines)
    if not customer_order_id:
        raise ValueError("customer_order_id is required")
    if not lines:
        raise ValueError("a return refund needs at least one line")
    refund_lines = []
    for line in lines:
        check_quantity(line.quantity, what=f"quantity of return line {line.return_order_line_number}")
        refund_lines.append(
            {
                "returnOrderLineNumber": int(line.return_order_line_number),
                "quantity": {"unitOfMeasure": line.unit_of_measure, "measurementValue": line.quantity},
            }
        )
    return {"customerOrderId": str(customer_order_id), "refundLines": refund_lines}


class Returns:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def iter_all(self, *, limit: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[WalmartReturn]:
        """Every return matching the filters (`return_last_modified_start_date`, `status`, ...). Follows
        `meta.nextCursor` verbatim; a 404 is an empty list; a cursor Walmart hands back again ends the list
        (following it would read the same pages until the task's time limit)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        params: dict[str, Any] = {"limit": limit}
        for name, value in filters.items():
            if name not in _FILTERS:
                raise TypeError(f"unknown return filter {name!r}")
            if name == "status" and value is not None and value not in RETURN_STATUSES:
                raise ValueError(f"status must be one of {sorted(RETURN_STATUSES)}")
            params[_FILTERS[name]] = date_param(value) if isinstance(value, datetime | date) else value
        data = self._requestor.get_or_none("/v3/returns", family="returns.list", params=params)
        seen: set[str] = set()
        while True:
            data = data or {}
            records = data.get("returnOrders") or []
            for record in records:
                yield WalmartReturn.from_api(record)
            cursor = (data.get("meta") or {}).get("nextCursor")
            if not records or not cursor or cursor in seen:
                return  # a cursor seen before would loop forever
            seen.add(cursor)
            data = self._requestor.get_or_none("/v3/returns" + cursor, family="returns.list")

    def refund(
        self, return_order_id: str, customer_order_id: str, *, lines: Iterable[ReturnRefundLine]
    ) -> ReturnRefundResult:
        """Refund return lines (not for WFS or exception categories: those use orders.refund). A write:
        not retried once it may have reached Walmart."""
        body = build_return_refund_body(customer_order_id, lines)
        data = self._requestor.request(
            "POST",
            f"/v3/returns/{path_part(return_order_id)}/refund",
            family="returns.refund",
            retry=Retry.WRITE,
            json_body=body,
        )
        return ReturnRefundResult.from_api(data, return_order_id=return_order_id)
