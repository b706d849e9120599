"""Benchmark: the Walmart emulator's order reads (requests/second) and the time to process a 10,000-item feed.

Targets (the emulator must never limit the product's own benchmarks): 500 order-read requests/s, a
10,000-item feed processed in under 5 s. Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_emulator.py                       # SQLite file in a temp dir
    .venv/bin/python bench/bench_emulator.py --orders 2000 --requests 2000 --feed-items 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cm_bench_emulator .venv/bin/python -m bench emulator

Figures:
* order reads in-process (Django test client, full middleware + gateway: token, rate-limit bucket, JSON):
  GET /v3/orders/{po}, GET /v3/orders?limit=10, GET /v3/orders?limit=100;
* order reads over HTTP: GET /v3/orders/{po} with `requests` against a threaded WSGI server on 127.0.0.1
  (what the product's end-to-end benchmarks see), with 1 and 4 client threads;
* feeds: submit + process of a 10,000-item MP_ITEM_MATCH feed, inventory feed and price feed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import wsgi_server_start


def django_setup() -> None:
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='cm-bench-emulator-')}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()
    from django.conf import settings

    settings.WALMART_EMULATOR_RATE_LIMITS = {
        family: {"count": 10**9, "seconds": 1}
        for family in ("orders_read", "feeds:MP_ITEM_MATCH", "feeds:inventory", "feeds:price", "feeds_status")
    }
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0
    settings.ALLOWED_HOSTS = ["*"]


def database_create() -> None:
    """SQLite: migrate the fresh temporary file (a file, so the HTTP server's threads share it).
    PostgreSQL: a throw-away test database next to the one named in DATABASE_URL."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
    else:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} req/s ({count} requests in {seconds:.2f} s)"


def bench_in_process(seller, token: str, purchase_order_ids: list[str], requests_count: int) -> None:
    from django.test import Client

    client = Client()
    headers = {"WM_SEC.ACCESS_TOKEN": token, "WM_QOS.CORRELATION_ID": "bench", "WM_SVC.NAME": "Walmart Marketplace"}
    cases = [
        (
            "GET /v3/orders/{po}",
            lambda index: f"/walmart-emulator/v3/orders/{purchase_order_ids[index % len(purchase_order_ids)]}",
        ),
        ("GET /v3/orders?limit=10", lambda index: "/walmart-emulator/v3/orders?limit=10"),
        ("GET /v3/orders?limit=100", lambda index: "/walmart-emulator/v3/orders?limit=100"),
    ]
    for name, path in cases:
        count = requests_count if "limit=100" not in name else max(requests_count // 10, 50)
        assert client.get(path(0), headers=headers).status_code == 200
        started = time.perf_counter()
        for index in range(count):
            response = client.get(path(index), headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code} {response.content[:200]!r}")
        print(f"  in-process {name:28s} {rate(count, time.perf_counter() - started)}")


def bench_http(seller, token: str, purchase_order_ids: list[str], requests_count: int) -> None:
    import requests

    server, url = wsgi_server_start()
    base = f"{url}/walmart-emulator"
    headers = {"WM_SEC.ACCESS_TOKEN": token, "WM_QOS.CORRELATION_ID": "bench", "WM_SVC.NAME": "Walmart Marketplace"}
    local = threading.local()

    def one(index: int) -> float:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(
            f"{base}/v3/orders/{purchase_order_ids[index % len(purchase_order_ids)]}", headers=headers, timeout=30
        )
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.text[:200]}")
        return time.perf_counter() - started

    try:
        for workers in (1, 4):
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(one, range(20)))
                started = time.perf_counter()
                latencies = list(pool.map(one, range(requests_count)))
            elapsed = time.perf_counter() - started
            p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
            figure = rate(requests_count, elapsed)
            print(f"  HTTP GET /v3/orders/{{po}}, {workers} client thread(s): {figure}, p95 {p95:.1f} ms")
    finally:
        server.shutdown()


def bench_feeds(seller, feed_items: int) -> None:
    from walmart_emulator import services
    from walmart_emulator.feeds import feed_process, feed_submit
    from walmart_emulator.models import Feed

    catalog = services.catalog_seed(count=feed_items, seed=7)
    match = {
        "MPItemFeedHeader": {
            "sellingChannel": "mpsetupbymatch",
            "locale": "en",
            "version": "4.2",
            "processMode": "REPLACE",
        },
        "MPItem": [
            {
                "Item": {
                    "sku": f"BENCH-{index}",
                    "price": 19.99,
                    "ShippingWeight": 1.25,
                    "productIdentifiers": {"productIdType": "UPC", "productId": item.upc},
                }
            }
            for index, item in enumerate(catalog)
        ],
    }
    inventory = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [
            {"sku": f"BENCH-{index}", "quantity": {"unit": "EACH", "amount": index % 50}} for index in range(feed_items)
        ],
    }
    price = {
        "PriceHeader": {"version": "1.7"},
        "Price": [
            {
                "sku": f"BENCH-{index}",
                "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 9.99}}],
            }
            for index in range(feed_items)
        ],
    }
    from django.conf import settings

    for feed_type, payload in (("MP_ITEM_MATCH", match), ("inventory", inventory), ("price", price)):
        content = json.dumps(payload).encode()
        # Submit with a delay so the (eager) Celery task leaves it alone, then process it when due: the two
        # figures are measured apart.
        settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 60
        started = time.perf_counter()
        feed = feed_submit(seller=seller, feed_type=feed_type, content=content)
        submitted = time.perf_counter()
        feed = feed_process(feed_pk=feed.pk, now=feed.due_at)
        finished = time.perf_counter()
        feed = Feed.objects.get(pk=feed.pk)
        print(
            f"  {feed_type:13s} feed of {feed.items_received:,} items ({len(content) / 1e6:.1f} MB): submit "
            f"{submitted - started:.2f} s, process {finished - submitted:.2f} s -> {feed.status}, "
            f"{feed.items_succeeded:,} succeeded, {feed.items_failed:,} failed"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000, help="orders in the emulator before reading")
    parser.add_argument("--requests", type=int, default=2000, help="requests per read figure")
    parser.add_argument("--feed-items", type=int, default=10_000)
    arguments = parser.parse_args()

    django_setup()
    database_create()
    from django.db import connection

    from walmart_emulator import services
    from walmart_emulator.models import Offer

    print(f"Walmart emulator benchmark ({connection.vendor}, Python {sys.version.split()[0]})")
    seller = services.seller_create(name=f"Bench {uuid.uuid4().hex[:6]}")
    catalog = services.catalog_seed(count=200, seed=1)
    for index, item in enumerate(catalog):
        services.offer_create(
            seller=seller,
            sku=f"ORD-{index}",
            catalog_item=item,
            price=item.price,
            quantity=10**6,
            published_status=Offer.PublishedStatus.PUBLISHED,
        )
    started = time.perf_counter()
    placed = services.orders_simulate(seller=seller, count=arguments.orders)
    print(f"  setup: {len(placed):,} simulated orders in {time.perf_counter() - started:.1f} s")
    token = services.token_issue(client_id=seller.client_id, client_secret=seller.client_secret).token
    purchase_order_ids = [order.purchase_order_id for order in placed]

    print("Order reads (target 500 req/s):")
    bench_in_process(seller, token, purchase_order_ids, arguments.requests)
    bench_http(seller, token, purchase_order_ids, arguments.requests)
    print(f"Feeds (target: {arguments.feed_items:,} items in under 5 s):")
    bench_feeds(seller, arguments.feed_items)


if __name__ == "__main__":
    main()
