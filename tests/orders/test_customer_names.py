"""CustomerName, the names a customer-name search looks in first (PostgreSQL triggers on orders_order and
returns_return, migration orders 0014): after every write path, every name an order or return of the store
carries is kept, once, for its store only; a name no row carries any more stays (never pruned) and finds no row.
The Orders and Returns tabs' name searches then show exactly the rows of the plain `customer_name__icontains`
query, whatever wrote them."""

import copy
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from channel_manager.listing_pages import ListQuery, sorted_by
from orders.models import CustomerName, Order
from orders.selectors import ORDER_SORTS, order_page, order_status_counts
from orders.services import order_upsert_from_walmart
from returns.models import Return
from returns.selectors import RETURN_SORTS, return_page, return_status_counts
from returns.services import returns_poll
from tests.orders.factories import ORDER_DATE, line_json, order_json
from tests.returns.factories import return_json, returns_page
from walmart_client.models import WalmartOrder

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the names are kept by PostgreSQL triggers"),
]


def kept(store) -> list[str]:
    return sorted(CustomerName.objects.filter(store=store).values_list("customer_name", flat=True))


def carried(store) -> set[str]:
    orders = Order.objects.filter(store=store).values_list("customer_name", flat=True)
    returns = Return.objects.filter(store=store).values_list("customer_name", flat=True)
    return {*orders, *returns}


TABS = [
    (Order, order_page, order_status_counts, ORDER_SORTS, "value"),
    (Return, return_page, return_status_counts, RETURN_SORTS, "amount"),
]


def assert_searches_show_the_plain_rows(store, terms) -> None:
    """Each term's first page on both tabs, sorted by value / amount both ways, is the plain query's."""
    for model, page_of, counts_of, sorts, key in TABS:
        for term in terms:
            for sort in (key, f"-{key}"):
                plain = sorted_by(
                    model.objects.filter(store=store, customer_name__icontains=term), sort=sort, sorts=sorts
                )
                query = ListQuery(search=term, sort=sort, page_size=25)
                page = page_of(store=store, query=query, counts=counts_of(store=store))
                assert [row.pk for row in page.rows] == list(plain.values_list("pk", flat=True)[:25]), (term, sort)


def remote_order(po: str, name: str) -> WalmartOrder:
    data = order_json(po, lines=[line_json(quantity=1, price="5.00", tax="0.40")])
    data["shippingInfo"]["postalAddress"]["name"] = name
    return WalmartOrder.from_api(data)


def test_intake_creates_and_updates_keep_each_name_once_for_its_store(store, other_store, listed_product):
    # given: orders stored by the intake, two of one name, one in another store
    order_upsert_from_walmart(store=store, remote=remote_order("PO-1", "Ada Lovelace"), actor="schedule")
    order_upsert_from_walmart(store=store, remote=remote_order("PO-2", "Ada Lovelace"), actor="schedule")
    order_upsert_from_walmart(store=other_store, remote=remote_order("PO-9", "Grace Hopper"), actor="schedule")
    assert kept(store) == ["Ada Lovelace"]
    assert kept(other_store) == ["Grace Hopper"]
    # when: Walmart's copy of PO-2 names another customer (the intake's bulk update)
    order_upsert_from_walmart(store=store, remote=remote_order("PO-2", "Alan Turing"), actor="schedule")
    # then
    assert Order.objects.get(store=store, purchase_order_id="PO-2").customer_name == "Alan Turing"
    assert kept(store) == ["Ada Lovelace", "Alan Turing"]
    assert_searches_show_the_plain_rows(store, ["lovelace", "turing", "hopper", "alan"])


def test_every_write_path_of_orders_and_returns_keeps_the_names_they_carry(store, other_store):
    # given: orders written by save(), bulk_create (one INSERT of many rows) and QuerySet.update
    first = Order.objects.create(
        store=store, purchase_order_id="PO-1", commerce_order_number="WM1", customer_name="Ada Lovelace",
        order_date=ORDER_DATE,
    )  # fmt: skip
    Order.objects.bulk_create(
        [
            Order(
                store=store, purchase_order_id=f"PO-{n}", commerce_order_number=f"WM{n}", order_date=ORDER_DATE,
                customer_name=["Grace Hopper", "Edsger Dijkstra", "Grace Hopper"][n % 3],
                order_total=Decimal(n % 4) + Decimal("0.50"),
            )
            for n in range(2, 14)
        ]
    )  # fmt: skip
    first.customer_name = "Ada King"
    first.save()
    Order.objects.filter(purchase_order_id="PO-2").update(customer_name="Barbara Liskov")
    Order.objects.filter(purchase_order_id="PO-3").update(status=Order.Status.SHIPPED)  # the name unchanged
    # and returns created and renamed
    returned = Return.objects.create(
        store=store, return_order_id="RMA-1", order=first, customer_name="Ada Countess", charged_total=Decimal(3)
    )
    Return.objects.bulk_create(
        [
            Return(store=store, return_order_id=f"RMA-{n}", customer_name="Donald Knuth", charged_total=Decimal(n))
            for n in range(2, 6)
        ]
    )
    Return.objects.filter(pk=returned.pk).update(customer_name="Ken Thompson")
    # when: rows are deleted, and one moves to another store
    Order.objects.filter(purchase_order_id="PO-4").delete()  # Edsger Dijkstra's only order... of two
    Order.objects.filter(purchase_order_id="PO-7").delete()
    Order.objects.filter(purchase_order_id="PO-10").update(store=other_store)
    # then: every name carried is kept; the names no row carries any more too (never pruned)
    assert carried(store) <= set(kept(store))
    assert kept(store) == sorted(
        {
            "Ada Lovelace", "Ada King", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Ada Countess",
            "Donald Knuth", "Ken Thompson",
        }
    )  # fmt: skip
    assert kept(other_store) == [Order.objects.get(purchase_order_id="PO-10").customer_name]
    assert_searches_show_the_plain_rows(store, ["ada", "grace hopper", "dijkstra", "knuth", "THOMPSON", "countess"])


def test_a_copy_into_the_tables_keeps_the_names_of_its_rows(store):
    # given: orders written by COPY (the intake's bulk writer on PostgreSQL writes so), names repeated
    columns = [
        *("store_id", "purchase_order_id", "customer_order_id", "commerce_order_number", "order_type"),
        *("customer_name", "customer_email", "phone", "address1", "address2", "city", "state", "postal_code"),
        *("country", "address_type", "order_date", "method_code", "currency", "product_total", "shipping_total"),
        *("tax_total", "order_total", "item_quantity", "items_summary", "status", "status_details"),
        *("intent_to_cancel", "acknowledge_maybe_applied", "provisional", "provisional_read_attempts"),
        *("provisional_read_error", "created_at", "updated_at"),
    ]
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY orders_order ({', '.join(columns)}) FROM STDIN") as copy_in,
    ):
        for n in range(50):
            name = ["Ada Lovelace", "Alan Turing", "Margaret Hamilton"][n % 3]
            copy_in.write_row(
                [store.pk, f"PO-{n}", "", f"WM{n}", "", name, "", "", "", "", "", "", "", "", ""]
                + [ORDER_DATE + timedelta(minutes=n), "", "USD", 0, 0, 0, n % 7, 0, "", "open", "", False, False]
                + [False, 0, "", ORDER_DATE, ORDER_DATE]
            )
    # then
    assert kept(store) == ["Ada Lovelace", "Alan Turing", "Margaret Hamilton"]
    assert_searches_show_the_plain_rows(store, ["turing", "hamil", "ada"])


def test_returns_intake_keeps_the_names_of_the_returns_it_stores(store, walmart_api, api_base):
    # given: Walmart lists two returns of customers with no order stored
    other = copy.deepcopy(return_json("RMA-2", customer_order_id="C-PO-2"))
    other["customerName"] = {"firstName": "Margaret", "lastName": "Hamilton"}
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json(), other]))
    # when
    returns_poll(store=store)
    # then
    assert kept(store) == ["Ada Lovelace", "Margaret Hamilton"]
    assert_searches_show_the_plain_rows(store, ["lovelace", "hamilton", "ada"])


def test_the_migration_keeps_the_names_of_the_orders_and_returns_already_stored(transactional_db, store, other_store):
    # given: orders and returns stored before the names were kept (the schema before orders 0014 / returns 0006)
    executor = MigrationExecutor(connection)
    before = [("orders", "0013_order_provisional"), ("returns", "0005_customer_name_statistics")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    OldOrder, OldReturn = old_apps.get_model("orders", "Order"), old_apps.get_model("returns", "Return")
    for n, (owner, name) in enumerate([(store, "Ada Lovelace"), (store, "Ada Lovelace"), (other_store, "Alan Turing")]):
        OldOrder.objects.create(
            store_id=owner.pk, purchase_order_id=f"PO-{n}", commerce_order_number=f"WM{n}", customer_name=name,
            order_date=ORDER_DATE,
        )  # fmt: skip
    OldReturn.objects.create(store_id=store.pk, return_order_id="RMA-1", customer_name="Grace Hopper")
    # when
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then: each store's names, once; the triggers keep the next ones
    assert kept(store) == ["Ada Lovelace", "Grace Hopper"]
    assert kept(other_store) == ["Alan Turing"]
    Order.objects.filter(purchase_order_id="PO-0").update(customer_name="Ada King")
    assert kept(store) == ["Ada King", "Ada Lovelace", "Grace Hopper"]
    assert_searches_show_the_plain_rows(store, ["ada", "hopper"])


def test_two_writers_of_one_new_name_both_commit_and_keep_it_once(transactional_db, store):
    # given: a transaction writing an order of a name never seen, not committed yet
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            with transaction.atomic():
                Order.objects.create(
                    store=store, purchase_order_id="PO-2", commerce_order_number="WM2", customer_name="Hedy Lamarr",
                    order_date=ORDER_DATE,
                )  # fmt: skip
        except BaseException as error:  # noqa: BLE001 (reported to the test's thread)
            failures.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        Order.objects.create(
            store=store, purchase_order_id="PO-1", commerce_order_number="WM1", customer_name="Hedy Lamarr",
            order_date=ORDER_DATE,
        )  # fmt: skip
        # when: a second transaction writes an order of the same name meanwhile: it waits for the first
        writer = threading.Thread(target=second_writer)
        writer.start()
        deadline = time.monotonic() + 10
        while not _waiting_for_a_lock() and writer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _waiting_for_a_lock()
    writer.join(10)
    # then: both orders are stored, the name once
    assert not failures
    assert Order.objects.filter(store=store, customer_name="Hedy Lamarr").count() == 2
    assert kept(store) == ["Hedy Lamarr"]


def _waiting_for_a_lock() -> bool:
    """Whether another session of the database waits for a lock (the statistics' snapshot of this transaction
    cleared first: it would show the sessions as they were at its first read)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0
