"""rows_insert: new rows with their keys, as bulk_create would write them (COPY on PostgreSQL); rows_update: stored rows
written from their instances, as bulk_update would (one UPDATE FROM unnest on PostgreSQL)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from channel_manager.bulk import instances_new, rows_insert, rows_update
from orders.models import Order, OrderEvent, OrderLine
from tests.orders.factories import ListingFactory

pytestmark = pytest.mark.django_db

ORDERED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def test_rows_referring_to_each_other_are_inserted_with_their_keys_and_values(store):
    # given: two new orders, a line of each (set to the order instance, which has no key yet), an event
    orders = [
        Order(
            store=store,
            purchase_order_id=f"PO-{n}",
            commerce_order_number=f"WM{n}",
            order_date=ORDERED,
            order_total=Decimal("21.60"),
            status=Order.Status.CANCELED if n else Order.Status.OPEN,
        )
        for n in range(2)
    ]
    lines = [
        OrderLine(order=order, line_number="1", sku="SKU-1", quantity=2, charges=[{"type": "PRODUCT", "amount": "20"}])
        for order in orders
    ]
    events = [OrderEvent(order=orders[1], actor="schedule", message="Order received")]
    # when
    rows_insert(Order, orders)
    rows_insert(OrderLine, lines)
    rows_insert(OrderEvent, events)
    # then: every instance has its key, and the rows read back hold exactly the values given
    assert all(instance.pk for instance in [*orders, *lines, *events])
    stored = Order.objects.order_by("purchase_order_id")
    assert list(stored.values_list("pk", "purchase_order_id", "order_total", "status", "order_date")) == [
        (orders[0].pk, "PO-0", Decimal("21.60"), "open", ORDERED),
        (orders[1].pk, "PO-1", Decimal("21.60"), "canceled", ORDERED),
    ]
    assert all(order.created_at is not None and order.updated_at is not None for order in stored)
    assert list(OrderLine.objects.order_by("order_id").values_list("order_id", "charges", "stock_shipped")) == [
        (orders[0].pk, [{"type": "PRODUCT", "amount": "20"}], 0),
        (orders[1].pk, [{"type": "PRODUCT", "amount": "20"}], 0),
    ]
    assert list(OrderEvent.objects.values_list("order_id", "message")) == [(orders[1].pk, "Order received")]
    # and: the instances are saved ones (a later save updates instead of inserting)
    orders[0].customer_name = "Ada"
    orders[0].save(update_fields=["customer_name"])
    assert Order.objects.get(pk=orders[0].pk).customer_name == "Ada"


def test_a_row_breaking_a_constraint_raises_and_keeps_nothing_of_the_call(store):
    # given: PO-1 stored
    rows_insert(Order, [Order(store=store, purchase_order_id="PO-1", commerce_order_number="WM1", order_date=ORDERED)])
    # when: a second call inserts PO-2 and PO-1 again
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(
            Order,
            [
                Order(store=store, purchase_order_id=po, commerce_order_number=f"WM-{po}", order_date=ORDERED)
                for po in ("PO-2", "PO-1")
            ],
        )
    # then
    assert list(Order.objects.values_list("purchase_order_id", flat=True)) == ["PO-1"]


def test_instances_new_builds_what_the_model_itself_builds(store):
    # given: rows giving a foreign key as an instance, leaving defaults (a callable one among them) out
    order = Order(store=store, purchase_order_id="PO-1", commerce_order_number="WM1", order_date=ORDERED)
    rows = [{"order": order, "line_number": "1", "sku": "SKU-1", "quantity": 2}, {"order_id": 7, "line_number": "2"}]
    # when
    built = instances_new(OrderLine, rows)
    expected = [OrderLine(**row) for row in rows]
    # then: every field's value is the model's own, the related instance is cached, the callable default is
    # called per instance (not shared), and the instances are new
    fields = [field.attname for field in OrderLine._meta.concrete_fields]
    assert [[getattr(line, name) for name in fields] for line in built] == [
        [getattr(line, name) for name in fields] for line in expected
    ]
    assert built[0].order is order
    assert built[0].charges == []
    assert built[0].charges is not built[1].charges
    assert all(line._state.adding and line.pk is None for line in built)


def test_instances_new_refuses_an_unknown_field_as_the_model_does():
    with pytest.raises(TypeError, match="nope"):
        instances_new(OrderLine, [{"line_number": "1", "nope": 1}])


def test_any_of_finds_the_rows_in_finds(store):
    # given: three orders
    rows_insert(
        Order,
        [
            Order(store=store, purchase_order_id=f"PO-{n}", commerce_order_number=f"WM{n}", order_date=ORDERED)
            for n in range(3)
        ],
    )
    wanted = ["PO-2", "PO-0", "PO-9", "PO-2"]
    # when / then: the same rows as __in (repeats, unknown values and an empty list included)
    by_any = Order.objects.filter(purchase_order_id__any_of=wanted).order_by("pk").values_list("purchase_order_id")
    by_in = Order.objects.filter(purchase_order_id__in=wanted).order_by("pk").values_list("purchase_order_id")
    assert list(by_any) == list(by_in) == [("PO-0",), ("PO-2",)]
    assert list(Order.objects.filter(pk__any_of=[])) == []
    assert list(Order.objects.filter(pk__any_of=[None])) == []
    lines = [OrderLine(order=order, line_number="1", sku="S", quantity=1) for order in Order.objects.order_by("pk")]
    rows_insert(OrderLine, lines)
    assert OrderLine.objects.filter(order_id__any_of=[lines[0].order_id]).count() == 1
    assert OrderLine.objects.filter(order__any_of=[lines[1].order_id, lines[2].order_id]).count() == 2


def test_rows_update_writes_the_values_the_instances_hold_as_bulk_update_does(store):
    # given: three stored orders with a line each; two of them changed in memory (text, choice, decimal, boolean,
    # datetime, empties), their lines too (JSON, foreign key, a value set back to nothing)
    orders = [
        Order(store=store, purchase_order_id=f"PO-{n}", commerce_order_number=f"WM{n}", order_date=ORDERED)
        for n in range(3)
    ]
    rows_insert(Order, orders)
    lines = [OrderLine(order=order, line_number="1", sku="SKU-1", quantity=1, tracking=["1Z1"]) for order in orders]
    rows_insert(OrderLine, lines)
    listing = ListingFactory(store=store)
    for n, order in enumerate(orders[:2]):
        order.customer_name = f"Ada {n}"
        order.status = Order.Status.SHIPPED
        order.order_total = Decimal("10.50")
        order.provisional = True
        order.acknowledged_at = ORDERED.replace(hour=16)
        order.ship_by = None
        lines[n].charges = [{"type": "PRODUCT", "amount": f"1{n}.00"}]
        lines[n].tracking = []
        lines[n].listing = listing
    fields = ["customer_name", "status", "order_total", "provisional", "acknowledged_at", "ship_by"]
    # when
    updated = rows_update(Order, orders[:2], fields)
    rows_update(OrderLine, lines[:2], ["charges", "tracking", "listing"])
    # then: the two rows hold the new values, the third is as it was
    assert updated == 2
    assert list(Order.objects.order_by("purchase_order_id").values_list("purchase_order_id", *fields)) == [
        ("PO-0", "Ada 0", "shipped", Decimal("10.50"), True, ORDERED.replace(hour=16), None),
        ("PO-1", "Ada 1", "shipped", Decimal("10.50"), True, ORDERED.replace(hour=16), None),
        ("PO-2", "", "open", Decimal("0.00"), False, None, None),
    ]
    assert list(
        OrderLine.objects.order_by("order__purchase_order_id").values_list("charges", "tracking", "listing")
    ) == [
        ([{"type": "PRODUCT", "amount": "10.00"}], [], listing.pk),
        ([{"type": "PRODUCT", "amount": "11.00"}], [], listing.pk),
        ([], ["1Z1"], None),
    ]
    assert rows_update(Order, [], fields) == 0
