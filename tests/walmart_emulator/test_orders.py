"""Orders: the customer simulator, reads with cursors, and Walmart's rules for ack / ship / cancel / refund."""

import random
from decimal import Decimal

import pytest

from tests.walmart_emulator.factories import cancel_body, published_offer, refund_body, ship_body, ship_line
from tests.walmart_emulator.spec import assert_matches_spec, assert_valid, requires_specs, schema_at
from walmart_emulator import services
from walmart_emulator.clock import emulator_now, epoch_ms
from walmart_emulator.models import LineRefund, LineStatus, Offer, Order
from walmart_emulator.orders import OrderSimulationError

pytestmark = pytest.mark.django_db
LIST_ORDER = ("list", "elements", "order", "[]")


def statuses(order: Order, line_number: int = 1) -> list[tuple]:
    return list(
        LineStatus.objects.filter(line__order=order, line__line_number=line_number)
        .order_by("pk")
        .values_list("status", "quantity", "tracking_number", "cancellation_reason")
    )


@pytest.fixture
def order(seller):
    published_offer(seller, "SKU-1", index=1, quantity=10, price="10.00")
    published_offer(seller, "SKU-2", index=2, quantity=5, price="4.50")
    return services.order_simulate(seller=seller, lines=[("SKU-1", 3), ("SKU-2", 1)], method_code="Standard")


def stock(sku: str) -> tuple[int, int, int]:
    """(inputQty, reservedQty, availToSellQty) of an offer."""
    offer = Offer.objects.get(sku=sku)
    return offer.quantity, offer.reserved_quantity, offer.available_to_sell


def test_simulated_order_has_lines_charges_tax_and_reserves_walmart_stock(seller, order):
    assert [(line.line_number, line.sku, line.quantity) for line in order.lines.all()] == [
        (1, "SKU-1", 3),
        (2, "SKU-2", 1),
    ]
    first = order.lines.get(line_number=1)
    assert (first.product_amount, first.product_tax) == (Decimal("30.00"), Decimal("2.48"))
    assert stock("SKU-1") == (10, 3, 7)
    assert stock("SKU-2") == (5, 1, 4)
    assert statuses(order) == [("Created", 3, "", "")]
    assert order.postal_address["country"] == "USA"
    assert order.estimated_ship_date > order.order_date


def test_simulator_refuses_more_than_available_to_sell_and_writes_nothing(seller):
    published_offer(seller, "SKU-1", quantity=2)
    with pytest.raises(OrderSimulationError, match="has 2 available to sell; 3 ordered"):
        services.order_simulate(seller=seller, lines=[("SKU-1", 3)])
    assert not Order.objects.exists()
    assert stock("SKU-1") == (2, 0, 2)


def test_random_orders_only_use_published_offers_with_stock(seller):
    published_offer(seller, "SKU-1", index=1, quantity=4)
    published_offer(seller, "SKU-0", index=2, quantity=0)
    published_offer(seller, "SKU-S", index=3, quantity=9, published_status="STAGE")
    placed = services.orders_simulate(seller=seller, count=10, rng=random.Random(3))
    skus = {line.sku for order in placed for line in order.lines.all()}
    assert skus == {"SKU-1"}
    assert sum(line.quantity for order in placed for line in order.lines.all()) == 4
    assert stock("SKU-1") == (4, 4, 0)


@requires_specs
def test_order_list_matches_spec_and_pages_by_verbatim_cursor(wm, seller):
    published_offer(seller, "SKU-1", quantity=50)
    placed = [services.order_simulate(seller=seller, lines=[("SKU-1", 1)]) for _ in range(5)]
    seen, path = [], "/v3/orders?limit=2"
    assert wm.get("/v3/orders", {"limit": 2}).json()["list"]["meta"]["totalCount"] == 5
    while True:
        response = wm.client.get("/walmart-emulator" + path, headers=wm.headers())
        body = response.json()
        assert_matches_spec("orders", "/v3/orders", "get", "200", body)
        seen += [order["purchaseOrderId"] for order in body["list"]["elements"]["order"]]
        cursor = body["list"]["meta"].get("nextCursor")
        if not cursor:
            break
        assert cursor.startswith("?limit=2&hasMoreElements=true")
        path = "/v3/orders" + cursor
        # an order placed between pages never shifts the next page
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    assert seen == [order.purchase_order_id for order in reversed(placed)]


def test_empty_order_list_is_404_content_not_found(wm, seller):
    response = wm.get("/v3/orders")
    assert response.status_code == 404
    error = response.json()["errors"]["error"][0]
    assert (error["code"], error["severity"]) == ("CONTENT_NOT_FOUND.GMP_ORDER_API", "INFO")


def test_order_list_limit_above_200_is_400(wm, order):
    assert wm.get("/v3/orders", {"limit": 201}).status_code == 400


def test_order_list_filters(wm, seller, order):
    other = services.order_simulate(seller=seller, lines=[("SKU-2", 1)])
    wm.post(f"/v3/orders/{order.purchase_order_id}/acknowledge")
    by_status = wm.get("/v3/orders", {"status": "Acknowledged"}).json()["list"]["elements"]["order"]
    assert [found["purchaseOrderId"] for found in by_status] == [order.purchase_order_id]
    by_sku = wm.get("/v3/orders", {"sku": "SKU-2"}).json()["list"]["elements"]["order"]
    assert {found["purchaseOrderId"] for found in by_sku} == {order.purchase_order_id, other.purchase_order_id}
    released = wm.get("/v3/orders/released").json()["list"]["elements"]["order"]
    assert [found["purchaseOrderId"] for found in released] == [other.purchase_order_id]
    assert wm.get("/v3/orders", {"createdStartDate": "2999-01-01"}).status_code == 404
    assert wm.get("/v3/orders", {"createdStartDate": "yesterday"}).status_code == 400


@requires_specs
def test_get_one_order(wm, order):
    response = wm.get(f"/v3/orders/{order.purchase_order_id}")
    assert response.status_code == 200
    body = response.json()
    # The spec's getAnOrder schema contradicts its own example ({"order": {...}}, epoch orderDate); the
    # emulator answers like the example, and the order inside matches the order schema of the list.
    assert_valid(schema_at("orders", "/v3/orders", "get", "200", *LIST_ORDER), body["order"])
    line = body["order"]["orderLines"]["orderLine"][0]
    assert line["charges"]["charge"][0]["chargeAmount"] == {"currency": "USD", "amount": 30.0}
    assert line["orderLineQuantity"] == {"unitOfMeasurement": "EACH", "amount": "3"}
    assert wm.get("/v3/orders/0000000000000").status_code == 404


@requires_specs
def test_acknowledge_then_ship_partially_then_the_rest(wm, order):
    po = order.purchase_order_id
    response = wm.post(f"/v3/orders/{po}/acknowledge")
    assert_matches_spec("orders", "/v3/orders/{purchaseOrderId}/acknowledge", "post", "200", response.json())
    assert statuses(order) == [("Acknowledged", 3, "", "")]
    response = wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 2, tracking="T-1")))
    assert response.status_code == 200
    assert_matches_spec("orders", "/v3/orders/{purchaseOrderId}/shipping", "post", "200", response.json())
    assert statuses(order) == [("Acknowledged", 1, "", ""), ("Shipped", 2, "T-1", "")]
    line_json = response.json()["order"]["orderLines"]["orderLine"][0]
    assert line_json["orderLineStatuses"]["orderLineStatus"][1]["trackingInfo"]["carrierName"] == {"carrier": "UPS"}
    assert line_json["sellerOrderId"] == "SO-1"
    wm.post(
        f"/v3/orders/{po}/shipping",
        ship_body(ship_line(1, 1, tracking="T-2", carrier=None, other="Acme Post", url="https://t.example/2")),
    )
    assert statuses(order) == [("Shipped", 2, "T-1", ""), ("Shipped", 1, "T-2", "")]


def test_ship_before_acknowledge_is_refused(wm, order):
    response = wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 1)))
    assert response.status_code == 400
    assert (
        response.json()["errors"]["error"][0]["description"]
        == "Line number 1 must be acknowledged before it can be shipped."
    )
    assert statuses(order) == [("Created", 3, "", "")]


@pytest.mark.parametrize(
    ("line", "field", "description"),
    [
        (
            ship_line(1, 4),
            "statusQuantity",
            "Quantity 4 exceeds the quantity that can be shipped (3) in line number 1.",
        ),
        (
            ship_line(1, 1, carrier="Pony Express"),
            "carrier",
            "Carrier 'Pony Express' is not supported in line number 1.",
        ),
        (
            ship_line(1, 1, carrier=None, other="Acme Post"),
            "trackingURL",
            "trackingURL is required with otherCarrier in line number 1.",
        ),
        (ship_line(1, 1, seller_order_id=None), "sellerOrderId", "sellerOrderId is required in line number 1."),
        (ship_line(1, 1, method="Ground"), "methodCode", "Method code is not supported in line number 1"),
        (ship_line(9, 1), "lineNumber", None),
        (ship_line(1, 0), "statusQuantity.amount", None),
    ],
)
def test_ship_rules_refuse_and_change_nothing(wm, order, line, field, description):
    wm.post(f"/v3/orders/{order.purchase_order_id}/acknowledge")
    response = wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(line))
    assert response.status_code == 400
    error = response.json()["errors"]["error"][0]
    assert (error["field"], error["category"], error["code"]) == (
        field,
        "DATA",
        "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
    )
    if description:
        assert error["description"] == description
    assert statuses(order) == [("Acknowledged", 3, "", "")]


def test_second_identical_shipment_is_refused(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    assert wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 1, tracking="T-1"))).status_code == 200
    response = wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 1, tracking="T-1")))
    assert response.status_code == 400
    assert (
        response.json()["errors"]["error"][0]["description"]
        == "Line number 1 is already shipped with tracking number 'T-1'."
    )
    assert statuses(order) == [("Acknowledged", 2, "", ""), ("Shipped", 1, "T-1", "")]


def test_one_bad_line_refuses_the_whole_shipment(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    response = wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(2, 1), ship_line(1, 1, carrier="Nope")))
    assert response.status_code == 400
    assert statuses(order, 2) == [("Acknowledged", 1, "", "")]
    assert statuses(order, 1) == [("Acknowledged", 3, "", "")]


def test_cancelled_quantity_cannot_be_shipped(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    assert wm.post(f"/v3/orders/{po}/cancel", cancel_body(1, 2)).status_code == 200
    response = wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 2)))
    assert response.status_code == 400
    assert statuses(order) == [("Acknowledged", 1, "", ""), ("Cancelled", 2, "", "SELLER_CANCEL_OUT_OF_STOCK")]


@requires_specs
def test_cancel_open_quantity_but_never_shipped_quantity(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 2, tracking="T-1")))
    response = wm.post(f"/v3/orders/{po}/cancel", cancel_body(1, 2))
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["description"] == (
        "Quantity 2 cannot be cancelled in line number 1: only 1 is open (2 already shipped)."
    )
    response = wm.post(f"/v3/orders/{po}/cancel", cancel_body(1, 1))
    assert response.status_code == 200
    assert_matches_spec("orders", "/v3/orders/{purchaseOrderId}/cancel", "post", "200", response.json())
    assert statuses(order) == [("Shipped", 2, "T-1", ""), ("Cancelled", 1, "", "SELLER_CANCEL_OUT_OF_STOCK")]
    assert Order.objects.get(pk=order.pk).is_open is True  # line 2 still open


def test_cancel_reason_rules(wm, order):
    po = order.purchase_order_id
    assert wm.post(f"/v3/orders/{po}/cancel", cancel_body(1, 1, reason="BECAUSE")).status_code == 400
    response = wm.post(f"/v3/orders/{po}/cancel", cancel_body(1, 1, reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL"))
    assert response.status_code == 400
    assert statuses(order) == [("Created", 3, "", "")]
    services.order_intent_to_cancel(seller=order.seller, purchase_order_id=po)
    assert (
        wm.post(f"/v3/orders/{po}/cancel", cancel_body(1, 3, reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL")).status_code
        == 200
    )
    assert statuses(order) == [("Cancelled", 3, "", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL")]


def test_acknowledge_is_repeatable_but_not_on_a_fully_cancelled_order(wm, order):
    po = order.purchase_order_id
    assert wm.post(f"/v3/orders/{po}/acknowledge").status_code == 200
    assert wm.post(f"/v3/orders/{po}/acknowledge").status_code == 200
    wm.post(f"/v3/orders/{po}/cancel", cancel_body(1, 3))
    wm.post(f"/v3/orders/{po}/cancel", cancel_body(2, 1))
    response = wm.post(f"/v3/orders/{po}/acknowledge")
    assert response.status_code == 400
    assert Order.objects.get(pk=order.pk).is_open is False


def test_intent_to_cancel_requires_override_to_ship(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    services.order_intent_to_cancel(seller=order.seller, purchase_order_id=po, line_numbers=[1])
    body = wm.get(f"/v3/orders/{po}").json()
    assert body["order"]["orderLines"]["orderLine"][0]["intentToCancel"] == "true"
    assert wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 1))).status_code == 400
    assert (
        wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 1, intentToCancelOverride=True))).status_code == 200
    )


def test_tracking_correction_within_four_hours_only(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 3, tracking="WRONG")))
    fix = ship_line(1, 3, tracking="RIGHT")
    fix["orderLineStatuses"]["orderLineStatus"][0]["currentTrackingInfo"] = {"trackingNumber": "WRONG"}
    assert wm.post(f"/v3/orders/{po}/shipping", ship_body(fix, process_mode="PARTIAL_UPDATE")).status_code == 200
    assert statuses(order) == [("Shipped", 3, "RIGHT", "")]
    services.clock_advance(seconds=4 * 3600 + 1)
    again = ship_line(1, 3, tracking="AGAIN")
    again["orderLineStatuses"]["orderLineStatus"][0]["currentTrackingInfo"] = {"trackingNumber": "RIGHT"}
    assert wm.post(f"/v3/orders/{po}/shipping", ship_body(again, process_mode="PARTIAL_UPDATE")).status_code == 400
    assert statuses(order) == [("Shipped", 3, "RIGHT", "")]


@pytest.fixture
def shipped(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 2, tracking="T-1")))
    return order


@requires_specs
def test_partial_refund_of_a_shipped_line(wm, shipped):
    po = shipped.purchase_order_id
    response = wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, -5.00, -0.41))
    assert response.status_code == 200
    assert_matches_spec("orders", "/v3/orders/{purchaseOrderId}/refund", "post", "200", response.json())
    refund = response.json()["order"]["orderLines"]["orderLine"][0]["refund"]
    assert refund["refundCharges"]["refundCharge"][0]["charge"]["chargeAmount"] == {"currency": "USD", "amount": -5.0}
    assert list(LineRefund.objects.values_list("amount", "tax_amount")) == [(Decimal("-5.00"), Decimal("-0.41"))]


@pytest.mark.parametrize(
    ("line_number", "amount", "tax", "field"),
    [
        (2, -1.00, 0, "lineNumber"),  # not shipped
        (1, 5.00, 0, "chargeAmount.amount"),  # positive
        (1, -1.005, 0, "chargeAmount.amount"),  # three decimals
        (1, -20.01, 0, "chargeAmount.amount"),  # above the 20.00 charged for the 2 shipped
        (1, -1.00, -1.66, "chargeAmount.amount"),  # tax above the 1.65 charged for the 2 shipped
    ],
)
def test_refund_rules_refuse_and_record_nothing(wm, shipped, line_number, amount, tax, field):
    po = shipped.purchase_order_id
    response = wm.post(f"/v3/orders/{po}/refund", refund_body(po, line_number, amount, tax))
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == field
    assert not LineRefund.objects.exists()


def test_refunds_add_up_to_at_most_the_charge(wm, shipped):
    po = shipped.purchase_order_id
    assert wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, -15.00)).status_code == 200
    assert wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, -5.01)).status_code == 400
    assert wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, -5.00)).status_code == 200
    assert sum(LineRefund.objects.values_list("amount", flat=True)) == Decimal("-20.00")


def test_full_refund_refunds_what_is_left(wm, shipped):
    po = shipped.purchase_order_id
    wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, -5.00, -0.10))
    assert wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, 0, full=True)).status_code == 200
    assert sum(LineRefund.objects.values_list("amount", flat=True)) == Decimal("-20.00")
    assert sum(LineRefund.objects.values_list("tax_amount", flat=True)) == Decimal("-1.65")
    assert wm.post(f"/v3/orders/{po}/refund", refund_body(po, 1, 0, full=True)).status_code == 400


def test_refund_for_another_purchase_order_id_in_body_is_refused(wm, shipped):
    response = wm.post(f"/v3/orders/{shipped.purchase_order_id}/refund", refund_body("123", 1, -1.00))
    assert response.status_code == 400
    assert not LineRefund.objects.exists()


def test_auto_cancel_at_estimated_ship_date_plus_four_days(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 1, tracking="T-1")))
    services.clock_advance(seconds=(order.estimated_ship_date - order.order_date).total_seconds() + 4 * 86400 - 60)
    assert services.orders_auto_cancel_due() == 0
    services.clock_advance(seconds=61)
    # reading the order applies what is due
    body = wm.get(f"/v3/orders/{po}").json()
    assert statuses(order) == [("Shipped", 1, "T-1", ""), ("Cancelled", 2, "", "AUTO_CANCELLED_NOT_SHIPPED")]
    assert statuses(order, 2) == [("Cancelled", 1, "", "AUTO_CANCELLED_NOT_SHIPPED")]
    assert (
        body["order"]["orderLines"]["orderLine"][1]["orderLineStatuses"]["orderLineStatus"][0]["status"] == "Cancelled"
    )
    assert services.orders_auto_cancel_due() == 0


def test_shipped_quantity_is_delivered_three_days_after_its_ship_date(wm, order):
    po = order.purchase_order_id
    wm.post(f"/v3/orders/{po}/acknowledge")
    now_ms = epoch_ms(emulator_now())
    wm.post(f"/v3/orders/{po}/shipping", ship_body(ship_line(1, 2, tracking="T-1", ship_ms=now_ms)))
    services.clock_advance(seconds=3 * 86400 - 60)
    assert services.orders_deliver_due() == 0
    services.clock_advance(seconds=120)
    assert services.orders_deliver_due() == 1
    assert statuses(order) == [("Acknowledged", 1, "", ""), ("Delivered", 2, "T-1", "")]


def test_a_backlog_of_shipments_is_delivered_in_batches_each_order_read_back_delivered(wm, seller, monkeypatch):
    from walmart_emulator import orders as emulated_orders

    # given: five orders shipped whole, all due for delivery together; batches of two orders
    published_offer(seller, "SKU-1", index=1, quantity=10, price="10.00")
    placed = [services.order_simulate(seller=seller, lines=[("SKU-1", 1)], method_code="Standard") for _ in range(5)]
    now_ms = epoch_ms(emulator_now())
    for placed_order in placed:
        wm.post(f"/v3/orders/{placed_order.purchase_order_id}/acknowledge")
        wm.post(
            f"/v3/orders/{placed_order.purchase_order_id}/shipping",
            ship_body(ship_line(1, 1, tracking=f"T-{placed_order.pk}", ship_ms=now_ms)),
        )
    monkeypatch.setattr(emulated_orders, "DELIVER_BATCH", 2)
    services.clock_advance(seconds=3 * 86400 + 60)
    # when
    moved = services.orders_deliver_due()
    # then: every shipped row moved once, and each order reads back Delivered (its snapshot re-rendered)
    assert moved == 5
    for placed_order in placed:
        body = wm.get(f"/v3/orders/{placed_order.purchase_order_id}").json()
        line = body["order"]["orderLines"]["orderLine"][0]
        assert [row["status"] for row in line["orderLineStatuses"]["orderLineStatus"]] == ["Delivered"]
    assert services.orders_deliver_due() == 0
