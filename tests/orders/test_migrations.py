"""Intake moving stock through the stores' reservations: the orders already stored migrate to it. Units open
on a stored line (reserved, neither cancelled nor shipped) become its store's reservation; shipped units are
recorded on the line, so that they are not taken out of the reservation again; catalog quantities stay."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inventory.models import StockReservation
from listings.models import Product
from orders.models import OrderLine
from tests.factories import StoreFactory
from tests.orders.factories import ORDER_DATE, ListingFactory, ProductFactory

BEFORE = [("orders", "0008_method_sort_index")]


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def before_reservations(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    migrate_to_latest()


def test_open_units_of_stored_orders_become_their_stores_reservations(before_reservations):
    # given: two stores listing product P (and store A product Q) with orders stored by the old intake
    old_apps = before_reservations
    Order = old_apps.get_model("orders", "Order")
    OldLine = old_apps.get_model("orders", "OrderLine")
    store_a, store_b = StoreFactory(name="A"), StoreFactory(name="B")
    p, q = ProductFactory(sku="P", quantity=7), ProductFactory(sku="Q", quantity=9)
    listing_a_p, listing_b_p = ListingFactory(store=store_a, product=p), ListingFactory(store=store_b, product=p)
    listing_a_q = ListingFactory(store=store_a, product=q)
    StockReservation.objects.create(store=store_a, product=q, quantity=1)  # reserved since by the new intake

    def line(store, po, listing, quantity, *, reserved, released=0, shipped=0, delivered=0, cancelled=0):
        order = Order.objects.create(
            store_id=store.pk, purchase_order_id=po, commerce_order_number=f"WM-{po}", order_date=ORDER_DATE
        )
        return OldLine.objects.create(
            order=order,
            line_number="1",
            sku=listing.product.sku if listing else "NOPE",
            listing_id=listing.pk if listing else None,
            quantity=quantity,
            quantity_shipped=shipped,
            quantity_delivered=delivered,
            quantity_cancelled=cancelled,
            stock_reserved=reserved,
            stock_released=released,
        )

    partly_shipped = line(store_a, "PO-1", listing_a_p, 3, reserved=3, shipped=1)
    line(store_a, "PO-2", listing_a_p, 2, reserved=2, released=2, cancelled=2)
    delivered = line(store_b, "PO-3", listing_b_p, 4, reserved=4, released=1, cancelled=1, delivered=3)
    line(store_a, "PO-4", None, 1, reserved=0)
    line(store_a, "PO-5", listing_a_q, 5, reserved=5)
    # when
    migrate_to_latest()
    # then: A holds 2 of P (PO-1's unshipped units) and 1 + 5 of Q; B holds nothing of P (all delivered)
    reservations = StockReservation.objects.order_by("store__name", "product__sku")
    assert list(reservations.values_list("store__name", "product__sku", "quantity")) == [("A", "P", 2), ("A", "Q", 6)]
    # and: the shipped units are recorded on their lines; the rest moved nothing
    shipped = OrderLine.objects.filter(stock_shipped__gt=0).order_by("pk").values_list("pk", "stock_shipped")
    assert list(shipped) == [(partly_shipped.pk, 1), (delivered.pk, 3)]
    assert dict(Product.objects.values_list("sku", "quantity")) == {"P": 7, "Q": 9}
