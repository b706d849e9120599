"""Walmart's inventory semantics (walmart_emulator/inventory.py): inputQty, reservedQty, availToSellQty through
orders, shipments, cancellations, seller updates, and the API's answers (validated against the spec)."""

import random

import pytest
from django.apps import apps as django_apps
from django.db.models import Sum

from tests.walmart_emulator.factories import cancel_body, published_offer, ship_body, ship_line
from tests.walmart_emulator.spec import assert_matches_spec, requires_specs
from walmart_emulator import services
from walmart_emulator.models import LineStatus, Offer, Order
from walmart_emulator.orders import OrderSimulationError

pytestmark = pytest.mark.django_db


def stock(sku: str = "SKU-1") -> tuple[int, int, int]:
    """(inputQty, reservedQty, availToSellQty) as the emulator holds them."""
    offer = Offer.objects.get(sku=sku)
    return offer.quantity, offer.reserved_quantity, offer.available_to_sell


def api_stock(wm, sku: str = "SKU-1") -> tuple[int, int, int]:
    """(inputQty, reservedQty, availToSellQty) as GET /v3/inventories/{sku} answers them."""
    node = wm.get(f"/v3/inventories/{sku}").json()["nodes"][0]
    return node["inputQty"]["amount"], node["reservedQty"]["amount"], node["availToSellQty"]["amount"]


@pytest.fixture
def order(seller):
    published_offer(seller, "SKU-1", quantity=10)
    return services.order_simulate(seller=seller, lines=[("SKU-1", 3)])


def acknowledged(wm, order: Order) -> Order:
    assert wm.post(f"/v3/orders/{order.purchase_order_id}/acknowledge").status_code == 200
    return order


@requires_specs
def test_an_order_reserves_units_and_every_read_shows_walmarts_three_quantities(wm, order):
    # then: reserved went up, input did not, available is the difference
    assert stock() == (10, 3, 7)
    single = wm.get("/v3/inventory", {"sku": "SKU-1"}).json()
    assert_matches_spec("inventory", "/v3/inventory", "get", "200", single)
    assert single == {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 10}}  # inputQty
    per_node = wm.get("/v3/inventories/SKU-1").json()
    assert_matches_spec("inventory", "/v3/inventories/{sku}", "get", "200", per_node)
    listing = wm.get("/v3/inventories").json()
    assert_matches_spec("inventory", "/v3/inventories", "get", "200", listing)
    assert listing["elements"]["inventories"][0]["nodes"] == per_node["nodes"]
    assert per_node["nodes"] == [
        {
            "shipNode": wm.seller.ship_node,
            "inputQty": {"unit": "EACH", "amount": 10},
            "availToSellQty": {"unit": "EACH", "amount": 7},
            "reservedQty": {"unit": "EACH", "amount": 3},
        }
    ]


def test_a_shipment_lowers_input_and_reserved(wm, order):
    acknowledged(wm, order)
    # when
    response = wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 2, tracking="T-1")))
    # then
    assert response.status_code == 200
    assert api_stock(wm) == (8, 1, 7)
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 1, tracking="T-2")))
    assert api_stock(wm) == (7, 0, 7)


def test_a_tracking_correction_moves_no_units(wm, order):
    acknowledged(wm, order)
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 3, tracking="T-1")))
    correction = ship_line(1, 3, tracking="T-9")
    correction["orderLineStatuses"]["orderLineStatus"][0]["currentTrackingInfo"] = {"trackingNumber": "T-1"}
    # when
    response = wm.post(
        f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(correction, process_mode="PARTIAL_UPDATE")
    )
    # then
    assert response.status_code == 200
    assert stock() == (7, 0, 7)


def test_a_seller_cancellation_lowers_reserved_only(wm, order):
    # when
    response = wm.post(f"/v3/orders/{order.purchase_order_id}/cancel", cancel_body(1, 2))
    # then
    assert response.status_code == 200
    assert api_stock(wm) == (10, 1, 9)


def test_a_cancellation_the_customer_asked_for_lowers_reserved_only(wm, seller, order):
    services.order_intent_to_cancel(seller=seller, purchase_order_id=order.purchase_order_id)
    # when
    response = wm.post(
        f"/v3/orders/{order.purchase_order_id}/cancel", cancel_body(1, 3, reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL")
    )
    # then
    assert response.status_code == 200
    assert stock() == (10, 0, 10)


def test_an_auto_cancel_lowers_reserved_only(wm, order):
    acknowledged(wm, order)
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 1, tracking="T-1")))
    services.clock_advance(seconds=(order.estimated_ship_date - order.order_date).total_seconds() + 4 * 86400 + 1)
    # when
    assert services.orders_auto_cancel_due() == 1
    # then: 1 shipped (input 9), the 2 left cancelled (reserved 0)
    assert stock() == (9, 0, 9)


def test_a_refused_shipment_or_cancellation_moves_no_units(wm, order):
    acknowledged(wm, order)
    too_many = wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 4)))
    bad_reason = wm.post(f"/v3/orders/{order.purchase_order_id}/cancel", cancel_body(1, 1, reason="NOPE"))
    assert (too_many.status_code, bad_reason.status_code) == (400, 400)
    assert stock() == (10, 3, 7)


def test_seller_updates_set_input_and_leave_reserved(wm, order):
    # when: PUT /v3/inventory
    response = wm.put("/v3/inventory", {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 20}}, query="?sku=SKU-1")
    # then
    assert response.json() == {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 20}}
    assert stock() == (20, 3, 17)
    # when: PUT /v3/inventories/{sku}
    nodes = {"inventories": {"nodes": [{"shipNode": wm.seller.ship_node, "inputQty": {"unit": "EACH", "amount": 5}}]}}
    assert wm.put("/v3/inventories/SKU-1", nodes).json()["nodes"][0]["status"] == "Success"
    assert stock() == (5, 3, 2)
    # when: the inventory feed
    feed = wm.post_feed(
        "inventory",
        '{"InventoryHeader":{"version":"1.4"},"Inventory":[{"sku":"SKU-1","quantity":{"unit":"EACH","amount":12}}]}',
    )
    assert wm.get(f"/v3/feeds/{feed.json()['feedId']}").json()["feedStatus"] == "PROCESSED"
    assert stock() == (12, 3, 9)


def test_input_below_reserved_shows_nothing_to_sell_and_refuses_orders(wm, seller, order):
    # when: the seller sets 1 while 3 are reserved
    services.inventory_update(seller=seller, sku="SKU-1", quantity=1)
    # then
    assert api_stock(wm) == (1, 3, 0)
    with pytest.raises(OrderSimulationError, match="has 0 available to sell; 1 ordered"):
        services.order_simulate(seller=seller, lines=[("SKU-1", 1)])
    assert services.orders_simulate(seller=seller, count=3) == []
    # and shipping the reserved units never takes input below zero
    acknowledged(wm, order)
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 3)))
    assert stock() == (0, 0, 0)


def test_orders_are_limited_by_available_to_sell_not_input(seller, order):
    # 10 in, 3 reserved: 7 more can be ordered, not 8
    with pytest.raises(OrderSimulationError, match="has 7 available to sell; 8 ordered"):
        services.order_simulate(seller=seller, lines=[("SKU-1", 8)])
    services.order_simulate(seller=seller, lines=[("SKU-1", 7)])
    assert stock() == (10, 10, 0)


def test_delivery_and_returns_move_no_units(wm, seller, order):
    acknowledged(wm, order)
    wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", ship_body(ship_line(1, 3)))
    services.clock_advance(seconds=4 * 86400)
    # when
    services.emulator_sweep()
    services.return_simulate(seller=seller, purchase_order_id=order.purchase_order_id)
    # then
    assert LineStatus.objects.get(line__order=order).status == "Delivered"
    assert stock() == (7, 0, 7)


def test_reserved_always_equals_the_open_order_quantity(wm, seller):
    """A random mix of orders, acknowledgements, shipments, cancellations and seller updates: reservedQty stays
    the sum of Created + Acknowledged units of the SKU's order lines, and inputQty moves only by updates and
    shipped units."""
    rng = random.Random(11)
    for index in (1, 2):
        published_offer(seller, f"SKU-{index}", index=index, quantity=30)
    expected_input = {"SKU-1": 30, "SKU-2": 30}
    for step in range(60):
        action = rng.choice(("order", "order", "ship", "cancel", "update"))
        open_orders = list(Order.objects.filter(seller=seller, is_open=True))
        if action == "order":
            services.orders_simulate(seller=seller, count=1, rng=rng)
        elif action == "update":
            sku, amount = rng.choice(("SKU-1", "SKU-2")), rng.randint(0, 40)
            services.inventory_update(seller=seller, sku=sku, quantity=amount)
            expected_input[sku] = amount
        elif open_orders:
            order = rng.choice(open_orders)
            acknowledged(wm, order)
            for line in order.lines.all():
                open_units = sum(row.quantity for row in line.statuses.all() if row.status == "Acknowledged")
                if not open_units:
                    continue
                units = rng.randint(1, open_units)
                if action == "ship":
                    body = ship_body(ship_line(line.line_number, units, tracking=f"T-{step}-{line.line_number}"))
                    assert wm.post(f"/v3/orders/{order.purchase_order_id}/shipping", body).status_code == 200
                    expected_input[line.sku] = max(0, expected_input[line.sku] - units)
                else:
                    body = cancel_body(line.line_number, units)
                    assert wm.post(f"/v3/orders/{order.purchase_order_id}/cancel", body).status_code == 200
        for sku in ("SKU-1", "SKU-2"):
            open_units = (
                LineStatus.objects.filter(line__sku=sku, status__in=["Created", "Acknowledged"]).aggregate(
                    units=Sum("quantity")
                )["units"]
                or 0
            )
            assert stock(sku)[:2] == (expected_input[sku], open_units), (step, action, sku)
    assert Order.objects.count() > 10
    assert LineStatus.objects.filter(status="Shipped").exists()
    assert LineStatus.objects.filter(status="Cancelled").exists()


def test_the_migration_backfill_turns_what_was_left_into_input_plus_reserved(seller, order):
    """Before reservedQty existed, an order took from `quantity` (what was left to sell)."""
    from importlib import import_module

    backfill = import_module("walmart_emulator.migrations.0003_offer_reserved_quantity").reservations_backfill
    Offer.objects.filter(sku="SKU-1").update(quantity=7, reserved_quantity=0)  # the old shape of the same state
    # when
    backfill(django_apps, None)
    # then
    assert stock() == (10, 3, 7)
