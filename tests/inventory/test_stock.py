"""The stock service: one F() update per move, a movement log, the negative stock policy."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import StockMovement
from inventory.services import InsufficientStock, StockError, stock_bulk_set, stock_move, stock_set
from listings.models import Product
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_stock_move_takes_units_and_logs_who_and_why():
    # given
    product = ProductFactory(quantity=10)
    # when
    after = stock_move(
        product=product, delta=-3, reason=StockMovement.Reason.ORDER_RESERVATION, actor="webhook", reference="PO-1"
    )
    # then
    assert after == 7
    assert Product.objects.get(pk=product.pk).quantity == 7
    movement = StockMovement.objects.get()
    assert (movement.delta, movement.quantity_after, movement.shortfall) == (-3, 7, 0)
    assert (movement.reason, movement.actor, movement.reference) == ("order_reservation", "webhook", "PO-1")


def test_reservation_beyond_stock_clamps_to_zero_and_records_the_shortfall():
    # given: 2 in stock, Walmart sold 5
    product = ProductFactory(quantity=2)
    # when
    after = stock_move(product=product, delta=-5, reason="order_reservation", actor="schedule", reference="PO-9")
    # then: never negative, the 3 oversold units are on record
    assert after == 0
    assert Product.objects.get(pk=product.pk).quantity == 0
    movement = StockMovement.objects.get()
    assert (movement.delta, movement.quantity_after, movement.shortfall) == (-2, 0, 3)


def test_manual_move_below_zero_is_refused_and_writes_nothing():
    # given
    product = ProductFactory(quantity=2)
    # when / then
    with pytest.raises(InsufficientStock, match="Cannot take 5 units of .*: only 2 in stock"):
        stock_move(product=product, delta=-5, reason="manual", actor="alice")
    assert Product.objects.get(pk=product.pk).quantity == 2
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delta": 1, "reason": "stolen", "actor": "alice"}, "Unknown stock movement reason"),
        ({"delta": 1, "reason": "manual", "actor": " "}, "needs an actor"),
        ({"delta": 1.5, "reason": "manual", "actor": "alice"}, "whole number"),
    ],
)
def test_stock_move_rejects_bad_input_and_writes_nothing(kwargs, message):
    product = ProductFactory(quantity=4)
    with pytest.raises(StockError, match=message):
        stock_move(product=product, **kwargs)
    assert Product.objects.get(pk=product.pk).quantity == 4
    assert not StockMovement.objects.exists()


def test_cancellation_and_return_put_units_back():
    # given
    product = ProductFactory(quantity=0)
    # when
    stock_move(product=product, delta=2, reason="order_cancellation", actor="alice", reference="PO-1")
    stock_move(product=product, delta=1, reason="return_to_stock", actor="schedule", reference="RMA-1")
    # then
    assert Product.objects.get(pk=product.pk).quantity == 3
    assert list(StockMovement.objects.order_by("id").values_list("reason", "delta", "quantity_after")) == [
        ("order_cancellation", 2, 2),
        ("return_to_stock", 1, 3),
    ]


def test_zero_delta_changes_and_logs_nothing():
    product = ProductFactory(quantity=4)
    assert stock_move(product=product, delta=0, reason="manual", actor="alice") == 4
    assert not StockMovement.objects.exists()


def test_stock_set_logs_the_difference_and_is_idempotent():
    # given
    product = ProductFactory(quantity=10)
    # when
    stock_set(product=product, quantity=4, reason="catalog_edit", actor="alice")
    stock_set(product=product, quantity=4, reason="catalog_edit", actor="alice")
    # then
    assert Product.objects.get(pk=product.pk).quantity == 4
    assert list(StockMovement.objects.values_list("delta", "quantity_after", "reason")) == [(-6, 4, "catalog_edit")]


def test_stock_set_refuses_a_negative_quantity():
    product = ProductFactory(quantity=10)
    with pytest.raises(StockError, match="cannot be negative"):
        stock_set(product=product, quantity=-1, reason="catalog_edit", actor="alice")
    assert Product.objects.get(pk=product.pk).quantity == 10
    assert not StockMovement.objects.exists()


def test_stock_bulk_set_updates_only_changed_products_in_few_queries():
    # given
    products = ProductFactory.create_batch(300, quantity=5)
    quantities = {p.pk: (0 if i % 3 == 0 else 5 if i % 3 == 1 else 9) for i, p in enumerate(products)}
    # when
    with CaptureQueriesContext(connection) as queries:
        changed = stock_bulk_set(quantities=quantities, reason="import", actor="alice", reference="import-7")
    # then: 200 changed (100 to zero, 100 to nine), 100 untouched
    assert changed == 200
    assert dict(Product.objects.values_list("pk", "quantity")) == quantities
    assert StockMovement.objects.count() == 200
    assert sorted(set(StockMovement.objects.values_list("delta", "quantity_after"))) == [(-5, 0), (4, 9)]
    assert len(queries) <= 8


def test_stock_bulk_set_of_2000_distinct_quantities_takes_a_bounded_number_of_queries(
    django_assert_max_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    # given 2,000 products at quantity 5, each to be given its own quantity (1, 2, ..., 2000 except 5 -> 2001)
    products = ProductFactory.create_batch(2000, quantity=5)
    quantities = {p.pk: (i + 1 if i + 1 != 5 else 2001) for i, p in enumerate(products)}
    notified = []
    monkeypatch.setattr("sync.services.sync_nudge", lambda **kwargs: notified.append(kwargs))
    # when (30 covers SQLite, whose bulk_create inserts 142 rows per statement: 24 queries; was over 2,000)
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(30) as queries:
        changed = stock_bulk_set(quantities=quantities, reason="import", actor="alice", reference="import-9")
    # then every product has its own quantity, with one movement each, in a few statements
    assert changed == 2000
    assert dict(Product.objects.values_list("pk", "quantity")) == quantities
    movements = dict(StockMovement.objects.values_list("product_id", "quantity_after"))
    assert movements == quantities
    assert set(StockMovement.objects.values_list("reason", "actor", "reference")) == {("import", "alice", "import-9")}
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    # 2,000 products in one UPDATE on PostgreSQL (two arrays), in chunks of 500 elsewhere (before: one UPDATE
    # per distinct quantity)
    assert len(updates) == (1 if connection.vendor == "postgresql" else 4)
    # the sync nudged once after commit, for every changed product, on the inventory stream only
    assert notified == [{"product_ids": set(quantities), "streams": ["inventory"]}]


def test_stock_bulk_set_with_an_unknown_product_writes_nothing():
    product = ProductFactory(quantity=5)
    with pytest.raises(StockError, match="1 products do not exist"):
        stock_bulk_set(quantities={product.pk: 1, 999999: 3}, reason="import", actor="alice")
    assert Product.objects.get(pk=product.pk).quantity == 5
    assert not StockMovement.objects.exists()


def test_stock_bulk_set_with_a_negative_quantity_writes_nothing():
    product = ProductFactory(quantity=5)
    with pytest.raises(StockError, match="1 quantities are not whole numbers"):
        stock_bulk_set(quantities={product.pk: -2}, reason="import", actor="alice")
    assert Product.objects.get(pk=product.pk).quantity == 5
    assert not StockMovement.objects.exists()


def test_stock_bulk_set_stamps_updated_at_like_an_orm_save():
    # given
    product = ProductFactory(quantity=5)
    other = ProductFactory(quantity=5)
    Product.objects.filter(pk__in=[product.pk, other.pk]).update(updated_at=timezone.now() - timedelta(days=1))
    started = timezone.now()
    # when
    stock_bulk_set(quantities={product.pk: 7, other.pk: 5}, reason="import", actor="alice")
    # then the changed product's stamp is now (and filterable like any ORM-written one); the other is untouched
    assert list(Product.objects.filter(updated_at__gte=started).values_list("pk", "quantity")) == [(product.pk, 7)]
    product.refresh_from_db()
    assert started <= product.updated_at <= timezone.now()
