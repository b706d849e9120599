"""Emulated Walmart endpoints: orders, returns, webhook subscriptions.

Where a spec's schema and its own example disagree, the emulator answers like the example (what
Walmart sends), in a way that still validates against the schema: GET /v3/orders/{po} is
`{"order": {...}}`; webhook subscriptions are `{"events": [...]}` for create and list, and the bare
subscription for PATCH.

Order lists answer 404 CONTENT_NOT_FOUND when nothing matches (as Walmart does) and page with a
`nextCursor` that is a complete query string (`?limit=..&hasMoreElements=true&soIndex=..&poIndex=..&...`)
to append to the same path verbatim. Pages are keyed on the last order shown, so orders arriving
between pages never shift a page. Returns page the same way with `?...&offset=`; an empty list is 200.
"""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.utils.dateparse import parse_date, parse_datetime

from walmart_emulator import orders as order_services
from walmart_emulator import returns as return_services
from walmart_emulator import webhooks as webhook_services
from walmart_emulator.errors import EmulatorError, not_found
from walmart_emulator.http import EmulatorRequest, json_body, walmart_endpoint
from walmart_emulator.models import LineStatus, Order, ReturnOrder, Seller
from walmart_emulator.views import int_param

ORDER_FILTERS = (
    "sku",
    "customerOrderId",
    "purchaseOrderId",
    "status",
    "createdStartDate",
    "createdEndDate",
    "fromExpectedShipDate",
    "toExpectedShipDate",
    "lastModifiedStartDate",
    "lastModifiedEndDate",
    "productInfo",
    "shipNodeType",
    "shippingProgramType",
    "replacementInfo",
    "orderType",
)
ORDER_STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled")


def date_param(request: EmulatorRequest, name: str, *, api: str = "GMP_ORDER_API") -> datetime | None:
    """yyyy-MM-dd, an ISO datetime (naive = UTC) or epoch milliseconds. Raises EmulatorError when malformed."""
    raw = request.GET.get(name)
    if not raw:
        return None
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    value = parse_datetime(raw.replace(" ", "+"))
    if value is None:
        day = parse_date(raw)
        if day is None:
            raise EmulatorError(f"{name} '{raw}' is not a valid date.", field=name, code=f"INVALID_REQUEST_PARAM.{api}")
        value = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _orders_page(request: EmulatorRequest, seller: Seller, *, released: bool):
    now = request.emulator_now
    order_services.orders_auto_cancel_due(now=now)
    limit = int_param(request, "limit", 100, minimum=1, maximum=200, api="GMP_ORDER_API")
    created_start = date_param(request, "createdStartDate") or now - timedelta(days=7)
    created_start = max(created_start, now - timedelta(days=180))
    queryset = Order.objects.filter(seller=seller, order_date__gte=created_start)
    ranges = (
        ("createdEndDate", "order_date__lte"),
        ("lastModifiedStartDate", "last_modified__gte"),
        ("lastModifiedEndDate", "last_modified__lte"),
        ("fromExpectedShipDate", "estimated_ship_date__gte"),
        ("toExpectedShipDate", "estimated_ship_date__lte"),
    )
    for name, lookup in ranges:
        value = date_param(request, name)
        if value is not None:
            queryset = queryset.filter(**{lookup: value})
    for name, lookup in (("purchaseOrderId", "purchase_order_id"), ("customerOrderId", "customer_order_id")):
        if request.GET.get(name):
            queryset = queryset.filter(**{lookup: request.GET[name]})
    if request.GET.get("sku"):
        queryset = queryset.filter(lines__sku=request.GET["sku"])
    status = request.GET.get("status")
    if released:
        status = LineStatus.Status.CREATED
    if status:
        if status not in ORDER_STATUSES:
            raise EmulatorError(
                f"status '{status}' is invalid.", field="status", code="INVALID_REQUEST_PARAM.GMP_ORDER_API"
            )
        queryset = queryset.filter(Q(lines__statuses__status=status))
    if request.GET.get("sku") or status:
        queryset = queryset.distinct()
    total = queryset.values("pk").count()
    page_queryset = queryset
    if request.GET.get("poIndex"):
        try:
            page_queryset = queryset.filter(pk__lt=int(request.GET["poIndex"]))
        except ValueError as error:
            raise EmulatorError(
                "poIndex is invalid.", field="nextCursor", code="INVALID_REQUEST_PARAM.GMP_ORDER_API"
            ) from error
    page_ids = list(page_queryset.order_by("-pk").values_list("pk", flat=True)[: limit + 1])
    if not page_ids:
        raise not_found("No orders found for the given search criteria.", field="createdStartDate")
    # Ids first (an index walk), then only the page's snapshots: sorting wide rows would read them all.
    snapshots = dict(Order.objects.filter(pk__in=page_ids[:limit]).values_list("pk", Cast("snapshot", TextField())))
    meta: dict[str, int | str] = {"totalCount": total, "limit": limit}
    if len(page_ids) > limit:
        shown = int(request.GET.get("soIndex", 0) or 0) + limit
        params = {
            "limit": limit,
            "hasMoreElements": "true",
            "soIndex": shown,
            "poIndex": page_ids[limit - 1],
            "partnerId": seller.partner_id,
            "createdStartDate": created_start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        for name in ORDER_FILTERS:
            if name != "createdStartDate" and request.GET.get(name):
                params[name] = request.GET[name]
        meta["nextCursor"] = "?" + urlencode(params)
    # The stored snapshots are already Walmart's JSON: splice them in rather than decode and re-encode.
    orders_json = ",".join(snapshots[pk] for pk in page_ids[:limit])
    body = '{"list":{"meta":' + json.dumps(meta) + ',"elements":{"order":[' + orders_json + "]}}}"
    return HttpResponse(body, content_type="application/json")


@walmart_endpoint("orders_read")
def orders(request: EmulatorRequest, seller: Seller):
    """GET /v3/orders."""
    return _orders_page(request, seller, released=False)


@walmart_endpoint("orders_read")
def orders_released(request: EmulatorRequest, seller: Seller):
    """GET /v3/orders/released: orders with quantity still Created (not acknowledged)."""
    return _orders_page(request, seller, released=True)


@walmart_endpoint("orders_read")
def order_detail(request: EmulatorRequest, seller: Seller, purchase_order_id: str):
    """GET /v3/orders/{purchaseOrderId} -> {"order": {...}} (the shape of Walmart's example)."""
    order_services.orders_auto_cancel_due(now=request.emulator_now)
    table = connection.ops.quote_name(Order._meta.db_table)
    column = "snapshot::text" if connection.vendor == "postgresql" else "snapshot"
    with connection.cursor() as cursor:  # raw SQL: the hottest read of the emulator
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE seller_id = %s AND purchase_order_id = %s",  # noqa: S608
            [seller.pk, purchase_order_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise not_found(f"Purchase order '{purchase_order_id}' was not found.", field="purchaseOrderId")
    # The stored snapshot is already Walmart's JSON: splice it in rather than decode and re-encode.
    return HttpResponse('{"order":' + row[0] + "}", content_type="application/json")


@walmart_endpoint("orders_acknowledge", methods=("POST",))
def order_acknowledge(request: EmulatorRequest, seller: Seller, purchase_order_id: str):
    """POST /v3/orders/{purchaseOrderId}/acknowledge (no body)."""
    order = order_services.order_acknowledge(
        seller=seller, purchase_order_id=purchase_order_id, now=request.emulator_now
    )
    return {"order": order.snapshot}


@walmart_endpoint("orders_ship", methods=("POST",))
def order_ship(request: EmulatorRequest, seller: Seller, purchase_order_id: str):
    """POST /v3/orders/{purchaseOrderId}/shipping."""
    body = json_body(request)
    order = order_services.order_ship(
        seller=seller, purchase_order_id=purchase_order_id, body=body, now=request.emulator_now
    )
    return {"order": order.snapshot}


@walmart_endpoint("orders_cancel", methods=("POST",))
def order_cancel(request: EmulatorRequest, seller: Seller, purchase_order_id: str):
    """POST /v3/orders/{purchaseOrderId}/cancel."""
    body = json_body(request)
    order = order_services.order_cancel(
        seller=seller, purchase_order_id=purchase_order_id, body=body, now=request.emulator_now
    )
    return {"order": order.snapshot}


@walmart_endpoint("orders_refund", methods=("POST",))
def order_refund(request: EmulatorRequest, seller: Seller, purchase_order_id: str):
    """POST /v3/orders/{purchaseOrderId}/refund."""
    body = json_body(request)
    order = order_services.order_refund(
        seller=seller, purchase_order_id=purchase_order_id, body=body, now=request.emulator_now
    )
    return {"order": order.snapshot}


# --- returns --------------------------------------------------------------------------------------


@walmart_endpoint("returns_read")
def returns(request: EmulatorRequest, seller: Seller):
    """GET /v3/returns (limit <= 200, default 10; nextCursor `?...&offset=N`)."""
    api = "GMP_RETURNS_API"
    return_services.returns_auto_refund_due(now=request.emulator_now)
    limit = int_param(request, "limit", 10, minimum=1, maximum=200, api=api)
    offset = int_param(request, "offset", 0, api=api)
    queryset = ReturnOrder.objects.filter(seller=seller)
    for name, lookup in (
        ("returnOrderId", "return_order_id"),
        ("customerOrderId", "customer_order_id"),
        ("status", "status"),
    ):
        if request.GET.get(name):
            queryset = queryset.filter(**{lookup: request.GET[name]})
    if request.GET.get("status") and request.GET["status"] not in ReturnOrder.Status.values:
        raise EmulatorError(
            "status must be INITIATED, DELIVERED or COMPLETED.", field="status", code=f"INVALID_REQUEST_PARAM.{api}"
        )
    ranges = (
        ("returnCreationStartDate", "return_order_date__gte"),
        ("returnCreationEndDate", "return_order_date__lte"),
        ("returnLastModifiedStartDate", "last_modified__gte"),
        ("returnLastModifiedEndDate", "last_modified__lte"),
    )
    for name, lookup in ranges:
        value = date_param(request, name, api=api)
        if value is not None:
            queryset = queryset.filter(**{lookup: value})
    total = queryset.count()
    page = list(
        return_services.return_queryset().filter(pk__in=queryset.values("pk")).order_by("pk")[offset : offset + limit]
    )
    next_cursor = ""
    if offset + limit < total:
        params = {name: request.GET[name] for name in request.GET if name not in ("limit", "offset")}
        next_cursor = "?" + urlencode({**params, "limit": limit, "offset": offset + limit})
    return {
        "meta": {"totalCount": total, "limit": limit, "nextCursor": next_cursor},
        "returnOrders": [return_services.return_json(return_order) for return_order in page],
    }


@walmart_endpoint("returns_refund", methods=("POST",))
def return_refund(request: EmulatorRequest, seller: Seller, return_order_id: str):
    """POST /v3/returns/{returnOrderId}/refund -> echoes the refunded lines."""
    body = json_body(request, api="GMP_RETURNS_API")
    return_services.return_refund(seller=seller, return_order_id=return_order_id, body=body)
    return {
        "returnOrderId": return_order_id,
        "customerOrderId": body["customerOrderId"],
        "refundLines": body["refundLines"],
    }


# --- webhooks -------------------------------------------------------------------------------------


@walmart_endpoint("webhooks", methods=("GET", "POST"))
def subscriptions(request: EmulatorRequest, seller: Seller):
    """GET / POST /v3/webhooks/subscriptions."""
    if request.method == "POST":
        created = webhook_services.subscriptions_create(
            seller=seller, body=json_body(request, api="GMP_NOTIFICATION_API")
        )
        return {"events": [webhook_services.subscription_json(subscription) for subscription in created]}
    queryset = seller.subscriptions.select_related("seller").order_by("pk")
    for name, lookup in (
        ("subscriptionId", "subscription_id"),
        ("eventType", "event_type"),
        ("resourceName", "resource_name"),
        ("status", "status"),
    ):
        if request.GET.get(name):
            queryset = queryset.filter(**{lookup: request.GET[name]})
    return {"events": [webhook_services.subscription_json(subscription) for subscription in queryset]}


@walmart_endpoint("webhooks", methods=("PATCH", "DELETE"))
def subscription_detail(request: EmulatorRequest, seller: Seller, subscription_id: str):
    """PATCH / DELETE /v3/webhooks/subscriptions/{subscriptionId}."""
    if request.method == "PATCH":
        subscription = webhook_services.subscription_update(
            seller=seller, subscription_id=subscription_id, body=json_body(request, api="GMP_NOTIFICATION_API")
        )
        return webhook_services.subscription_json(subscription)
    webhook_services.subscription_delete(seller=seller, subscription_id=subscription_id)
    return {"subscriptionId": subscription_id, "message": "Subscription deleted successfully"}


@walmart_endpoint("webhooks")
def event_types(request: EmulatorRequest, seller: Seller):
    """GET /v3/webhooks/eventTypes."""
    return {
        "eventTypes": [
            {"resourceName": resource, "eventType": event_type, "eventVersion": version, "description": text}
            for resource, event_type, version, text in webhook_services.EVENT_TYPES
        ]
    }


@walmart_endpoint("webhooks", methods=("POST",))
def webhook_test(request: EmulatorRequest, seller: Seller):
    """POST /v3/webhooks/test."""
    return webhook_services.webhook_test(seller=seller, body=json_body(request, api="GMP_NOTIFICATION_API"))
