"""One store's orders never reach another's: not through a store's URLs, not through intake."""

import pytest
from django.urls import reverse

from inventory.models import StockMovement, StockReservation
from orders.models import Order, OrderEvent, OrderLine, Shipment
from orders.services import orders_upsert_from_walmart
from tests.factories import StoreMembershipFactory
from tests.orders.factories import ListingFactory, ProductFactory, line_json, order_json
from walmart_client.models import WalmartOrder

pytestmark = pytest.mark.django_db


def remote(po: str, **line) -> WalmartOrder:
    return WalmartOrder.from_api(order_json(po, lines=[line_json(**line)]))


@pytest.fixture
def order_of_other_store(other_store):
    ListingFactory(store=other_store, product=ProductFactory(sku="SKU-B", quantity=10))
    orders_upsert_from_walmart(store=other_store, remotes=[remote("PO-B", sku="SKU-B")], actor="schedule")
    return Order.objects.get(store=other_store)


@pytest.mark.parametrize("member_of_both", [False, True], ids=["member-of-a-only", "member-of-both"])
def test_an_order_of_store_b_is_404_under_store_as_urls(
    operator, operator_client, store, other_store, order_of_other_store, member_of_both
):
    # given: an order of store B; the user is a member of store A (and, in one case, of B too)
    if member_of_both:
        StoreMembershipFactory(store=other_store, user=operator)
    order_b = order_of_other_store
    urls = {
        name: reverse(f"orders:{name}", args=[store.pk, order_b.pk])
        for name in ("order_detail", "order_ship", "order_cancel", "order_refresh", "order_acknowledge")
    }
    # when: B's order is asked for by its id under store A's URLs
    answers = {
        "GET order_detail": operator_client.get(urls["order_detail"]).status_code,
        "GET order_ship": operator_client.get(urls["order_ship"]).status_code,
        "GET order_cancel": operator_client.get(urls["order_cancel"]).status_code,
        "POST order_ship": operator_client.post(
            urls["order_ship"], {"tracking_number": "1Z999", "method_code": "Standard"}
        ).status_code,
        "POST order_cancel": operator_client.post(urls["order_cancel"], {"reason": "CUSTOMER_REQUESTED"}).status_code,
        "POST order_refresh": operator_client.post(urls["order_refresh"]).status_code,
        "POST order_acknowledge": operator_client.post(urls["order_acknowledge"]).status_code,
    }
    # then: 404 for each, and nothing happened to B's order
    assert answers == dict.fromkeys(answers, 404)
    assert not Shipment.objects.exists()
    order_b.refresh_from_db()
    assert (order_b.acknowledged_at, order_b.acknowledging_since) == (None, None)
    assert list(order_b.events.values_list("message", flat=True)) == [
        "Order received from Walmart; commerce order WM00000001 created."
    ]
    # and: under B's own URL the member of both stores does see it (the 404 is about the URL's store)
    if member_of_both:
        assert operator_client.get(reverse("orders:order_detail", args=[other_store.pk, order_b.pk])).status_code == 200


def test_the_same_purchase_order_id_in_two_stores_is_two_orders_neither_touching_the_other(store, other_store):
    # given: one product listed in both stores; both stores receive a PO-1 (different quantities)
    product = ProductFactory(sku="SKU-1", quantity=10)
    ListingFactory(store=store, product=product)
    ListingFactory(store=other_store, product=product)
    orders_upsert_from_walmart(store=store, remotes=[remote("PO-1", quantity=2)], actor="schedule")
    orders_upsert_from_walmart(store=other_store, remotes=[remote("PO-1", quantity=3)], actor="schedule")
    # when: Walmart shows store B's PO-1 cancelled (A's is unchanged), and A's is read again
    cancelled = remote("PO-1", quantity=3, statuses=[("Cancelled", 3)])
    result_b = orders_upsert_from_walmart(store=other_store, remotes=[cancelled], actor="schedule")
    result_a = orders_upsert_from_walmart(store=store, remotes=[remote("PO-1", quantity=2)], actor="schedule")
    # then: two orders, each in its own store, each with its own commerce number sequence and line
    order_a = Order.objects.get(store=store, purchase_order_id="PO-1")
    order_b = Order.objects.get(store=other_store, purchase_order_id="PO-1")
    assert Order.objects.count() == 2
    assert (result_b.updated, result_a.unchanged) == ([order_b.pk], [order_a.pk])
    assert (order_a.commerce_order_number, order_b.commerce_order_number) == ("WM00000001", "WM00000001")
    assert (order_a.status, order_b.status) == (Order.Status.OPEN, Order.Status.CANCELED)
    line_a, line_b = OrderLine.objects.get(order=order_a), OrderLine.objects.get(order=order_b)
    assert (line_a.quantity, line_a.quantity_cancelled, line_a.stock_reserved, line_a.stock_released) == (2, 0, 2, 0)
    assert (line_b.quantity, line_b.quantity_cancelled, line_b.stock_reserved, line_b.stock_released) == (3, 3, 3, 3)
    assert (line_a.listing.store_id, line_b.listing.store_id) == (store.pk, other_store.pk)
    # and: B's cancellation gave back B's 3 units only; A's 2 stay reserved
    product.refresh_from_db()
    assert product.quantity == 8
    assert sorted(StockMovement.objects.values_list("reason", "delta")) == [
        ("order_cancellation", 3),
        ("order_reservation", -3),
        ("order_reservation", -2),
    ]
    reservations = StockReservation.objects.values_list("store_id", "product__sku", "quantity").order_by("store_id")
    assert list(reservations) == [(store.pk, "SKU-1", 2), (other_store.pk, "SKU-1", 0)]
    # and: each order's timeline has only its own events
    assert list(OrderEvent.objects.filter(order=order_a).values_list("message", flat=True)) == [
        "Order received from Walmart; commerce order WM00000001 created."
    ]
    assert sorted(OrderEvent.objects.filter(order=order_b).values_list("message", flat=True)) == [
        "3 unit(s) of SKU-1 cancelled on Walmart returned to stock.",
        "Order received from Walmart; commerce order WM00000001 created.",
        "Walmart: line 1 (SKU-1): cancelled 0 -> 3; status Open -> Canceled",
    ]
