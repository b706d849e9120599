"""Lines where Walmart's copy of an order differs from the stored one, end to end against the emulator: a line
that was in Walmart's PO_CREATED notification but is not in Walmart's copy is removed when the copy completes the
provisional order (its reserved units back to stock), and a line Walmart's copy adds to a stored order is stored
with its units reserved. Either way the end state is the one a read of Walmart's copy alone stores (apart from
the timeline's note of the removal), and the quantity sync sends follows."""

import json

import pytest

from inventory.models import StockMovement
from listings.models import Product
from orders.models import Order, OrderLine
from orders.services import order_refresh
from sync.selectors import sync_rows
from tests.factories import StoreFactory
from tests.orders import test_provisional_orders as provisional
from tests.orders.conftest import after_commit
from tests.orders.factories import ListingFactory
from tests.orders.test_provisional_orders import _read_alone, _state, deliver, on_hand, place, process_batch, reserved
from walmart_emulator import orders as emulator_orders
from walmart_emulator.models import LineStatus

pytestmark = pytest.mark.django_db
walmart, shop, twin = provisional.walmart, provisional.shop, provisional.twin  # the emulator, our stores


def _elsewhere(sku: str):
    """A second store of ours selling the same product (one stock): what sync sends it is the catalog's
    available quantity, so a reservation left behind, or one missing, shows there."""
    other = StoreFactory()
    ListingFactory(store=other, product=Product.objects.get(sku=sku), walmart_sku=sku)
    return other


def _sent_to(store, sku: str) -> int:
    """The quantity sync would send Walmart for `sku` from `store`."""
    return next(row.desired for row in sync_rows(store=store, stream="inventory") if row.sku == sku)


def _stored(state: dict) -> tuple:
    """What an order's state holds but its timeline: the order, its lines, reservations and stock on hand."""
    return state["order"], state["lines"], state["reserved"], state["on_hand"]


def _lines(order: Order) -> list[tuple]:
    return [
        (line.line_number, line.sku, line.quantity, line.stock_reserved, line.stock_released)
        for line in OrderLine.objects.filter(order=order).order_by("line_number")
    ]


def test_a_line_only_the_notification_had_is_removed_and_its_units_released_on_completion(shop, twin, client):
    # given: Walmart's copy holds 2 mugs; its notification (as delivered) also announced 3 cups as line 2
    store, seller = shop
    other = _elsewhere("CUP-2")
    purchase_order_id, bodies = place(seller, [("MUG-1", 2)])
    envelope = json.loads(bodies["PO_CREATED"])
    cup = json.loads(json.dumps(envelope["payload"]["orderLines"][0]))
    cup["lineNumber"] = "2"
    cup["sku"] = "CUP-2"
    cup["quantity"]["measurementValue"] = 3
    envelope["payload"]["orderLines"].append(cup)
    deliver(client, store, json.dumps(envelope).encode())
    order = Order.objects.get(store=store, purchase_order_id=purchase_order_id)
    assert (order.provisional, _lines(order)) == (True, [("1", "MUG-1", 2, 2, 0), ("2", "CUP-2", 3, 3, 0)])
    assert reserved(store) == {"MUG-1": 2, "CUP-2": 3}
    assert on_hand(store) == {"MUG-1": 18, "CUP-2": 17}
    assert _sent_to(other, "CUP-2") == 17
    # when: Walmart's copy is read (the webhook batch's read-back)
    process_batch(store)
    _read_alone(twin, purchase_order_id)
    # then: the cup line is gone and its 3 units are back, through the store's reservations
    order.refresh_from_db()
    assert (order.provisional, _lines(order)) == (False, [("1", "MUG-1", 2, 2, 0)])
    assert reserved(store) == {"MUG-1": 2}
    assert on_hand(store) == {"MUG-1": 18, "CUP-2": 20}
    assert (_sent_to(other, "CUP-2"), _sent_to(store, "CUP-2"), _sent_to(store, "MUG-1")) == (20, 20, 20)
    cups = StockMovement.objects.filter(product__sku="CUP-2").order_by("pk")
    assert [(movement.reason, movement.delta, movement.quantity_after) for movement in cups] == [
        ("order_reservation", -3, 17),
        ("order_cancellation", 3, 20),
    ]
    # and: exactly what a read of Walmart's copy alone stores, the timeline saying what happened
    mine, alone = _state(store), _state(twin)
    assert _stored(mine) == _stored(alone)
    assert mine["timeline"] == [
        *alone["timeline"],
        (
            "webhook",
            "Line 2 (CUP-2) was in Walmart's order notification but is not in Walmart's copy of the order: "
            "removed; 3 reserved unit(s) returned to stock.",
        ),
    ]
    # a second read moves nothing
    process_batch(store)
    with after_commit():
        order_refresh(order=order, actor="operator")
    assert (reserved(store), on_hand(store), cups.count()) == ({"MUG-1": 2}, {"MUG-1": 18, "CUP-2": 20}, 2)


def test_a_line_walmarts_copy_adds_to_a_stored_order_is_stored_with_its_units_reserved(shop, twin, client):
    # given: the complete order is stored from Walmart's copy (2 mugs)
    store, seller = shop
    other = _elsewhere("CUP-2")
    purchase_order_id, _bodies = place(seller, [("MUG-1", 2)])
    _read_alone(store, purchase_order_id)
    order = Order.objects.get(store=store, purchase_order_id=purchase_order_id)
    assert (order.provisional, _lines(order), reserved(store)) == (False, [("1", "MUG-1", 2, 2, 0)], {"MUG-1": 2})
    # when: Walmart's copy now has a second line, 3 cups, and the order is read again
    placed = emulator_orders.Order.objects.get(purchase_order_id=purchase_order_id)
    line = placed.lines.get(line_number="1")
    line.pk, line.line_number, line.sku, line.quantity = None, "2", "CUP-2", 3
    line.save()
    LineStatus.objects.create(line=line, status=LineStatus.Status.CREATED, quantity=3)
    emulator_orders.order_snapshot_refresh(order_pk=placed.pk)
    with after_commit():
        order_refresh(order=order, actor="operator")
    _read_alone(twin, purchase_order_id)
    # then: the line is stored and its 3 units reserved, so the other store is offered 3 cups fewer
    assert _lines(order) == [("1", "MUG-1", 2, 2, 0), ("2", "CUP-2", 3, 3, 0)]
    assert reserved(store) == {"MUG-1": 2, "CUP-2": 3}
    assert on_hand(store) == {"MUG-1": 18, "CUP-2": 17}
    assert (_sent_to(other, "CUP-2"), _sent_to(store, "CUP-2")) == (17, 20)
    cups = StockMovement.objects.filter(product__sku="CUP-2").order_by("pk")
    assert [(movement.reason, movement.delta, movement.quantity_after) for movement in cups] == [
        ("order_reservation", -3, 17)
    ]
    mine, alone = _state(store), _state(twin)
    assert _stored(mine) == _stored(alone)
    assert mine["timeline"][-1] == ("operator", "Walmart: line 2 (CUP-2) added")
    # a second read moves nothing
    with after_commit():
        order_refresh(order=order, actor="operator")
    assert (reserved(store), on_hand(store), cups.count()) == ({"MUG-1": 2, "CUP-2": 3}, {"MUG-1": 18, "CUP-2": 17}, 1)
