"""Benchmark: the Listings, Orders and Returns tabs at 1,000,000 rows each (target: under 150 ms server time,
first request included, a query count that does not grow with the page size, the page depth or the number
of rows; searches included). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_pages.py --reuse              # seeds once, then measures (PostgreSQL)
    .venv/bin/python bench/bench_pages.py --rows 100000 --tabs returns
    .venv/bin/python -m bench pages --reuse

Database: PostgreSQL (`--database-url`, default cm_pages_bench). Rows are generated inside PostgreSQL with
generate_series, every column the models have (a field this script does not name gets its default), in
one store (`--rows` each of products, listings, orders with a line each, returns with a line each) plus
a second store with a tenth as many (so every query must keep to its store), then VACUUM ANALYZEd (what
autovacuum does after a bulk load). Customer names as a store of a million orders has them: ~280,000 distinct
names (350,000 customers of generated first names and Zipf-frequent surnames: customer_name_sql), but for the
kept worst cases: a surname family of 100,000 orders (~2,400 distinct names) whose totals are a few values only,
and three names of 3,333 orders each sharing a total or two statuses. Seeding takes ~4 minutes (224 s + 10 s of
VACUUM ANALYZE at load ~1.5); databases seeded before 2026-12-06 19:12 (e.g. cm_search_bench) hold 300 names.
`--reuse` keeps a database seeded at the same scale (migrations are still applied, so new indexes are built on
the million rows).

Each tab is measured in a fresh Python process started as gunicorn starts a worker: it imports
`channel_manager.wsgi` (which warms the process up: views imported, templates compiled, the request's lazy
machinery loaded, the middleware chain built), then opens new database and cache connections as
gunicorn.conf.py's `post_worker_init` does (`worker_warm_up`). Its first request (the tab's first case) is
reported apart and in the summary at the end, as is the first request of every case;
"median" and "max" are over `--repeat` further requests. Queries are counted on every request, first
requests included (the range is printed). Each request goes through Django's test client: middleware,
session and login, the view, its queries and the template.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_pages_bench"
TABS = ("listings", "orders", "returns")
FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton", "Thompson"]
LAST_NAMES += [f"{name}son" for name in LAST_NAMES] + [f"Mc{name}" for name in LAST_NAMES]
# Every other order's customer: one of CUSTOMERS (orders repeat a customer, ~2.9 each), whose first name is one of
# 40 x 20 syllable pairs and whose surname one of 40 x 40 x 40 syllable triples drawn with a Zipf-like
# frequency (share of the k-th surname ~ 1 / (k + 10): the commonest ~1 % of customers, like Smith).
CUSTOMERS = 350_000
FIRST_STARTS = ["Ad", "Bea", "Cor", "Da", "Ed", "Fre", "Gio", "Hu", "Ir", "Ja", "Ka", "Le", "Mi", "No", "Ol", "Pe"]
FIRST_STARTS += ["Ra", "Sa", "Te", "Vi", "Wi", "Xa", "Yo", "Ze", "Al", "Bri", "Cla", "Do", "Em", "Fi", "Ge", "Ha"]
FIRST_STARTS += ["Is", "Jo", "Lu", "Ma", "Ni", "Ro", "Si", "To"]
FIRST_ENDS = ["a", "o", "ie", "ine", "el", "an", "ia", "us", "ette", "en", "is", "ys", "ard", "ric", "mond", "na"]
FIRST_ENDS += ["ra", "lie", "beth", "ton"]
SURNAME_STARTS = ["Al", "Bar", "Bel", "Bran", "Cal", "Car", "Dal", "Dor", "El", "Fal", "Gar", "Gil", "Hal", "Har"]
SURNAME_STARTS += ["Ing", "Jar", "Kel", "Kor", "Lan", "Lor", "Mar", "Mor", "Nel", "Nor", "Or", "Pal", "Per", "Quin"]
SURNAME_STARTS += ["Ral", "Ros", "Sal", "Ster", "Tal", "Tor", "Ul", "Val", "Ver", "Wal", "Wil", "Yar"]
SURNAME_MIDDLES = ["a", "e", "i", "o", "u", "an", "en", "in", "on", "ar", "er", "ir", "or", "el", "il", "ol", "am"]
SURNAME_MIDDLES += ["em", "om", "ad", "ed", "id", "od", "ab", "eb", "ib", "ag", "eg", "ig", "og", "at", "et", "it"]
SURNAME_MIDDLES += ["ot", "av", "ev", "iv", "ov", "az", "ez"]
SURNAME_ENDS = ["son", "man", "berg", "ton", "ley", "field", "wood", "ford", "by", "well", "more", "worth", "ridge"]
SURNAME_ENDS += ["stein", "dale", "ham", "land", "ings", "croft", "shaw", "brook", "mont", "ville", "wick", "ard"]
SURNAME_ENDS += ["ett", "ins", "ock", "ler", "ner", "ster", "kin", "cott", "hurst", "low", "mere", "stead", "thorpe"]
SURNAME_ENDS += ["ay", "ow"]
CUSTOMER_FULL_NAME = "Zeard Garothorpe"  # order 500,000's customer
COMMON_SURNAME = "alason"  # rank 0 (and inside Palason, Valason, ...)
COMMON_SUBSTRING = "ard"  # a first name ending of 20, a surname ending of 40: tens of thousands of names


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False


# --- seeding -------------------------------------------------------------------------------------------


def insert_select(cursor, model, expressions: dict[str, str], source: str, params: dict) -> int:
    """INSERT INTO the model's table SELECT every concrete column FROM `source`: the SQL of `expressions`
    where given (`%%` for a modulo), else the field's default, NULL or '' (a field added later still gets a
    value). Returns the number of rows inserted."""
    from django.db import connection

    columns, values, params = [], [], dict(params)
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = field.column
        columns.append(connection.ops.quote_name(column))
        if column in expressions:
            values.append(expressions[column])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values.append("now()")
        elif field.has_default():
            params[f"default_{column}"] = field.get_db_prep_save(field.get_default(), connection)
            values.append(f"%(default_{column})s")
        elif field.null:
            values.append("NULL")
        elif field.get_internal_type() in ("CharField", "TextField", "EmailField", "URLField", "SlugField"):
            values.append("''")
        else:
            raise SystemExit(f"{model.__name__}.{field.name} has no default: name it in the seeding SQL")
    # Column names and SQL expressions are this script's own; values travel as parameters.
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"  # noqa: S608
    cursor.execute(sql, params)
    return cursor.rowcount


def text_array(values: list[str]) -> str:
    return "(ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "])"


def customer_name_sql() -> str:
    """The customer name of order number `n` (SQL). Most orders: the generated name of customer
    c = hash(n) mod CUSTOMERS (see CUSTOMERS). Kept from the first seed for the benchmark's worst cases: the
    orders with (n / 10) mod 30 in (3, 13, 23) (100,000 a million, in runs of 10 every 300) carry a
    generated first name and the surname Dijkstra, Dijkstrason or McDijkstra (a few thousand distinct
    names), their totals 51.58-60.58 only (the value sort meets them late); "Alan Backus", "Alan Backusson"
    and "Ken Knuthson" (3,333 orders each a million) keep the first seed's rule (one total / two statuses)."""
    customer = f"abs(hashint8(n::bigint) %% {CUSTOMERS})"
    first = (
        f"{text_array(FIRST_STARTS)}[1 + abs(hashint8({customer})::bigint) %% {len(FIRST_STARTS)}] || "
        f"{text_array(FIRST_ENDS)}[1 + abs(hashint8({customer})::bigint / {len(FIRST_STARTS)}) %% {len(FIRST_ENDS)}]"
    )
    # Zipf-like rank: uniform u in [0, 1) -> k = 10 (S / 10 + 1)^u - 10, share of rank k ~ 1 / (k + 10).
    size = len(SURNAME_STARTS) * len(SURNAME_MIDDLES) * len(SURNAME_ENDS)
    uniform = f"((hashint8({customer} + 1000000000)::bigint + 2147483648) / 4294967296.0)"
    rank = f"floor(10 * power({size} / 10.0 + 1, {uniform}) - 10)::int"
    starts, middles = len(SURNAME_STARTS), len(SURNAME_MIDDLES)
    surname = (
        f"{text_array(SURNAME_STARTS)}[1 + {rank} %% {starts}] || "
        f"{text_array(SURNAME_MIDDLES)}[1 + ({rank} / {starts * len(SURNAME_ENDS)}) %% {middles}] || "
        f"{text_array(SURNAME_ENDS)}[1 + ({rank} / {starts}) %% {len(SURNAME_ENDS)}]"
    )
    kept = f"{text_array(FIRST_NAMES)}[1 + n %% 10] || ' ' || {text_array(LAST_NAMES)}[1 + (n / 10) %% 30]"
    return (
        f"CASE WHEN (n / 10) %% 30 IN (3, 13, 23) THEN {first} || ' ' || {text_array(LAST_NAMES)}[1 + (n / 10) %% 30] "
        f"WHEN (n %% 10, (n / 10) %% 30) IN ((2, 7), (2, 17), (9, 15)) THEN {kept} "
        f"ELSE {first} || ' ' || {surname} END"
    )


def order_columns() -> dict[str, str]:
    """The seeded orders' columns but the store (SQL over the order number `n`)."""
    name = customer_name_sql()
    return {
        "purchase_order_id": "(1800000000000 + n)::text",
        "customer_order_id": "(5200000000000 + n)::text",
        "commerce_order_number": "'WM' || lpad(n::text, 8, '0')",
        "order_type": "'REGULAR'",
        "customer_name": name,
        "customer_email": "'c' || n || '@relay.walmart.com'",
        "order_date": "now() - n * interval '30 seconds'",
        "ship_by": "now() - n * interval '30 seconds' + interval '2 days'",
        "deliver_by": "now() - n * interval '30 seconds' + interval '5 days'",
        "method_code": "(ARRAY['Standard','Value','Express'])[1 + n %% 3]",
        "product_total": "19.98",
        "tax_total": "1.60",
        "order_total": "21.58 + n %% 100",
        "item_quantity": "2",
        "items_summary": "'BENCH-' || lpad((1 + n * 7 %% %(count)s)::text, 7, '0') || ' x 2'",
        "status": "(ARRAY['shipped','shipped','shipped','shipped','open','partially_shipped','canceled','error'])"
        "[1 + n %% 8]",
        "status_details": "CASE WHEN n %% 8 = 7 THEN 'Shipment failed: INVALID_REQUEST_CONTENT' ELSE '' END",
        "intent_to_cancel": "n %% 97 = 0",
        "acknowledged_at": "now()",
        "walmart_last_modified": "now()",
        "last_read_at": "now()",
    }


def seed_store(cursor, *, store_id: int, count: int, first_product: int) -> None:
    """`count` products (numbered from `first_product`), a listing of each in the store, `count` orders with
    a line each, and a return of each order with its line."""
    from listings.models import Listing, Product
    from orders.models import Order, OrderLine
    from returns.models import Return, ReturnLine

    cursor.execute("SELECT coalesce(max(id), 0) FROM listings_product")
    params = {"store": store_id, "count": count, "first": first_product, "before": cursor.fetchone()[0]}
    series = "generate_series(%(first)s, %(first)s + %(count)s - 1) AS n"
    insert_select(
        cursor,
        Product,
        {
            "sku": "'BENCH-' || lpad(n::text, 7, '0')",
            "name": "'Benchmark product ' || n || ' ' || "
            "(ARRAY['mug','lamp','hose','kettle','towel','chair'])[1 + n %% 6]",
            "brand": "(ARRAY['Acme','Globex','Initech','Umbrella'])[1 + n %% 4]",
            "price": "(n %% 9000 + 100) / 100.0",
            "quantity": "n %% 500",
            "upc": "''",
        },
        series,
        params,
    )
    shares = ["match"] * 12 + ["draft"] * 5 + ["error", "processing", "match_in_stage"]  # out of 20
    statuses = f"{text_array(shares)}[1 + p.id %% 20]"
    insert_select(
        cursor,
        Listing,
        {
            "store_id": "%(store)s",
            "product_id": "p.id",
            "walmart_sku": "p.sku",  # where the model has it (a listing's own Walmart SKU)
            "status": statuses,
            "error_description": f"CASE WHEN {statuses} = 'error' THEN 'No Walmart item matches UPC ' || p.id "
            "ELSE '' END",
            "walmart_item_id": f"CASE WHEN {statuses} LIKE 'match%%' THEN (7000000000 + p.id)::text ELSE '' END",
            "last_synced_at": f"CASE WHEN {statuses} LIKE 'match%%' THEN now() - p.id * interval '1 second' END",
            "unpublished_reasons": "'[]'::jsonb",
        },
        "listings_product p WHERE p.id > %(before)s",
        params,
    )
    insert_select(cursor, Order, {**order_columns(), "store_id": "%(store)s"}, series, params)
    insert_select(
        cursor,
        OrderLine,
        {
            "order_id": "o.id",
            "line_number": "'1'",
            "sku": "split_part(o.items_summary, ' ', 1)",
            "product_name": "'Benchmark product'",
            "quantity": "2",
            "quantity_acknowledged": "2",
            "unit_price": "9.99",
            "product_amount": "19.98",
            "tax_amount": "1.60",
            "charges": "'[]'::jsonb",
            "tracking": "'[]'::jsonb",
            "status": "'Acknowledged'",
            "stock_reserved": "2",
        },
        "orders_order o WHERE o.store_id = %(store)s",
        params,
    )
    insert_select(
        cursor,
        Return,
        {
            "store_id": "%(store)s",
            "return_order_id": "(9000000000000 + o.id)::text",
            "customer_order_id": "o.customer_order_id",
            "purchase_order_id": "o.purchase_order_id",
            "order_id": "o.id",
            "customer_name": "o.customer_name",
            "customer_email": "o.customer_email",
            "return_type": "'REFUND'",
            "refund_mode": "'ONLINE'",
            "return_channel": "'ONLINE'",
            "requested_at": "o.order_date + interval '3 days'",
            "return_by": "o.order_date + interval '33 days'",
            "refund_deadline": "o.order_date + interval '5 days'",
            "walmart_refund_total": "21.60",
            "charged_total": "10.00 + o.id %% 50",
            "refunded_total": "CASE WHEN o.id %% 20 < 16 THEN 10.00 + o.id %% 50 ELSE 0 END",
            "item_quantity": "2",
            "items_summary": "o.items_summary",
            "status": "CASE WHEN o.id %% 20 < 16 THEN 'refunded' WHEN o.id %% 20 < 19 THEN 'received' ELSE 'error' END",
            "status_details": "CASE WHEN o.id %% 20 = 19 THEN 'Refund 1 failed: INVALID_REQUEST_CONTENT' ELSE '' END",
            "walmart_last_modified": "now()",
            "last_read_at": "now()",
            "raw": "'{}'::jsonb",
        },
        "orders_order o WHERE o.store_id = %(store)s",
        params,
    )
    insert_select(
        cursor,
        ReturnLine,
        {
            "return_order_id": "r.id",
            "return_order_line_number": "1",
            "purchase_order_id": "r.purchase_order_id",
            "purchase_order_line_number": "'1'",
            "sku": "split_part(r.items_summary, ' ', 1)",
            "product_name": "'Benchmark product'",
            "quantity": "2",
            "unit_price": "5.00",
            "unit_tax": "0.40",
            "item_price": "10.00",
            "tax": "0.80",
            "refunded_quantity": "CASE WHEN r.status = 'refunded' THEN 2 ELSE 0 END",
            "return_reason": "'DEFECTIVE'",
        },
        "returns_return r WHERE r.store_id = %(store)s",
        params,
    )


def seeded(rows: int) -> bool:
    """Whether the database already holds this benchmark's rows at this scale."""
    from django.db import connection

    from channel_manager.models import Store
    from listings.models import Listing

    if "channel_manager_store" not in connection.introspection.table_names():
        return False
    store = Store.objects.filter(name="Bench store").first()
    return store is not None and Listing.objects.filter(store=store).order_by().values("pk")[rows - 1 : rows].exists()


def seed(rows: int) -> None:
    from django.db import connection

    from orders.services import order_status_counts_rebuild
    from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory

    operator = UserFactory(username="bench-operator")
    store = StoreFactory(name="Bench store")
    other = StoreFactory(name="Other bench store")
    StoreMembershipFactory(store=store, user=operator)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # this session only: a bulk load
        seed_store(cursor, store_id=store.pk, count=rows, first_product=1)
        seed_store(cursor, store_id=other.pk, count=max(1, rows // 10), first_product=rows + 1)
    order_status_counts_rebuild(store=store)  # rows made in SQL: count the status cards once
    order_status_counts_rebuild(store=other)
    print(
        f"  seeded {rows:,} rows per table (+{rows // 10:,} in a second store) in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (
            "listings_product",
            "listings_listing",
            "orders_order",
            "orders_orderline",
            "returns_return",
            "returns_returnline",
            "orders_customername",  # filled by the triggers: unanalysed, its trigram index would go unused
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")


def prepare(database_url: str, rows: int, reuse: bool) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            connection.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    django_setup(database_url)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrations applied in {time.perf_counter() - started:.0f} s")
    if reuse and seeded(rows):
        print(f"  reusing the rows already seeded in {name}")
        return
    if exists:
        raise SystemExit(f"{name} holds other data: run without --reuse to rebuild it")
    seed(rows)


# --- measuring -----------------------------------------------------------------------------------------


def cases(tab: str, rows: int) -> list[tuple[str, dict]]:
    from channel_manager.listing_pages import MAX_OFFSET

    middle = rows // 2
    deepest = MAX_OFFSET // 25 + 1
    name = f"{LAST_NAMES[3]}"
    if tab == "listings":
        return [
            ("first page", {}),
            ("first page, 200 per page", {"per_page": 200}),
            ("status card Error", {"status": "error"}),
            ("status card Match, page 3", {"status": "match", "page": 3}),
            *[(f"sort by {key}", {"sort": key}) for key in ("name", "sku", "quantity", "price", "status", "error")],
            *[(f"sort by {key} descending", {"sort": f"-{key}"}) for key in ("item", "synced", "quantity", "price")],
            (f"deepest page ({deepest})", {"page": deepest}),
            ("search a SKU (prefix)", {"q": f"BENCH-{middle:07d}"}),
            ("search a SKU prefix, 1,000s match", {"q": "BENCH-0001"}),
            ("search part of a name", {"q": f"product {middle} "}),
            ("search a word of many names", {"q": "kettle"}),
            ("search a Walmart item id", {"q": str(7000000000 + middle)}),
            ("search nothing matches", {"q": "no such thing"}),
        ]
    if tab == "orders":
        return [
            ("first page", {}),
            ("first page, 200 per page", {"per_page": 200}),
            ("status card Shipped", {"status": "shipped"}),
            ("status card Error, page 100", {"status": "error", "page": 100}),
            *[
                (f"sort by {key}", {"sort": key})
                for key in (
                    "ship_by",
                    "deliver_by",
                    "value",
                    "updated",
                    "walmart_order",
                    "commerce_order",
                    "method",
                    "status",
                )
            ],
            ("sort by ordered ascending", {"sort": "ordered"}),
            (f"deepest page ({deepest})", {"page": deepest}),
            ("search a Walmart order #", {"q": str(1800000000000 + middle)}),
            ("search a commerce order #", {"q": f"WM{middle // 2:08d}"}),
            ("search a customer order #", {"q": str(5200000000000 + middle // 3)}),
            ("search a SKU", {"q": f"BENCH-{middle:07d}"}),
            ("search a surname (substring, 1,000s match)", {"q": name[:5].lower()}),
            ("search a full name", {"q": f"{FIRST_NAMES[2]} {LAST_NAMES[7]}"}),
            ("search nothing matches", {"q": "no such customer"}),
            ("search a surname (substring, 1,000s match), sort value", {"q": name[:5].lower(), "sort": "value"}),
            *realistic_name_cases("value"),
            *rare_name_cases(("ordered", "-ordered", *ORDER_SORT_KEYS)),
        ]
    return [
        ("first page", {}),
        ("first page, 200 per page", {"per_page": 200}),
        ("status card Received", {"status": "received"}),
        ("status card Error, page 100", {"status": "error", "page": 100}),
        *[
            (f"sort by {key}", {"sort": key})
            for key in ("rma", "commerce_order", "requested", "return_by", "deadline", "amount", "status", "updated")
        ],
        ("sort by deadline descending", {"sort": "-deadline"}),
        (f"deepest page ({deepest})", {"page": deepest}),
        ("search an RMA #", {"q": str(9000000000000 + middle)}),
        ("search a Walmart order #", {"q": str(1800000000000 + middle // 5)}),
        ("search a commerce order #", {"q": f"WM{middle // 7:08d}"}),
        ("search a SKU", {"q": f"BENCH-{middle:07d}"}),
        ("search a surname (substring, 1,000s match)", {"q": name[:5].lower()}),
        ("search a full name", {"q": f"{FIRST_NAMES[2]} {LAST_NAMES[7]}"}),
        ("search nothing matches", {"q": "no such customer"}),
        ("search a surname (substring, 1,000s match), sort amount", {"q": name[:5].lower(), "sort": "amount"}),
        *realistic_name_cases("amount"),
        *rare_name_cases(("requested", "-requested", *RETURN_SORT_KEYS)),
    ]


# Sorts other than the default, as each tab's sort cases name them.
ORDER_SORT_KEYS = ("ship_by", "deliver_by", "value", "-value", "updated", "walmart_order", "commerce_order")
ORDER_SORT_KEYS += ("method", "status", "-status")
RETURN_SORT_KEYS = ("rma", "commerce_order", "return_by", "deadline", "amount", "-amount", "status", "-status")
RETURN_SORT_KEYS += ("updated",)


def realistic_name_cases(total_sort: str) -> list[tuple[str, dict]]:
    """Searches of the generated customers' names: one customer's full name (a few orders), the commonest
    surname (also inside longer ones: ~4 % of the orders, 6,987 distinct names) and a 3-letter substring
    of 18,206 names, newest first and sorted by the total."""
    cases = [("search a customer's full name (a few rows)", {"q": CUSTOMER_FULL_NAME})]
    for label, term in (("the commonest surname", COMMON_SURNAME), ("a common 3 letters", COMMON_SUBSTRING)):
        cases.append((f"search {label}", {"q": term}))
        cases.append((f"search {label}, sort {total_sort}", {"q": term, "sort": total_sort}))
        cases.append((f"search {label}, sort -{total_sort}", {"q": term, "sort": f"-{total_sort}"}))
    return cases


def rare_name_cases(sorts: tuple[str, ...]) -> list[tuple[str, dict]]:
    """A full name (1 row in 300, as the first seed had every name) under each sort. The seed derives the name,
    status and total of a row from its number, so the rows of one name share a total and one of two statuses:
    sorted by either, they sit together somewhere in the sort's order, where a page's walk of the sort's index
    meets them late (a trap a repeat customer's orders set in real data, clustered in time)."""
    name = f"{FIRST_NAMES[2]} {LAST_NAMES[17]}"  # Alan Backusson: every row at one total, near the top
    status_name = f"{FIRST_NAMES[9]} {LAST_NAMES[15]}"  # Ken Knuthson: shipped or error, never canceled
    return [
        (f"search a full name, sort {sort}", {"q": status_name if sort.endswith("status") else name, "sort": sort})
        for sort in sorts
    ]


def measure(tab: str, rows: int, repeat: int) -> dict:
    """Runs in a fresh process: every case of one tab, the first request of the process and of each case
    reported apart."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench.stack import worker_client
    from channel_manager.models import Store
    from tests.factories import UserFactory

    user = UserFactory._meta.model.objects.get(username="bench-operator")
    store = Store.objects.get(name="Bench store")
    client = worker_client(user)
    url = reverse(
        {"listings": "listings:listing_list", "orders": "orders:order_list", "returns": "returns:return_list"}[tab],
        args=[store.pk],
    )
    results = []
    for label, query in cases(tab, rows):
        timings, queries, status, rows_shown = [], [], None, 0
        for _ in range(repeat + 1):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, query)
                timings.append((time.perf_counter() - started) * 1000)
            status = response.status_code
            queries.append(len(captured))
        html = response.content.decode()
        rows_shown = len(re.findall(r'<tr data-(?:sku|po|rma)="', html))
        shown = re.search(r"of ((?:about |more than )?[0-9,]+) · page", html)
        results.append(
            {
                "case": label,
                "status": status,
                "first_ms": round(timings[0], 1),
                "median_ms": round(statistics.median(timings[1:]), 1),
                "max_ms": round(max(timings[1:]), 1),
                "queries": [min(queries), max(queries)],
                "rows": rows_shown,
                "total": shown.group(1) if shown else "?",
            }
        )
    return {"tab": tab, "results": results}


# --- the write cost of the quantity sort's index ------------------------------------------------------

QUANTITY_INDEX = "product_quantity_id_idx"


def write_cost(moves: int, bulk: int, seed_value: int = 13) -> None:
    """What `product_quantity_id_idx` (the Listings tab's sort by quantity) costs the writes that change a
    quantity, measured on the seeded million products: `moves` stock moves (`inventory.services.stock_move`,
    one transaction each, as an order reservation or a manual adjustment makes them) and one
    `stock_bulk_set` of `bulk` products (an import's or a reconciliation's quantities), without the index and
    with it, each twice (a second pass on the same products, after a VACUUM such as autovacuum runs). Prints
    the time per move, the WAL written and the share of HOT updates (an update that changes no indexed column
    and finds room in its page writes no index entry; with the index every quantity change writes an entry
    in each of the product's indexes). The sync's nudge after commit is left out (the same either way).
    Every quantity is put back; the movement rows made here are deleted."""
    import random

    from django.db import connection

    from inventory.models import StockMovement
    from inventory.services import stock_bulk_set, stock_move
    from listings.models import Product
    from listings.signals import products_changed

    products_changed.receivers, receivers = [], products_changed.receivers  # no sync nudge: see above
    products_changed.sender_receivers_cache.clear()
    table = Product._meta.db_table
    actor = "bench-write-cost"
    chooser = random.Random(seed_value)
    chosen = chooser.sample(list(Product.objects.order_by().values_list("pk", flat=True)), moves + bulk)
    move_ids, bulk_ids = chosen[:moves], chosen[moves:]
    before = dict(Product.objects.filter(pk__in=[*move_ids, *bulk_ids]).values_list("pk", "quantity"))

    def stats() -> tuple[int, int, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute(
                "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                "WHERE relid = %s::regclass",
                [table],
            )
            wal, updates, hot = cursor.fetchone()
        return int(wal), updates, hot

    def run(label: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {table}")
        time.sleep(1.0)
        wal, updates, hot = stats()
        timings = []
        for product_id in move_ids:
            product = Product(pk=product_id)
            started = time.perf_counter()
            stock_move(product=product, delta=1, reason="manual", actor=actor, reference="quantity index cost")
            timings.append((time.perf_counter() - started) * 1000)
        wal_after, updates_after, hot_after = stats()
        hot_share = (hot_after - hot) / max(1, updates_after - updates)
        started = time.perf_counter()
        stock_bulk_set(quantities={pk: before[pk] + 7 for pk in bulk_ids}, reason="import", actor=actor)
        bulk_s = time.perf_counter() - started
        wal_bulk, updates_bulk, hot_bulk = stats()
        stock_bulk_set(quantities={pk: before[pk] for pk in [*move_ids, *bulk_ids]}, reason="import", actor=actor)
        print(
            f"  {label:28s} stock move median {statistics.median(timings):5.2f} ms, mean "
            f"{statistics.mean(timings):5.2f} ms, p95 {sorted(timings)[int(0.95 * (len(timings) - 1))]:5.2f} ms, "
            f"WAL {(wal_after - wal) / moves / 1024:5.1f} KiB/move, HOT {hot_share:4.0%}; "
            f"bulk set of {bulk:,}: {bulk_s:5.2f} s, WAL {(wal_bulk - wal_after) / 2**20:6.1f} MiB, "
            f"HOT {(hot_bulk - hot_after) / max(1, updates_bulk - updates_after):4.0%}"
        )

    print(
        f"\nWrite cost of {QUANTITY_INDEX} ({moves:,} stock moves of random products, one transaction each; one "
        f"bulk set of {bulk:,}; load average {os.getloadavg()[0]:.1f})"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {QUANTITY_INDEX}")
        run("without the index, pass 1")
        run("without the index, pass 2")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX CONCURRENTLY {QUANTITY_INDEX} ON {table} (quantity, id)")
        print(f"  index built CONCURRENTLY in {time.perf_counter() - started:.1f} s")
        run("with the index, pass 1")
        run("with the index, pass 2")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {QUANTITY_INDEX} ON {table} (quantity, id)")
        StockMovement.objects.filter(actor=actor).delete()
        products_changed.receivers = receivers
        products_changed.sender_receivers_cache.clear()


def child_figures(arguments: list[str], *, what: str, env: dict[str, str] | None = None) -> dict:
    """Run Python with `arguments` in a fresh process (in the project's directory) and return what it printed
    on its `FIGURES {json}` line; its output is shown and the benchmark stops when it fails."""
    result = subprocess.run(  # noqa: S603 - a benchmark script of this project
        [sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("FIGURES ")]
    if result.returncode != 0 or not lines:
        print(result.stdout[-2000:], result.stderr[-4000:])
        raise SystemExit(f"{what} failed")
    return json.loads(lines[-1][len("FIGURES ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep a database already seeded at this scale")
    parser.add_argument("--tabs", default=",".join(TABS))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_DATABASE_URL))
    parser.add_argument(
        "--write-cost",
        type=int,
        metavar="MOVES",
        default=0,
        help="measure instead what the quantity sort's index costs MOVES stock moves and a bulk set (see write_cost)",
    )
    parser.add_argument("--bulk", type=int, default=100_000, help="products in --write-cost's bulk set")
    parser.add_argument("--measure", choices=TABS, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        django_setup(arguments.database_url)
        import channel_manager.wsgi  # noqa: F401 - what gunicorn imports: the process warms up before it serves

        print("FIGURES " + json.dumps(measure(arguments.measure, arguments.rows, arguments.repeat)))
        return
    print(
        f"Pages benchmark: PostgreSQL ({arguments.database_url.rsplit('/', 1)[1]}), {arguments.rows:,} rows per table "
        f"in the measured store, Python {sys.version.split()[0]}, no worker involved (page views only)"
    )
    prepare(arguments.database_url, arguments.rows, arguments.reuse)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        print(f"  PostgreSQL {cursor.fetchone()[0]}")
    if arguments.write_cost:
        write_cost(arguments.write_cost, arguments.bulk)
        return
    connection.close()
    summaries: list[str] = []
    for tab in arguments.tabs.split(","):
        load = os.getloadavg()[0]
        figures = child_figures(
            [
                *(__file__, "--measure", tab, "--rows", str(arguments.rows)),
                *("--repeat", str(arguments.repeat), "--database-url", arguments.database_url),
            ],
            what=f"measuring {tab}",
        )
        print(f"\n{tab.title()} tab (load average {load:.1f}; first request of a fresh process on the first line)")
        print(f"  {'case':44s} {'first ms':>9s} {'median ms':>10s} {'max ms':>8s} {'queries':>8s} {'rows':>5s}  total")
        for row in figures["results"]:
            queries = (
                row["queries"][0] if row["queries"][0] == row["queries"][1] else "-".join(map(str, row["queries"]))
            )
            flag = "" if row["status"] == 200 else f"  HTTP {row['status']}"
            print(
                f"  {row['case']:44s} {row['first_ms']:9.1f} {row['median_ms']:10.1f} {row['max_ms']:8.1f} "
                f"{queries!s:>8s} {row['rows']:5d}  {row['total']}{flag}"
            )
        every = figures["results"]
        worst_first = max(every, key=lambda row: row["first_ms"])
        worst_median = max(every, key=lambda row: row["median_ms"])
        summary = (
            f"{tab.title()}: the fresh process's first request {every[0]['first_ms']:.1f} ms ({every[0]['case']}); "
            f"slowest first request of a case {worst_first['first_ms']:.1f} ms ({worst_first['case']}); slowest "
            f"median {worst_median['median_ms']:.1f} ms ({worst_median['case']}); queries per request "
            f"{min(row['queries'][0] for row in every)}-{max(row['queries'][1] for row in every)} over all "
            f"{len(every) * (arguments.repeat + 1)} requests; load average {load:.1f}-{os.getloadavg()[0]:.1f}"
        )
        summaries.append(summary)
        print("  " + summary)
    print("\nSummary (server time of a fresh worker process, first requests included)")
    for summary in summaries:
        print("  " + summary)


if __name__ == "__main__":
    main()
