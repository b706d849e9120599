"""Benchmark: the Orders tab with 1,000,000 orders in one store (target: under 150 ms server time per page,
query count independent of page size). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_orders_page.py                      # PostgreSQL cm_orders_page_bench
    .venv/bin/python bench/bench_orders_page.py --orders 200000
    .venv/bin/python -m bench orders_page

Rows are generated inside PostgreSQL (`generate_series`, one line per order, statuses spread over the five
cards), then VACUUM ANALYZEd (as autovacuum would). Each figure is the median of `--repeat` requests
through Django's test client (the whole stack: middleware, login, view, selectors, template), after one
warm-up request; the query count is taken from the same requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_orders_page_bench"

ORDERS_SQL = """
INSERT INTO orders_order (
    store_id, purchase_order_id, customer_order_id, commerce_order_number, order_type,
    customer_name, customer_email, phone, address1, address2, city, state, postal_code, country, address_type,
    order_date, ship_by, deliver_by, method_code, currency, product_total, shipping_total, tax_total, order_total,
    item_quantity, items_summary, status, status_details, intent_to_cancel, walmart_last_modified, last_read_at,
    created_at, updated_at
)
SELECT %(store)s, (1800000000000 + n)::text, (5200000000000 + n)::text, 'WM' || lpad(n::text, 8, '0'), 'REGULAR',
    'Customer ' || (n %% 5000), 'c' || n || '@relay.walmart.com', '5550000000', '1 Main St', '', 'Bentonville',
    'AR', '72712', 'USA', 'RESIDENTIAL',
    now() - (n || ' seconds')::interval, now() - (n || ' seconds')::interval + interval '2 days',
    now() - (n || ' seconds')::interval + interval '5 days',
    (ARRAY['Standard','Value','Express'])[1 + n %% 3], 'USD', 19.98, 0, 1.60, 21.58,
    2, 'SKU-' || (n %% 1000) || ' x 2',
    (ARRAY['open','shipped','shipped','shipped','partially_shipped','canceled','error'])[1 + n %% 7],
    CASE WHEN n %% 7 = 6 THEN 'Shipment failed: INVALID_REQUEST_CONTENT' ELSE '' END,
    n %% 97 = 0, now(), now(), now(), now() - (n || ' seconds')::interval
FROM generate_series(1, %(count)s) AS n
"""
LINES_SQL = """
INSERT INTO orders_orderline (
    order_id, line_number, sku, product_name, quantity, quantity_created, quantity_acknowledged, quantity_shipped,
    quantity_delivered, quantity_cancelled, quantity_refunded, unit_price, product_amount, shipping_amount,
    tax_amount, charges, tracking, intent_to_cancel, status, status_details, stock_reserved, stock_released
)
SELECT id, '1', 'SKU-' || (id %% 1000), 'Bench product', 2, 0, 2, 0, 0, 0, 0, 9.99, 19.98, 0, 1.60, '[]', '[]',
    false, 'Acknowledged', '', 2, 0
FROM orders_order WHERE store_id = %(store)s
"""


# The page-measuring helpers below serve bench_returns.py too (one definition of how a list page is timed).


def django_setup(database_url: str = DEFAULT_DATABASE_URL) -> None:
    os.environ.setdefault("DATABASE_URL", database_url)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False


def database_create() -> None:
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def operator_and_store():
    """The operator who loads the pages and the store (they are a member) the rows are generated in."""
    from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory

    operator = UserFactory(username="bench-operator")
    store = StoreFactory(name="Bench store")
    StoreMembershipFactory(store=store, user=operator)
    return operator, store


def seed(count: int):
    from django.db import connection

    operator, store = operator_and_store()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(ORDERS_SQL, {"store": store.pk, "count": count})
        cursor.execute(LINES_SQL, {"store": store.pk})
        # What autovacuum does to tables this size soon after a bulk load (statistics, visibility map).
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE orders_orderline")
    from orders.services import order_status_counts_rebuild

    counts = order_status_counts_rebuild(store=store)  # rows made in SQL: count the status cards once
    print(f"  setup: {count:,} orders + {count:,} lines generated in {time.perf_counter() - started:.1f} s: {counts}")
    return operator, store


def measure(client, url: str, repeat: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    timings, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        queries = len(captured)
    rows = len(response.context["rows"])
    return statistics.median(timings) * 1000, queries, rows


def cases_print(operator, cases: list[tuple[str, str]], repeat: int) -> None:
    """One line per (name, url): median server time, queries per request, rows on the page."""
    from django.test import Client

    client = Client()
    client.force_login(operator)
    print(f"  {'case':42s} {'server ms':>10s} {'queries':>8s} {'rows':>6s}")
    for name, url in cases:
        milliseconds, queries, rows = measure(client, url, repeat)
        print(f"  {name:42s} {milliseconds:10.1f} {queries:8d} {rows:6d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    django_setup()
    database_create()
    from django.db import connection
    from django.urls import reverse

    print(f"Orders tab benchmark ({connection.vendor}, Python {sys.version.split()[0]})")
    operator, store = seed(arguments.orders)
    base = reverse("orders:order_list", args=[store.pk])
    deep_page = arguments.orders // 2 // 50
    cases = [
        *[(f"first page, {size} per page", f"{base}?per_page={size}") for size in (25, 50, 100, 200)],
        ("status card Shipped, 50 per page", f"{base}?status=shipped"),
        ("status card Error, page 100", f"{base}?status=error&page=100"),
        ("sort by Ship By ascending", f"{base}?sort=ship_by"),
        ("sort by Order Value descending", f"{base}?sort=-value"),
        ("page 100 (offset 4,950)", f"{base}?page=100"),
        (f"page {deep_page:,} (offset {deep_page * 50 - 50:,})", f"{base}?page={deep_page}"),
        ("search a Walmart order #", f"{base}?q={1800000000000 + arguments.orders // 3}"),
        ("search a commerce order #", f"{base}?q=WM{arguments.orders // 4:08d}"),
        ("search a customer name (substring)", f"{base}?q=Customer%204321"),
        ("search a SKU", f"{base}?q=SKU-777"),
    ]
    cases_print(operator, cases, arguments.repeat)


if __name__ == "__main__":
    main()
