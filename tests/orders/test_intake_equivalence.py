"""Intake's exact outcome on a mixed fixture: new orders, updates, cancellations, shipments, repeated purchase
orders, unknown SKUs, an oversell, across several batches of one call.

The expected values (tests/orders/data/intake_equivalence_expected.json) were captured from the
per-product implementation of intake (a `stock_move` per product and batch) on PostgreSQL and SQLite, before
intake became set-based; the set-based intake must produce exactly the same orders, lines, timeline,
status counters, catalog quantities and stock movements. Movements are compared without their `reference`
text (which names the purchase orders of a batch). Regenerate only on purpose:
`INTAKE_EQUIVALENCE_CAPTURE=1 pytest tests/orders/test_intake_equivalence.py`.
"""

import json
import os
from pathlib import Path

import pytest

from inventory.models import StockMovement
from listings.models import Product
from orders.models import Order, OrderEvent, OrderLine, OrderStatusCount
from orders.services import orders_upsert_from_walmart
from tests.orders.factories import ListingFactory, ProductFactory, line_json, order_json
from walmart_client.models import WalmartOrder

pytestmark = pytest.mark.django_db

EXPECTED = Path(__file__).parent / "data" / "intake_equivalence_expected.json"
ORDER_FIELDS = [
    "purchase_order_id",
    "commerce_order_number",
    "customer_order_id",
    "customer_email",
    "order_type",
    "order_date",
    "ship_by",
    "deliver_by",
    "method_code",
    "customer_name",
    "walmart_last_modified",
    "product_total",
    "shipping_total",
    "tax_total",
    "order_total",
    "item_quantity",
    "items_summary",
    "currency",
    "intent_to_cancel",
    "status",
    "status_details",
]
LINE_FIELDS = [
    "order__purchase_order_id",
    "line_number",
    "sku",
    "listing__product__sku",
    "quantity",
    "quantity_created",
    "quantity_acknowledged",
    "quantity_shipped",
    "quantity_delivered",
    "quantity_cancelled",
    "quantity_refunded",
    "unit_price",
    "product_amount",
    "shipping_amount",
    "tax_amount",
    "charges",
    "tracking",
    "intent_to_cancel",
    "status",
    "status_details",
    "stock_reserved",
    "stock_released",
]


def remote(po: str, *lines: dict) -> WalmartOrder:
    return WalmartOrder.from_api(order_json(po, lines=list(lines)))


def line(number: int, sku: str, quantity: int, statuses=None, intent_to_cancel=None) -> dict:
    return line_json(
        str(number), sku, quantity, price=f"{quantity * 10}.00", statuses=statuses, intent_to_cancel=intent_to_cancel
    )


def batches() -> list[list[WalmartOrder]]:
    """Three polls' worth of Walmart's answers."""
    return [
        [
            remote("PO-1", line(1, "SKU-A", 2), line(2, "SKU-B", 1)),
            remote("PO-2", line(1, "SKU-A", 3)),
            remote("PO-3", line(1, "SKU-NOPE", 1), line(2, "SKU-B", 2)),
            remote("PO-4", line(1, "SKU-C", 5)),  # only 3 of SKU-C in stock: an oversell
            remote("PO-2", line(1, "SKU-A", 3)),  # repeated in the same answer
            remote("PO-7", line(1, "SKU-D", 1), line(2, "SKU-A", 1)),
        ],
        [
            remote("PO-1", line(1, "SKU-A", 2, [("Cancelled", 2)]), line(2, "SKU-B", 1, [("Shipped", 1, "1Z1")])),
            remote("PO-2", line(1, "SKU-A", 3)),  # unchanged
            remote("PO-5", line(1, "SKU-A", 1), line(2, "SKU-D", 2)),  # new, next to a release of SKU-A
            remote("PO-4", line(1, "SKU-C", 5, [("Created", 4), ("Cancelled", 1)])),
            remote("PO-7", line(1, "SKU-D", 1, [("Acknowledged", 1)]), line(2, "SKU-A", 1, [("Acknowledged", 1)])),
        ],
        [
            remote("PO-1", line(1, "SKU-A", 2, [("Cancelled", 2)]), line(2, "SKU-B", 1, [("Shipped", 1, "1Z1")])),
            remote("PO-2", line(1, "SKU-A", 3, [("Shipped", 2, "1Z2"), ("Cancelled", 1)])),
            remote("PO-3", line(1, "SKU-NOPE", 1, [("Cancelled", 1)]), line(2, "SKU-B", 2, [("Cancelled", 2)])),
            remote("PO-6", line(1, "SKU-B", 1, intent_to_cancel="Y")),
            remote("PO-4", line(1, "SKU-C", 5, [("Delivered", 3), ("Cancelled", 2)])),
            remote(
                "PO-5",
                line(1, "SKU-A", 1, [("Cancelled", 1)]),
                line(2, "SKU-D", 2, [("Shipped", 1, "1Z5"), ("Created", 1)]),
            ),
            remote("PO-5", line(1, "SKU-A", 1, [("Cancelled", 1)]), line(2, "SKU-D", 2, [("Shipped", 2, "1Z5")])),
        ],
    ]


def jsonable(value):
    return json.loads(json.dumps(value, default=str))


def snapshot(store, results) -> dict:
    by_pk = dict(Order.objects.values_list("pk", "purchase_order_id"))
    movements = sorted(
        StockMovement.objects.values_list("product__sku", "reason", "delta", "quantity_after", "shortfall", "actor")
    )
    return jsonable(
        {
            "results": [
                {
                    name: sorted(by_pk[pk] for pk in getattr(result, name))
                    for name in ("created", "updated", "unchanged")
                }
                for result in results
            ],
            "orders": list(Order.objects.filter(store=store).order_by("purchase_order_id").values(*ORDER_FIELDS)),
            "lines": list(
                OrderLine.objects.filter(order__store=store)
                .order_by("order__purchase_order_id", "line_number")
                .values(*LINE_FIELDS)
            ),
            "events": sorted(OrderEvent.objects.values_list("order__purchase_order_id", "actor", "message")),
            "status_counts": dict(
                OrderStatusCount.objects.filter(store=store, count__gt=0)
                .order_by("status")
                .values_list("status", "count")
            ),
            "quantities": dict(Product.objects.order_by("sku").values_list("sku", "quantity")),
            "movements": movements,
        }
    )


def test_intake_of_a_mixed_fixture_gives_exactly_the_captured_rows(store, settings):
    # given: four listed products (SKU-C with only 3 units); batches of 2 orders per transaction
    settings.ORDERS_UPSERT_BATCH_SIZE = 2
    for sku, quantity in (("SKU-A", 20), ("SKU-B", 10), ("SKU-C", 3), ("SKU-D", 7)):
        ListingFactory(store=store, product=ProductFactory(sku=sku, quantity=quantity))
    # when: three polls' answers are taken in
    results = [orders_upsert_from_walmart(store=store, remotes=answer, actor="schedule") for answer in batches()]
    # then: exactly the captured rows
    observed = snapshot(store, results)
    if os.environ.get("INTAKE_EQUIVALENCE_CAPTURE"):
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(json.dumps(observed, indent=1, sort_keys=True) + "\n")
    expected = json.loads(EXPECTED.read_text())
    for key in expected:
        assert observed[key] == expected[key], key
