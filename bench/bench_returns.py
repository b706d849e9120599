"""Benchmark: the Returns tab with many returns in one store (query count independent of page size, server
time per page), and intake speed (returns upserted per second from parsed Walmart answers, no network).
Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_returns.py                      # PostgreSQL cm_returns_bench
    .venv/bin/python bench/bench_returns.py --returns 50000 --intake 500
    .venv/bin/python -m bench returns

Rows are generated inside PostgreSQL (`generate_series`, one line per return, statuses spread over the three
cards), then ANALYZEd. Each page figure is the median of `--repeat` requests through Django's test client
(middleware, login, view, selectors, template) after one warm-up request; the query count is taken from
the same requests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# How a list page is timed is the Orders tab benchmark's (one definition for both tabs).
from bench.bench_orders_page import cases_print, database_create, django_setup, operator_and_store  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_returns_bench"

RETURNS_SQL = """
INSERT INTO returns_return (
    store_id, return_order_id, customer_order_id, purchase_order_id, customer_name, customer_email, return_type,
    refund_mode, return_channel, requested_at, return_by, refund_deadline, currency, walmart_refund_total,
    charged_total, refunded_total, item_quantity, items_summary, status, status_details, refunded_by_walmart,
    walmart_last_modified, last_read_at, raw, created_at, updated_at
)
SELECT %(store)s, (9000000000000 + n)::text, (5200000000000 + n)::text, (1800000000000 + n)::text,
    'Customer ' || (n %% 5000), 'c' || n || '@relay.walmart.com', 'REFUND', 'ONLINE', 'ONLINE',
    now() - (n || ' seconds')::interval, now() - (n || ' seconds')::interval + interval '30 days',
    now() - (n || ' seconds')::interval + interval '48 hours', 'USD', 21.60, 21.60,
    CASE WHEN n %% 3 = 1 THEN 21.60 ELSE 0 END, 2, 'SKU-' || (n %% 1000) || ' x 2',
    (ARRAY['received','refunded','received','error'])[1 + n %% 4],
    CASE WHEN n %% 4 = 3 THEN 'Refund 1 failed: INVALID_REQUEST_CONTENT' ELSE '' END,
    false, now(), now(), '{}'::jsonb, now(), now()
FROM generate_series(1, %(count)s) AS n
"""
LINES_SQL = """
INSERT INTO returns_returnline (
    return_order_id, return_order_line_number, purchase_order_id, purchase_order_line_number, sku, product_name,
    quantity, unit_price, unit_tax, item_price, tax, refunded_quantity, refunded_by_walmart_quantity,
    restocked_quantity, return_reason, refund_channel, is_return_for_exception, exception_item_type
)
SELECT id, 1, purchase_order_id, '1', 'SKU-' || (id %% 1000), 'Bench product', 2, 10.00, 0.80, 20.00, 1.60,
    0, 0, 0, 'DEFECTIVE', '', false, ''
FROM returns_return WHERE store_id = %(store)s
"""


def seed(count: int):
    from django.db import connection

    operator, store = operator_and_store()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            raise SystemExit("this benchmark generates rows with PostgreSQL's generate_series: set DATABASE_URL")
        cursor.execute(RETURNS_SQL, {"store": store.pk, "count": count})
        cursor.execute(LINES_SQL, {"store": store.pk})
        cursor.execute("ANALYZE returns_return")
        cursor.execute("ANALYZE returns_returnline")
    print(f"  setup: {count:,} returns + {count:,} lines generated in {time.perf_counter() - started:.1f} s")
    return operator, store


def intake(count: int) -> None:
    """Upsert `count` parsed Walmart returns twice (insert, then update) and print the rates."""
    from returns.services import return_upsert_from_walmart
    from tests.factories import StoreFactory
    from tests.returns.factories import return_json, return_line_json
    from walmart_client.models import WalmartReturn

    store = StoreFactory(name="Bench intake store")
    remotes = [
        WalmartReturn.from_api(
            return_json(
                rma=f"BENCH-{n}",
                customer_order_id=f"C-{n}",
                lines=[
                    return_line_json(po=f"PO-{n}"),
                    return_line_json(number=2, sku="SKU-2", quantity=1, po=f"PO-{n}"),
                ],
            )
        )
        for n in range(count)
    ]
    for label in ("first read (insert)", "second read (update)"):
        started = time.perf_counter()
        for remote in remotes:
            return_upsert_from_walmart(store=store, remote=remote)
        elapsed = time.perf_counter() - started
        print(f"  intake {label:22s} {count:,} returns in {elapsed:.2f} s = {count / elapsed:,.0f} returns/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--returns", type=int, default=200_000)
    parser.add_argument("--intake", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    django_setup(DEFAULT_DATABASE_URL)
    database_create()
    from django.db import connection
    from django.urls import reverse

    print(f"Returns benchmark ({connection.vendor}, Python {sys.version.split()[0]})")
    operator, store = seed(arguments.returns)
    base = reverse("returns:return_list", args=[store.pk])
    deep_page = arguments.returns // 2 // 50
    cases = [
        *[(f"first page, {size} per page", f"{base}?per_page={size}") for size in (25, 50, 100, 200)],
        ("status card Refunded, 50 per page", f"{base}?status=refunded"),
        ("status card Error, page 100", f"{base}?status=error&page=100"),
        ("sort by auto-refund time", f"{base}?sort=deadline"),
        ("sort by refund amount descending", f"{base}?sort=-amount"),
        (f"page {deep_page:,} (offset {deep_page * 50 - 50:,})", f"{base}?page={deep_page}"),
        ("search an RMA #", f"{base}?q={9000000000000 + arguments.returns // 3}"),
        ("search a Walmart order #", f"{base}?q={1800000000000 + arguments.returns // 5}"),
        ("search a SKU", f"{base}?q=SKU-777"),
    ]
    cases_print(operator, cases, arguments.repeat)
    intake(arguments.intake)


if __name__ == "__main__":
    main()
