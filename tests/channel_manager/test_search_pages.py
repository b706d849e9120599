"""A search's page on the Orders and Returns tabs (channel_manager.listing_pages: the ids walked under a time
bound, else read first and sorted; on PostgreSQL a name search reads the rows of the names CustomerName finds):
the same rows, in the same order and with the same total, as the plain filtered (`customer_name__icontains`)
and sorted query, for rare, common and absent terms, with and without a status card, every sort both ways,
pages deep and past the end; on every database (the fallback's subquery too), and on PostgreSQL through the
fallback itself and through the rows' own column when too many names match."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext

from channel_manager.listing_pages import (
    SEARCH_COUNT_LIMIT,
    SEARCHED_FIRST,
    ListQuery,
    count_bounded,
    ids_searched_first,
    ids_walked_or_searched_first,
    search_page_read,
    sorted_by,
)
from listings.models import Listing
from listings.selectors import LISTING_SORTS, listing_list
from orders import selectors as order_selectors
from orders.models import Order
from orders.selectors import ORDER_SORTS, order_list, order_page, order_status_counts
from returns.models import Return
from returns.selectors import RETURN_SORTS, return_list, return_page, return_status_counts
from tests.listings.factories import ListingFactory, ProductFactory
from tests.orders.factories import ORDER_DATE

pytestmark = pytest.mark.django_db

# Names of the rows, by row number: "Alan Backusson" is rare (one row in 13), "son" common, "zed" absent.
NAMES = ["Grace Hopperson", "Ada Lovelace", "Ken Thompson", "Barbara Liskov", "Donald Knuthson"] * 2
NAMES += ["Edsger Dijkstra", "John McBackus", "Alan Backusson"]
TERMS = ["alan backusson", "son", "Lovelace", "zed"]
PAGE_SIZE = 5
PAGES = (1, 2, 5, 9)  # the last is past the end: the last page, as a plain query shows it
READ_FIRST = f") AS {SEARCHED_FIRST} ORDER BY"  # the query of ids_searched_first


def _orders(store, other_store) -> list[Order]:
    statuses = list(Order.Status.values)
    orders = Order.objects.bulk_create(
        [
            Order(
                store=store,
                purchase_order_id=f"PO-{n:04d}",
                customer_order_id=f"C-{n:04d}",
                commerce_order_number=f"WM{(n * 7) % 53:08d}",
                customer_name=NAMES[n % len(NAMES)],
                order_date=ORDER_DATE + timedelta(hours=n % 11),  # ties, broken by the id
                ship_by=None if n % 5 == 0 else ORDER_DATE + timedelta(days=n % 3),  # NULLs sort as the plain query's
                deliver_by=None if n % 7 == 0 else ORDER_DATE + timedelta(days=n % 4),
                method_code=["Standard", "Value", "Express"][n % 3],
                order_total=Decimal(n % 6),
                status=statuses[n % len(statuses)],
                items_summary=f"SKU-{n} x 1",
            )
            for n in range(53)
        ]
    )
    Order.objects.create(
        store=other_store, purchase_order_id="PO-OTHER", customer_name="Alan Backusson", order_date=ORDER_DATE
    )
    return orders


def _returns(store, orders) -> None:
    statuses = list(Return.Status.values)
    Return.objects.bulk_create(
        [
            Return(
                store=store,
                return_order_id=f"RMA-{(n * 11) % 41:04d}",
                order=orders[(n * 5) % len(orders)],
                customer_name=order.customer_name,
                requested_at=None if n % 6 == 0 else ORDER_DATE + timedelta(hours=n % 9),
                return_by=None if n % 4 == 0 else ORDER_DATE + timedelta(days=n % 5),
                refund_deadline=ORDER_DATE + timedelta(days=n % 3),
                charged_total=Decimal(n % 4),
                status=statuses[n % len(statuses)],
            )
            for n, order in enumerate(orders[:41])
        ]
    )


def _sorts(keys) -> list[str]:
    return [sort for key in keys for sort in (key, f"-{key}")]


TABS = {
    "orders": (order_page, order_list, order_status_counts, ORDER_SORTS),
    "returns": (return_page, return_list, return_status_counts, RETURN_SORTS),
}
MODELS = {"orders": Order, "returns": Return}
STATUSES = {"orders": [None, Order.Status.SHIPPED], "returns": [None, Return.Status.RECEIVED]}


def _plain(tab: str, store, term: str, sort: str, status: str | None = None):
    """The plain query of a name search: the rows whose own column contains `term`, sorted."""
    rows = MODELS[tab].objects.filter(store=store, customer_name__icontains=term)
    if status is not None:
        rows = rows.filter(status=status)
    return sorted_by(rows, sort=sort, sorts=TABS[tab][3])


@pytest.mark.parametrize("tab", list(TABS))
def test_search_pages_hold_the_rows_of_the_plain_sorted_query(store, other_store, tab):
    # given orders and returns whose names, sort keys and NULLs repeat (ties broken by the id)
    _returns(store, _orders(store, other_store))
    page_of, _, counts_of, sorts = TABS[tab]
    counts = counts_of(store=store)
    compared = 0
    for term in TERMS:
        for status in STATUSES[tab]:
            for sort in _sorts(sorts):
                plain_rows = _plain(tab, store, term, sort, status)
                plain = list(plain_rows.values_list("pk", flat=True))
                last = max(1, -(-len(plain) // PAGE_SIZE))
                for number in PAGES:
                    # when
                    page = page_of(
                        store=store,
                        query=ListQuery(status, term, sort, PAGE_SIZE, number),
                        counts=counts,
                    )
                    # then the page is the plain query's slice, its total the bounded count's
                    shown = min(number, last)
                    expected = plain[(shown - 1) * PAGE_SIZE : shown * PAGE_SIZE]
                    assert [row.pk for row in page.rows] == expected, (term, status, sort, number)
                    assert page.number == shown
                    assert page.has_next == (shown < last)
                    expected_total = count_bounded(plain_rows, limit=SEARCH_COUNT_LIMIT, estimate_first=True)
                    assert page.total.display == expected_total.display
                    compared += len(expected)
    assert compared > 100  # rows were compared, not only empty pages


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the names are kept on PostgreSQL")
@pytest.mark.parametrize("tab", list(TABS))
def test_a_name_search_reads_the_rows_of_the_names_found_not_the_rows_own_column(store, other_store, tab):
    # given
    _returns(store, _orders(store, other_store))
    page_of, _, counts_of, _ = TABS[tab]
    counts = counts_of(store=store)
    table = MODELS[tab]._meta.db_table
    # when
    with CaptureQueriesContext(connection) as captured:
        page = page_of(store=store, query=ListQuery(search="son", sort="-updated", page_size=PAGE_SIZE), counts=counts)
    # then the names were looked up, and no query of the tab's table tested its rows' names
    assert [row.pk for row in page.rows] == list(_plain(tab, store, "son", "-updated").values_list("pk", flat=True)[:5])
    sqls = [query["sql"] for query in captured.captured_queries]
    assert any('"orders_customername"' in sql and "LIKE" in sql for sql in sqls)
    assert not any(f'UPPER("{table}"."customer_name"::text) LIKE' in sql for sql in sqls)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the names are kept on PostgreSQL")
@pytest.mark.parametrize("tab", list(TABS))
@pytest.mark.parametrize(
    ("limit", "read"),
    [
        (None, '"{table}"."customer_name" IN (SELECT'),  # the names joined in the database, none sent back
        (1, 'UPPER("{table}"."customer_name"::text) LIKE'),  # more names than the limit: the rows' own column
    ],
)
def test_a_name_search_through_its_names_or_past_their_limit_has_the_plain_querys_pages(
    store, other_store, tab, monkeypatch, limit, read
):
    # given: "son" is in four names
    _returns(store, _orders(store, other_store))
    if limit is not None:
        monkeypatch.setattr(order_selectors, "CUSTOMER_NAMES_LIMIT", limit)
    page_of, _, counts_of, sorts = TABS[tab]
    counts = counts_of(store=store)
    table = MODELS[tab]._meta.db_table
    for sort in _sorts(sorts):
        plain = list(_plain(tab, store, "son", sort).values_list("pk", flat=True))
        for number in (1, 3):
            # when
            with CaptureQueriesContext(connection) as captured:
                page = page_of(store=store, query=ListQuery(None, "son", sort, PAGE_SIZE, number), counts=counts)
            # then
            assert [row.pk for row in page.rows] == plain[(number - 1) * PAGE_SIZE : number * PAGE_SIZE], sort
            sqls = [query["sql"] for query in captured.captured_queries]
            assert any(read.format(table=table) in sql for sql in sqls), sort
            assert not any("Hopperson" in sql for sql in sqls), sort  # no name travels as a parameter


@pytest.mark.parametrize("tab", list(TABS))
def test_ids_read_first_and_sorted_are_the_plain_querys_from_any_offset(store, other_store, tab):
    # given
    _returns(store, _orders(store, other_store))
    _, list_of, _, sorts = TABS[tab]
    for term in TERMS:
        for sort in _sorts(sorts):
            queryset = list_of(store=store, search=term, sort=sort)
            plain = list(queryset.values_list("pk", flat=True))
            for offset, limit in ((0, 6), (4, 6), (len(plain) - 2, 6), (len(plain) + 3, 6)):
                # when the matching rows are read first, then sorted (the fallback of a walk that ran too long)
                found, matched = ids_searched_first(queryset, offset=max(offset, 0), limit=limit)
                # then, with the number of rows when the page holds any
                assert found == plain[max(offset, 0) : max(offset, 0) + limit], (term, sort, offset)
                assert matched == (len(plain) if found else None)


# True after 10 ms for each row it is checked on (it names the row's id, so it is not evaluated once for all).
SLOW = RawSQL('(SELECT true FROM pg_sleep(0.01 + 0 * "orders_order"."id"))', [], output_field=BooleanField())


def _statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the walk's time bound is PostgreSQL's")
@pytest.mark.parametrize("sort", ["-ordered", "value", "status", "-ship_by"])
def test_a_walk_past_its_time_reads_the_rows_first_and_leaves_the_timeout_as_it_was(store, other_store, sort):
    # given a search whose every row costs 10 ms to check (pg_sleep): a walk allowed 1 ms is cancelled
    _orders(store, other_store)
    queryset = order_list(store=store, search="son", sort=sort).alias(slow=SLOW).filter(slow=True)
    plain = list(order_list(store=store, search="son", sort=sort).values_list("pk", flat=True))
    before = _statement_timeout()
    # when
    with CaptureQueriesContext(connection) as captured:
        found, matched = ids_walked_or_searched_first(queryset, offset=3, limit=6, walk_ms=1)
    # then the rows came from the fallback, the same as the plain query's, and the setting is back
    assert any(READ_FIRST in query["sql"] for query in captured.captured_queries)
    assert found == plain[3:9]
    assert matched == len(plain)
    assert _statement_timeout() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the walk's time bound is PostgreSQL's")
def test_a_walk_within_its_time_is_the_pages_ids_and_leaves_the_timeout_as_it_was(store, other_store):
    # given
    _orders(store, other_store)
    queryset = order_list(store=store, search="son", sort="value")
    before = _statement_timeout()
    # when
    with CaptureQueriesContext(connection) as captured:
        found, matched = ids_walked_or_searched_first(queryset, offset=2, limit=5, walk_ms=10_000)
    # then
    assert not any(READ_FIRST in query["sql"] for query in captured.captured_queries)
    assert found == list(queryset.values_list("pk", flat=True))[2:7]
    assert matched is None
    assert _statement_timeout() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the walk's time bound is PostgreSQL's")
@pytest.mark.parametrize("number", [1, 3, 9])
def test_a_search_page_whose_walk_is_cut_has_the_plain_querys_rows_and_total(store, other_store, number):
    # given a search whose every row costs 10 ms to check: its walk passes SEARCH_WALK_MS, and is cut
    _orders(store, other_store)
    queryset = order_list(store=store, search="son", sort="-value").alias(slow=SLOW).filter(slow=True)
    plain = order_list(store=store, search="son", sort="-value")
    plain_ids = list(plain.values_list("pk", flat=True))
    # when
    with CaptureQueriesContext(connection) as captured:
        page = search_page_read(
            queryset, query=ListQuery(search="son", sort="-value", page_size=PAGE_SIZE, number=number)
        )
    # then the rows read first gave the page and its total (past the end: the last page, read again)
    shown = min(number, -(-len(plain_ids) // PAGE_SIZE))
    assert any(READ_FIRST in query["sql"] for query in captured.captured_queries)
    assert [row.pk for row in page.rows] == plain_ids[(shown - 1) * PAGE_SIZE : shown * PAGE_SIZE]
    assert page.number == shown
    assert page.total.display == count_bounded(plain, limit=SEARCH_COUNT_LIMIT, estimate_first=True).display


def _listings(store) -> None:
    statuses = list(Listing.Status.values)
    for n in range(23):
        product = ProductFactory(
            name=f"{NAMES[n % len(NAMES)]} kettle", price=Decimal(n % 4), quantity=n % 3, sku=f"SKU-{(n * 7) % 23:03d}"
        )
        ListingFactory(
            store=store,
            product=product,
            status=statuses[n % len(statuses)],
            error_description=f"No item {n % 2}" if n % 3 else "",
            walmart_item_id=str(n % 5) if n % 4 else "",
        )


def test_listing_ids_read_first_and_sorted_are_the_plain_querys_by_related_fields_and_annotations(store):
    # given listings sorted by their product's columns, an annotation (error_start) or their own
    _listings(store)
    for term in ("son", "backusson", "kettle"):
        for sort in _sorts(LISTING_SORTS):
            queryset = listing_list(store=store, search=term, sort=sort)
            plain = list(queryset.values_list("pk", flat=True))
            assert plain or term != "kettle"
            for offset in (0, 3, len(plain) - 1):
                # when
                found, _ = ids_searched_first(queryset, offset=max(offset, 0), limit=4)
                # then
                assert found == plain[max(offset, 0) : max(offset, 0) + 4], (term, sort, offset)
