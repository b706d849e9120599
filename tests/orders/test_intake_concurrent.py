"""Intake's batches written concurrently (`BatchWriters`: two threads, each with its own connection) give exactly
what one writer gives: the same orders, lines, commerce numbers, stock, timeline, counters and acknowledgements,
on the mixed fixture of tests/orders/test_intake_equivalence.py (new orders, updates, cancellations, shipments,
purchase orders repeated across batches, unknown SKUs). A batch that fails in its thread fails the poll, the
watermark stays, and the next poll finishes the work once. PostgreSQL only: threads see each other's commits
(on SQLite, and inside a test's transaction, the poll writes from its own thread)."""

import json
import logging
import re
import threading
import time

import pytest
import responses
from django.db import DatabaseError, connection, connections, transaction

from inventory.models import StockMovement, StockReservation
from listings.models import Listing, Product
from orders.models import CustomerName, Order, OrderEvent, OrderSettings, OrderStatusCount
from orders.services import order_poll, orders_upsert_from_walmart
from orders.services.intake import BatchWriters, UpsertResult
from tests.orders.conftest import calls_to
from tests.orders.factories import ListingFactory, ProductFactory, line_json, order_json, orders_page
from tests.orders.test_customer_names import remote_order
from tests.orders.test_intake_equivalence import EXPECTED, fixture_taken_in, snapshot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


def chunks(answer, size=2) -> list[list]:
    return [answer[start : start + size] for start in range(0, len(answer), size)]


def concurrently(store):
    """Writes an answer as the poll does with two writers: batches of 2 (repeats kept, as Walmart listed them)."""

    def take_in(answer) -> UpsertResult:
        with BatchWriters(store=store, actor="schedule", threads=2) as writers:
            for batch in chunks(answer):
                writers.write(batch)
        return writers.result

    return take_in


def one_after_another(store):
    """The same batches, as the poll writes them with one writer."""

    def take_in(answer) -> UpsertResult:
        result = UpsertResult()
        for batch in chunks(answer):
            result.add(orders_upsert_from_walmart(store=store, remotes=batch, actor="schedule"))
        return result

    return take_in


def our_side_emptied(store) -> None:
    Order.objects.all().delete()
    OrderStatusCount.objects.all().delete()
    StockReservation.objects.all().delete()
    StockMovement.objects.all().delete()
    Listing.objects.all().delete()
    Product.objects.all().delete()
    OrderSettings.objects.filter(store=store).update(next_commerce_number=1)


def acknowledgements_asked(walmart_api) -> list[str]:
    return sorted(call.request.url.split("/v3/orders/")[1] for call in calls_to(walmart_api, "POST", "/acknowledge"))


def test_concurrent_batches_give_exactly_the_captured_rows(store, settings):
    # given: batches of 2 orders per transaction, each answer deduplicated as `orders_upsert_from_walmart` does;
    # no acknowledgement (the captured rows' test runs in a transaction that never commits: none was asked)
    settings.ORDERS_UPSERT_BATCH_SIZE = 2
    OrderSettings.objects.create(store=store, auto_acknowledge=False)
    write = concurrently(store)

    def take_in(answer):
        return write(list({remote.purchase_order_id: remote for remote in answer}.values()))

    # when: the three answers are taken in by two writers
    results = fixture_taken_in(store, take_in)
    # then: exactly what one writer stored (the captured rows its own test checks)
    observed = snapshot(store, results)
    expected = json.loads(EXPECTED.read_text())
    for key in expected:
        assert observed[key] == expected[key], key
    commerce_numbers = list(Order.objects.values_list("commerce_order_number", flat=True))
    assert len(set(commerce_numbers)) == len(commerce_numbers) == 11


def test_concurrent_batches_with_repeated_orders_give_what_one_writer_gives(store, settings, walmart_api, api_base):
    # given: the answers as listed (PO-2 twice in the first, PO-5 twice in the third: in different batches);
    # acknowledgements on, each refused by Walmart (recorded on the order's timeline)
    settings.ORDERS_UPSERT_BATCH_SIZE = 2
    walmart_api.add(
        responses.POST,
        re.compile(rf"{re.escape(api_base)}/v3/orders/[^/]+/acknowledge"),
        status=400,
        json={"errors": [{"code": "INVALID_REQUEST", "description": "refused"}]},
    )
    fixture_taken_in(store, one_after_another(store))
    one_writer = snapshot(store, [])
    one_writer_acknowledgements = acknowledgements_asked(walmart_api)
    walmart_api.calls.reset()
    our_side_emptied(store)
    assert one_writer_acknowledgements
    # when: the same batches are written by two threads
    results = fixture_taken_in(store, concurrently(store))
    # then: the same rows, stock, timeline, counters, commerce numbers and acknowledgements asked
    two_writers = snapshot(store, [])
    assert set(two_writers) == set(one_writer)
    for key in one_writer:
        assert two_writers[key] == one_writer[key], key
    assert acknowledgements_asked(walmart_api) == one_writer_acknowledgements
    assert [len(result.created) for result in results] == [8, 1, 2]


@pytest.fixture
def failing_order_insert():
    """A database trigger refusing to store PO-4 (a failure inside one batch's transaction), dropped after."""
    table = Order._meta.db_table

    def drop() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS test_refuse_po4 ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS test_refuse_po4()")

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_po4() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.purchase_order_id = 'PO-4' THEN RAISE EXCEPTION 'PO-4 refused'; END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse_po4 BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION test_refuse_po4()"
        )
    yield drop
    drop()


def test_a_batch_failing_in_its_thread_fails_the_poll_and_the_next_poll_finishes_once(
    store, settings, walmart_api, api_base, failing_order_insert
):
    # given: six orders of 2 units of SKU-A (100 in stock) listed on one page, written in batches of 2 by two
    # threads; PO-4 (the second batch) cannot be stored
    settings.ORDERS_UPSERT_BATCH_SIZE = 2
    ListingFactory(store=store, product=ProductFactory(sku="SKU-A", quantity=100))
    product = Product.objects.get(sku="SKU-A")
    OrderSettings.objects.create(store=store, auto_acknowledge=False)
    listed = [order_json(f"PO-{number}", lines=[line_json("1", "SKU-A", 2)]) for number in range(1, 7)]
    walmart_api.add(responses.GET, f"{api_base}/v3/orders", json=orders_page(listed))
    walmart_api.add(responses.GET, f"{api_base}/v3/orders/released", status=404, json={})
    # when: polled
    with pytest.raises(DatabaseError, match="PO-4 refused"):
        order_poll(store=store)
    # then: the watermark did not move and the error is recorded
    order_settings = OrderSettings.objects.get(store=store)
    assert order_settings.polled_through is None
    assert "PO-4 refused" in order_settings.last_poll_error
    assert not Order.objects.filter(purchase_order_id__in=["PO-3", "PO-4"]).exists()
    # when: the failure is gone and the poll runs again
    failing_order_insert()
    result = order_poll(store=store)
    # then: every order stored once, its stock reserved once, received once on its timeline
    order_settings.refresh_from_db()
    assert order_settings.polled_through == order_settings.last_poll_started_at
    assert order_settings.last_poll_error == ""
    assert sorted(Order.objects.values_list("purchase_order_id", flat=True)) == [f"PO-{n}" for n in range(1, 7)]
    assert result.created + result.unchanged == 6
    product.refresh_from_db()
    assert product.quantity == 100 - 12
    assert StockReservation.objects.get(store=store, product=product).quantity == 12
    received = OrderEvent.objects.filter(message__startswith="Order received from Walmart")
    assert sorted(received.values_list("order__purchase_order_id", flat=True)) == [f"PO-{n}" for n in range(1, 7)]
    commerce_numbers = list(Order.objects.values_list("commerce_order_number", flat=True))
    assert len(set(commerce_numbers)) == 6


def advisory_lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def test_concurrent_batches_sharing_a_new_customer_name_never_deadlock(store, settings, caplog):
    # given: PO-1 stored; another session holds PO-1's row, so the first batch (PO-1 again, and PO-2 of a customer
    # new to the store) waits at its start, while the second batch (PO-3, the same new customer) writes its orders
    # and waits for the first batch's stock turn
    OrderSettings.objects.create(store=store, auto_acknowledge=False)
    orders_upsert_from_walmart(store=store, remotes=[remote_order("PO-1", "Ada Lovelace")], actor="schedule")
    locked, release = threading.Event(), threading.Event()

    def hold_po1() -> None:
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(purchase_order_id="PO-1")
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_po1)
    holder.start()
    assert locked.wait(timeout=10)
    caplog.set_level(logging.INFO, logger="orders.services.intake")
    # when: both batches are written by two threads, PO-1 released once the second batch waits for its turn
    try:
        with BatchWriters(store=store, actor="schedule", threads=2) as writers:
            writers.write([remote_order("PO-1", "Ada Lovelace"), remote_order("PO-2", "Grace Hopper")])
            writers.write([remote_order("PO-3", "Grace Hopper")])
            deadline = time.monotonic() + 10
            while not advisory_lock_waiters() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert advisory_lock_waiters() == 1  # the second batch, waiting for the first one's stock turn
            release.set()
    finally:
        release.set()
        holder.join()
    # then: no batch was aborted and redone (the new name was stored before either batch began; without that, the
    # first batch's insert of it waited for the second batch, which waited for the first: a deadlock)
    assert not [record for record in caplog.records if "redoing a batch" in record.getMessage()]
    assert sorted(writers.result.created) == sorted(
        Order.objects.exclude(purchase_order_id="PO-1").values_list("pk", flat=True)
    )
    assert writers.result.unchanged == list(Order.objects.filter(purchase_order_id="PO-1").values_list("pk", flat=True))
    names = CustomerName.objects.filter(store=store).values_list("customer_name", flat=True)
    assert sorted(names) == ["Ada Lovelace", "Grace Hopper"]
