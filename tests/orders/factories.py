"""Walmart order JSON in Walmart's own shapes (as GET /v3/orders answers), and catalog rows for orders."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from listings.models import Listing, Product
from tests.factories import StoreFactory

ORDER_DATE = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def line_json(
    line_number="1",
    sku="SKU-1",
    quantity=1,
    price="10.00",
    tax="0.80",
    shipping=None,
    statuses=None,
    intent_to_cancel=None,
    status_date=ORDER_DATE,
) -> dict:
    """One order line. `statuses` is a list of (status, quantity[, tracking_number]) tuples; default all
    Created. `price` and `tax` are the line's PRODUCT charge and its tax (totals for the line)."""
    charges = [
        {
            "chargeType": "PRODUCT",
            "chargeName": "ItemPrice",
            "chargeAmount": {"currency": "USD", "amount": float(price)},
            "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": float(tax)}},
        }
    ]
    if shipping is not None:
        charges.append(
            {
                "chargeType": "SHIPPING",
                "chargeName": "Shipping",
                "chargeAmount": {"currency": "USD", "amount": float(shipping)},
                "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": 0}},
            }
        )
    status_list = []
    for entry in statuses or [("Created", quantity)]:
        status = {"status": entry[0], "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(entry[1])}}
        if len(entry) > 2:
            status["trackingInfo"] = {
                "shipDateTime": epoch_ms(ORDER_DATE + timedelta(days=1)),
                "carrierName": {"carrier": "UPS"},
                "methodCode": "Standard",
                "trackingNumber": entry[2],
            }
        if entry[0] == "Cancelled":
            status["cancellationReason"] = "SELLER_CANCEL_OUT_OF_STOCK"
        status_list.append(status)
    line = {
        "lineNumber": str(line_number),
        "item": {"productName": f"Product {sku}", "sku": sku},
        "charges": {"charge": charges},
        "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
        "statusDate": epoch_ms(status_date),
        "orderLineStatuses": {"orderLineStatus": status_list},
    }
    if intent_to_cancel is not None:
        line["intentToCancel"] = intent_to_cancel
    return line


def order_json(po="PO-1", lines=None, order_date=ORDER_DATE, ship_by=None, method_code="Standard") -> dict:
    ship_by = ship_by or order_date + timedelta(days=2)
    return {
        "purchaseOrderId": po,
        "customerOrderId": f"C-{po}",
        "customerEmailId": f"{po.lower()}@relay.walmart.com",
        "orderType": "REGULAR",
        "orderDate": epoch_ms(order_date),
        "shippingInfo": {
            "phone": "5551234567",
            "estimatedDeliveryDate": epoch_ms(ship_by + timedelta(days=3)),
            "estimatedShipDate": epoch_ms(ship_by),
            "methodCode": method_code,
            "postalAddress": {
                "name": "Ada Lovelace",
                "address1": "1 Analytical Way",
                "address2": "Apt 2",
                "city": "Bentonville",
                "state": "AR",
                "postalCode": "72712",
                "country": "USA",
                "addressType": "RESIDENTIAL",
            },
        },
        "orderLines": {"orderLine": lines if lines is not None else [line_json()]},
    }


def orders_page(orders: list[dict], next_cursor: str | None = None) -> dict:
    meta = {"totalCount": len(orders), "limit": 200}
    if next_cursor:
        meta["nextCursor"] = next_cursor
    return {"list": {"meta": meta, "elements": {"order": orders}}}


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda number: f"SKU-{number}")
    name = factory.LazyAttribute(lambda product: f"Product {product.sku}")
    price = Decimal("10.00")
    quantity = 10


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory(ProductFactory)
    status = Listing.Status.MATCH
