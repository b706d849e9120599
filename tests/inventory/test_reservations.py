"""Per-store reservations (`inventory.services.reservations_apply`): an order moves units from available into
the store's reservation, a shipment takes them out of it (and out of what we believe Walmart holds), a
cancellation puts them back; set-based, all or nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import StockMovement, StockReservation
from inventory.services import ReservationMove, StockError, reservations_apply
from listings.models import Listing, Product
from listings.signals import products_changed
from tests.factories import StoreFactory
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db


def reserved(store, product):
    return StockReservation.objects.filter(store=store, product=product).values_list("quantity", flat=True).first()


def available(product):
    return Product.objects.get(pk=product.pk).quantity


def test_an_order_moves_units_from_available_into_the_stores_reservation(store):
    # given
    product = ProductFactory(quantity=10)
    # when
    result = reservations_apply(
        store_id=store.pk, moves=[ReservationMove(product.pk, reserved=3)], actor="webhook", reference="PO-1"
    )
    # then
    assert (available(product), reserved(store, product)) == (7, 3)
    assert result.reservations == {product.pk: 3}
    assert result.shortfalls == {}
    assert list(StockMovement.objects.values_list("delta", "quantity_after", "shortfall", "reason", "reference")) == [
        (-3, 7, 0, "order_reservation", "PO-1")
    ]


def test_a_shipment_lowers_the_reservation_and_what_walmart_holds_but_not_available(store, other_store):
    # given: 3 units reserved in the store; both stores' listings believe Walmart holds 10
    product = ProductFactory(quantity=10)
    listing = Listing.objects.create(store=store, product=product, status="match", confirmed_quantity=10)
    other = Listing.objects.create(store=other_store, product=product, status="match", confirmed_quantity=10)
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, reserved=3)], actor="poll")
    # when: two of them ship
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, shipped=2)], actor="poll")
    # then: Walmart lowered inputQty by 2 on this store only; available is unchanged
    assert (available(product), reserved(store, product)) == (7, 1)
    assert Listing.objects.get(pk=listing.pk).confirmed_quantity == 8
    assert Listing.objects.get(pk=other.pk).confirmed_quantity == 10
    assert StockMovement.objects.count() == 1  # the reservation only


def test_a_quantity_walmart_confirmed_just_before_the_shipment_becomes_unknown(store):
    """It may have been set before Walmart shipped (Walmart lowered it) or after (Walmart holds it unlowered):
    the belief becomes unknown, so the desired quantity is sent again whatever it is by then."""
    from datetime import timedelta

    from django.utils import timezone

    from listings.quantities import CONFIRMED_RACE_SECONDS

    product = ProductFactory(quantity=10)
    now = timezone.now()
    recent = Listing.objects.create(
        store=store, product=product, status="match", confirmed_quantity=10, confirmed_quantity_at=now
    )
    other = ProductFactory(quantity=10)
    settled = Listing.objects.create(
        store=store,
        product=other,
        status="match",
        confirmed_quantity=10,
        confirmed_quantity_at=now - timedelta(seconds=CONFIRMED_RACE_SECONDS + 1),
    )
    moves = [ReservationMove(product.pk, reserved=3), ReservationMove(other.pk, reserved=3)]
    reservations_apply(store_id=store.pk, moves=moves, actor="poll")
    # when
    moves = [ReservationMove(product.pk, shipped=2), ReservationMove(other.pk, shipped=2)]
    reservations_apply(store_id=store.pk, moves=moves, actor="poll")
    # then
    assert Listing.objects.get(pk=recent.pk).confirmed_quantity is None
    assert Listing.objects.get(pk=settled.pk).confirmed_quantity == 8


def test_a_cancellation_puts_the_units_back(store):
    product = ProductFactory(quantity=10)
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, reserved=3)], actor="poll")
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, released=3)], actor="poll", reference="x")
    assert (available(product), reserved(store, product)) == (10, 0)
    assert list(StockMovement.objects.order_by("id").values_list("delta", "quantity_after", "reason")) == [
        (-3, 7, "order_reservation"),
        (3, 10, "order_cancellation"),
    ]


def test_reservations_are_per_store(store, other_store):
    product = ProductFactory(quantity=10)
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, reserved=2)], actor="poll")
    reservations_apply(store_id=other_store.pk, moves=[ReservationMove(product.pk, reserved=5)], actor="poll")
    assert (available(product), reserved(store, product), reserved(other_store, product)) == (3, 2, 5)


def test_an_order_beyond_stock_is_kept_and_its_shortfall_logged(store):
    # given
    product = ProductFactory(quantity=2)
    # when: Walmart sold 5
    result = reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, reserved=5)], actor="poll")
    # then: the order is never refused; available stops at zero, the 3 missing units are the shortfall
    assert (available(product), reserved(store, product)) == (0, 5)
    assert result.shortfalls == {product.pk: 3}
    assert list(StockMovement.objects.values_list("delta", "quantity_after", "shortfall")) == [(-2, 0, 3)]


def test_shipping_or_releasing_more_than_is_reserved_stops_at_what_is_reserved(store):
    product = ProductFactory(quantity=10)
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, reserved=2)], actor="poll")
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, shipped=1, released=5)], actor="poll")
    # one shipped, one released (back to available): the other four were never reserved here
    assert (available(product), reserved(store, product)) == (9, 0)


def test_moves_of_one_product_in_a_batch_add_up(store):
    product = ProductFactory(quantity=10)
    reservations_apply(
        store_id=store.pk,
        moves=[ReservationMove(product.pk, reserved=1), ReservationMove(product.pk, reserved=2)],
        actor="poll",
    )
    assert (available(product), reserved(store, product)) == (7, 3)
    assert list(StockMovement.objects.values_list("delta", "reason")) == [(-3, "order_reservation")]


def test_a_batch_of_many_products_takes_a_few_statements(store):
    # given: 1,000 products, each with a listing in the store
    products = ProductFactory.create_batch(1000, quantity=10)
    Listing.objects.bulk_create(
        [Listing(store=store, product=p, status="match", confirmed_quantity=10) for p in products]
    )
    reservations_apply(store_id=store.pk, moves=[ReservationMove(p.pk, reserved=2) for p in products], actor="poll")
    # when: every product ships one unit and gets one more order
    with CaptureQueriesContext(connection) as queries:
        reservations_apply(
            store_id=store.pk, moves=[ReservationMove(p.pk, reserved=1, shipped=1) for p in products], actor="poll"
        )
    # then: the count of statements does not grow with the products (SQLite inserts 142 rows per statement)
    assert len(queries) <= 25
    assert set(StockReservation.objects.filter(store=store).values_list("quantity", flat=True)) == {2}
    assert set(Product.objects.values_list("quantity", flat=True)) == {7}
    assert set(Listing.objects.values_list("confirmed_quantity", flat=True)) == {9}


@pytest.mark.parametrize(
    "move",
    [ReservationMove(1, reserved=-1), ReservationMove(1, shipped=1.5), ReservationMove(1, released=True)],
)
def test_a_bad_move_writes_nothing(store, move):
    product = ProductFactory(quantity=10)
    good = ReservationMove(product.pk, reserved=1)
    with pytest.raises(StockError, match="whole numbers >= 0"):
        reservations_apply(store_id=store.pk, moves=[good, move], actor="poll")
    assert (available(product), reserved(store, product)) == (10, None)
    assert not StockMovement.objects.exists()


def test_an_unknown_product_writes_nothing(store):
    product = ProductFactory(quantity=10)
    with pytest.raises(StockError, match="1 products do not exist"):
        reservations_apply(
            store_id=store.pk,
            moves=[ReservationMove(product.pk, reserved=1), ReservationMove(999_999, reserved=1)],
            actor="poll",
        )
    assert (available(product), reserved(store, product)) == (10, None)


def test_a_batch_announces_its_products_once(store):
    products = ProductFactory.create_batch(3, quantity=10)
    sent = []

    def receiver(sender, **kwargs):
        sent.append((kwargs["product_ids"], kwargs["fields"]))

    products_changed.connect(receiver, dispatch_uid="test_reservations_announce")
    try:
        reservations_apply(store_id=store.pk, moves=[ReservationMove(p.pk, reserved=1) for p in products], actor="x")
    finally:
        products_changed.disconnect(dispatch_uid="test_reservations_announce")
    assert sent == [(frozenset(p.pk for p in products), frozenset({"quantity"}))]


def test_other_stores_are_untouched(store):
    other = StoreFactory()
    product = ProductFactory(quantity=10)
    reservations_apply(store_id=other.pk, moves=[ReservationMove(product.pk, reserved=4)], actor="poll")
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, shipped=4)], actor="poll")
    assert (reserved(other, product), reserved(store, product)) == (4, None)
