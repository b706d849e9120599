"""The intake's diff on its own: Walmart's orders against stored instances, without the database (no
django_db mark: any query would fail the test)."""

from collections import Counter
from datetime import timedelta

from listings.models import Listing, Product
from orders.mapping import order_line_fields_from_remote
from orders.models import Order, OrderLine
from orders.services.common import LINE_FIELDS_FROM_WALMART
from orders.services.diff import orders_diff
from tests.orders.factories import ORDER_DATE, line_json, order_json
from walmart_client.models import WalmartOrder

NOW = ORDER_DATE + timedelta(hours=1)


def remote(po: str, *lines: dict) -> WalmartOrder:
    return WalmartOrder.from_api(order_json(po, lines=list(lines)))


def listing(pk: int, sku: str) -> Listing:
    return Listing(pk=pk, product=Product(pk=pk, sku=sku))


def stored(pk: int, walmart: WalmartOrder, listings: dict[str, Listing]) -> tuple[Order, dict]:
    """An order as intake stored it from `walmart` (its own diff, applied to unsaved instances)."""
    first = orders_diff(
        remotes=[walmart], existing={}, existing_lines={}, listings=listings, failed_operations={}, now=NOW
    )
    new = first.new[0]
    order = Order(pk=pk, purchase_order_id=new.purchase_order_id, last_read_at=NOW, **new.fields)
    lines = {
        (pk, line_number): OrderLine(pk=pk * 10 + index, order=order, line_number=line_number, **fields)
        for index, (line_number, fields) in enumerate(new.lines)
    }
    return order, lines


def test_a_new_order_is_listed_with_its_fields_and_lines_and_an_unknown_sku_is_an_error_line():
    # given
    listings = {"SKU-1": listing(1, "SKU-1")}
    walmart = remote("PO-1", line_json("1", "SKU-1", quantity=2, price="20.00"), line_json("2", "NOPE"))
    # when
    diff = orders_diff(
        remotes=[walmart], existing={}, existing_lines={}, listings=listings, failed_operations={}, now=NOW
    )
    # then
    assert [new.purchase_order_id for new in diff.new] == ["PO-1"]
    fields = diff.new[0].fields
    assert (fields["item_quantity"], fields["status"], fields["intent_to_cancel"]) == (3, Order.Status.ERROR, False)
    lines = dict(diff.new[0].lines)
    assert lines["1"]["listing"] is listings["SKU-1"]
    assert lines["2"]["listing"] is None
    assert lines["2"]["status_details"] == (
        "Line 2: Walmart SKU NOPE is not linked to a catalog product in this store (nothing reserved). "
        "Link this SKU and the order is processed again."
    )
    assert (diff.lines_to_create, diff.lines_to_update, diff.orders_to_update) == ([], [], [])
    assert (diff.updated, diff.unchanged, diff.changes, diff.status_deltas) == ([], [], [], Counter())


def test_an_order_read_again_unchanged_is_left_alone():
    # given
    listings = {"SKU-1": listing(1, "SKU-1")}
    walmart = remote("PO-1", line_json("1", "SKU-1", quantity=2))
    order, lines = stored(7, walmart, listings)
    # when
    diff = orders_diff(
        remotes=[walmart],
        existing={"PO-1": order},
        existing_lines=lines,
        listings=listings,
        failed_operations={},
        now=NOW + timedelta(minutes=5),
    )
    # then
    assert diff.unchanged == [7]
    assert (diff.new, diff.updated, diff.orders_to_update, diff.lines_to_update, diff.changes) == ([], [], [], [], [])
    assert order.last_read_at == NOW


def test_a_cancelled_unit_updates_the_line_the_order_its_status_counters_and_timeline():
    # given: 2 units Created; Walmart now shows 1 cancelled, and a line 2 added
    listings = {"SKU-1": listing(1, "SKU-1"), "SKU-2": listing(2, "SKU-2")}
    order, lines = stored(7, remote("PO-1", line_json("1", "SKU-1", quantity=2)), listings)
    later = NOW + timedelta(minutes=5)
    walmart = remote(
        "PO-1",
        line_json("1", "SKU-1", quantity=2, statuses=[("Created", 1), ("Cancelled", 1)]),
        line_json("2", "SKU-2", quantity=1),
    )
    # when
    diff = orders_diff(
        remotes=[walmart],
        existing={"PO-1": order},
        existing_lines=lines,
        listings=listings,
        failed_operations={},
        now=later,
    )
    # then
    line = lines[(7, "1")]
    assert diff.lines_to_update == [line]
    expected = order_line_fields_from_remote(walmart.lines[0]) | {"listing": listings["SKU-1"], "status_details": ""}
    assert {name: getattr(line, name) for name in LINE_FIELDS_FROM_WALMART} == expected
    assert [(created.line_number, created.sku, created.order) for created in diff.lines_to_create] == [
        ("2", "SKU-2", order)
    ]
    assert diff.orders_to_update == [order]
    assert (order.updated_at, order.last_read_at, order.item_quantity) == (later, later, 3)
    assert diff.updated == [7]
    assert diff.changes == [(order, ["line 1 (SKU-1): cancelled 0 -> 1", "line 2 (SKU-2) added"])]
    assert diff.status_deltas == Counter()  # still Open


def test_a_failed_push_keeps_the_order_in_error_and_moves_the_counters():
    # given
    listings = {"SKU-1": listing(1, "SKU-1")}
    walmart = remote("PO-1", line_json("1", "SKU-1"))
    order, lines = stored(7, walmart, listings)
    # when
    diff = orders_diff(
        remotes=[walmart],
        existing={"PO-1": order},
        existing_lines=lines,
        listings=listings,
        failed_operations={7: ["Shipment 1Z failed: carrier unknown"]},
        now=NOW,
    )
    # then
    assert (order.status, order.status_details) == (Order.Status.ERROR, "Shipment 1Z failed: carrier unknown")
    assert diff.status_deltas == Counter({Order.Status.OPEN: -1, Order.Status.ERROR: 1})
    assert diff.changes == [(order, ["status Open -> Error"])]
    assert diff.lines_to_update == []


def test_an_order_walmart_shows_past_created_is_recorded_acknowledged_however_it_was():
    # given: one order new to us already acknowledged on Walmart, one stored unacknowledged that Walmart now
    # shows shipped, one still Created, and one wholly cancelled
    listings = {"SKU-1": listing(1, "SKU-1")}
    stored_order, lines = stored(7, remote("PO-2", line_json("1", "SKU-1", quantity=2)), listings)
    assert stored_order.acknowledged_at is None
    stored_order.acknowledging_since, stored_order.acknowledge_maybe_applied = NOW, True
    remotes = [
        remote("PO-1", line_json("1", "SKU-1", statuses=[("Acknowledged", 1)])),
        remote("PO-2", line_json("1", "SKU-1", quantity=2, statuses=[("Shipped", 2, "1Z")])),
        remote("PO-3", line_json("1", "SKU-1")),
        remote("PO-4", line_json("1", "SKU-1", statuses=[("Cancelled", 1)])),
    ]
    later = NOW + timedelta(minutes=5)
    # when
    diff = orders_diff(
        remotes=remotes,
        existing={"PO-2": stored_order},
        existing_lines=lines,
        listings=listings,
        failed_operations={},
        now=later,
    )
    # then
    acknowledged = {new.purchase_order_id: new.fields.get("acknowledged_at") for new in diff.new}
    assert acknowledged == {"PO-1": later, "PO-3": None, "PO-4": None}
    assert (stored_order.acknowledged_at, stored_order.acknowledging_since) == (later, None)
    assert stored_order.acknowledge_maybe_applied is False
    assert diff.orders_to_update == [stored_order]


def test_a_snapshot_older_than_the_stored_order_is_not_applied():
    # given: a line shipped (Walmart's answer stored, dated later), then a poll's page read before the shipment
    listings = {"SKU-1": listing(1, "SKU-1")}
    shipped = remote("PO-1", line_json("1", "SKU-1", statuses=[("Shipped", 1)], status_date=NOW))
    order, lines = stored(7, shipped, listings)
    stale = remote("PO-1", line_json("1", "SKU-1", status_date=NOW - timedelta(minutes=1)))
    # when
    diff = orders_diff(
        remotes=[stale],
        existing={"PO-1": order},
        existing_lines=lines,
        listings=listings,
        failed_operations={},
        now=NOW,
    )
    # then: the shipment stays, nothing is written
    assert diff.unchanged == [7]
    assert (diff.updated, diff.lines_to_update, diff.orders_to_update, diff.changes) == ([], [], [], [])
    assert lines[(7, "1")].quantity_shipped == 1


def test_a_snapshot_as_new_as_the_stored_order_is_applied():
    # given
    listings = {"SKU-1": listing(1, "SKU-1")}
    order, lines = stored(7, remote("PO-1", line_json("1", "SKU-1", status_date=NOW)), listings)
    same_time = remote("PO-1", line_json("1", "SKU-1", statuses=[("Shipped", 1)], status_date=NOW))
    # when
    diff = orders_diff(
        remotes=[same_time],
        existing={"PO-1": order},
        existing_lines=lines,
        listings=listings,
        failed_operations={},
        now=NOW,
    )
    # then
    assert diff.updated == [7]
    assert lines[(7, "1")].quantity_shipped == 1
