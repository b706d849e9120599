"""Walmart return JSON in Walmart's own shapes (as GET /v3/returns answers), and helpers to store the
purchase order a return belongs to."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orders.services import order_upsert_from_walmart
from tests.orders.factories import line_json, order_json
from walmart_client.models import WalmartOrder

REQUESTED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def return_line_json(
    number=1,
    sku="SKU-1",
    quantity=2,
    unit_price="10.00",
    unit_tax="0.80",
    refunded=0,
    po="PO-1",
    po_line=1,
    refund_channel=None,
    exception_type=None,
) -> dict:
    """One return line: `quantity` units returned at `unit_price` + `unit_tax` per unit, `refunded` of them
    already refunded by Walmart."""
    tracking = []
    if refunded:
        tracking.append(
            {
                "status": "COMPLETED",
                "statusTime": iso(REQUESTED + timedelta(hours=1)),
                "currentRefundStatus": "REFUND_COMPLETED",
                "quantity": {"unitOfMeasure": "EACH", "measurementValue": refunded},
            }
        )
    if quantity - refunded:
        tracking.append(
            {
                "status": "INITIATED",
                "statusTime": iso(REQUESTED),
                "currentRefundStatus": "REFUND_PENDING",
                "quantity": {"unitOfMeasure": "EACH", "measurementValue": quantity - refunded},
            }
        )
    line = {
        "returnOrderLineNumber": number,
        "salesOrderLineNumber": po_line,
        "sellerOrderId": "WM00000001",
        "returnReason": "DEFECTIVE",
        "purchaseOrderId": po,
        "purchaseOrderLineNumber": po_line,
        "isReturnForException": exception_type is not None,
        "item": {"sku": sku, "condition": "New", "productName": f"Product {sku}"},
        "charges": [
            {
                "chargeCategory": "PRODUCT",
                "chargeName": "ItemPrice",
                "chargePerUnit": {"currencyAmount": float(unit_price), "currencyUnit": "USD"},
                "isDiscount": False,
                "isBillable": True,
                "tax": [{"taxName": "Tax1", "taxPerUnit": {"currencyAmount": float(unit_tax), "currencyUnit": "USD"}}],
            }
        ],
        "unitPrice": {"currencyAmount": float(unit_price), "currencyUnit": "USD"},
        "quantity": {"unitOfMeasure": "EACH", "measurementValue": quantity},
        "isKeepIt": False,
        "refundedQty": refunded,
        "currentTrackingStatuses": tracking,
    }
    if refund_channel:
        line["refundChannel"] = refund_channel
    if exception_type:
        line["exceptionItemType"] = exception_type
    return line


def return_json(rma="RMA-1", customer_order_id="C-PO-1", lines=None, requested=REQUESTED) -> dict:
    lines = lines if lines is not None else [return_line_json()]
    return {
        "returnOrderId": rma,
        "customerEmailId": "buyer@relay.walmart.com",
        "returnType": "REFUND",
        "customerName": {"firstName": "Ada", "lastName": "Lovelace"},
        "customerOrderId": customer_order_id,
        "returnOrderDate": iso(requested),
        "returnByDate": iso(requested + timedelta(days=30)),
        "refundMode": "ONLINE",
        "totalRefundAmount": {"currencyAmount": 21.6, "currencyUnit": "USD"},
        "returnOrderLines": lines,
        "returnChannel": {"channelName": "ONLINE"},
    }


def returns_page(returns: list[dict], next_cursor: str | None = None) -> dict:
    meta = {"totalCount": len(returns), "limit": 200}
    if next_cursor:
        meta["nextCursor"] = next_cursor
    return {"meta": meta, "returnOrders": returns}


def shipped_order(store, po="PO-1", quantity=2, sku="SKU-1", price="20.00", tax="1.60"):
    """Store purchase order `po`: one line of `quantity` units of `sku`, all shipped."""
    remote = WalmartOrder.from_api(
        order_json(
            po,
            lines=[
                line_json(sku=sku, quantity=quantity, price=price, tax=tax, statuses=[("Shipped", quantity, "1Z-1")])
            ],
        )
    )
    order, _ = order_upsert_from_walmart(store=store, remote=remote, actor="schedule")
    return order


def ship_body(order) -> dict:
    """The emulator's ship request for every unit of a one-line emulator order."""
    line = order.lines.get()
    status = {
        "status": "Shipped",
        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(line.quantity)},
        "trackingInfo": {
            "shipDateTime": int(order.order_date.timestamp() * 1000),
            "carrierName": {"carrier": "UPS"},
            "methodCode": "Standard",
            "trackingNumber": "1Z999AA10123456784",
        },
    }
    order_line = {
        "lineNumber": str(line.line_number),
        "sellerOrderId": "WM00000001",
        "orderLineStatuses": {"orderLineStatus": [status]},
    }
    return {"orderShipment": {"orderLines": {"orderLine": [order_line]}}}


def emulated_return(store, *, secret: str):
    """In the emulator: a seller with `store`'s keys sells 2 x MUG-1 at 12.00 (tax 0.99 each) and ships
    them; our order desk stores the order; the customer returns both. MUG-1 is in our catalog with 5
    units. Returns (store, seller, emulator order, emulator return, product)."""
    from orders.services import order_poll
    from tests.orders.factories import ProductFactory
    from walmart_emulator import orders as emulator_orders
    from walmart_emulator import services as emulator

    seller = emulator.seller_create(name=f"seller of {store.name}", client_id=store.client_id, client_secret=secret)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="MUG-1", catalog_item=item, price=Decimal("12.00"), quantity=10)
    product = ProductFactory(sku="MUG-1", quantity=5)
    placed = emulator.order_simulate(seller=seller, lines=[("MUG-1", 2)], method_code="Standard")
    emulator_orders.order_acknowledge(seller=seller, purchase_order_id=placed.purchase_order_id)
    emulator_orders.order_ship(seller=seller, purchase_order_id=placed.purchase_order_id, body=ship_body(placed))
    order_poll(store=store)
    rma = emulator.return_simulate(seller=seller, purchase_order_id=placed.purchase_order_id, quantity=2)
    return store, seller, placed, rma, product
