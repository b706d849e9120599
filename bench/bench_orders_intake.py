"""Benchmark: intake of 10,000 orders from the Walmart emulator by polling (target: 500 orders/s or better
on PostgreSQL). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_orders_intake.py                      # PostgreSQL cm_orders_bench
    .venv/bin/python bench/bench_orders_intake.py --orders 2000
    DATABASE_URL=sqlite:////tmp/orders.sqlite3 .venv/bin/python -m bench orders_intake

What is timed: `orders.services.order_poll` end to end, as the schedule runs it: the emulator answers over
HTTP (a threaded WSGI server on 127.0.0.1 in this process, sharing the database), pages of 200 orders
are parsed by `walmart_client`, each page is upserted in one transaction (orders, lines, commerce order
numbers, stock reserved through `inventory.services.stock_move` for every line, timeline events), then
Walmart's released-orders queue is read too. Automatic acknowledgement is switched off here: Walmart allows
about 60 acknowledgements a minute, so acknowledgement is paced by Walmart, not by intake (the webhook
benchmark measures it). Then a second poll over the same window (every order read again, compared,
found unchanged: nothing written).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_orders_bench"
SKUS = 100


def django_setup() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()
    from django.conf import settings

    # The emulator's own buckets would pace reads at Walmart's rate; intake is what is measured here.
    settings.WALMART_EMULATOR_RATE_LIMITS = {"orders_read": {"count": 10**9, "seconds": 1}}
    settings.ALLOWED_HOSTS = ["*"]
    # Tasks go to the broker as in production (nothing consumes them here): what intake enqueues (the
    # inventory planner nudged by stock moves, webhook deliveries of the emulator) is not intake's time.
    from channel_manager.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False


def database_create(*, keep: bool) -> None:
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.urls import get_resolver

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep)
    # Fail now, not in the server thread, if the URL conf cannot be imported.
    assert get_resolver().url_patterns


class ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def server_start() -> tuple[ThreadedServer, str]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadedServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def seed_reused(order_count: int):
    """The seller and store of an earlier run with at least `order_count` orders (placing 10,000 orders in
    the emulator takes minutes): our side is emptied so the first poll creates every order again."""
    from channel_manager.models import Store
    from listings.models import Product
    from orders.models import Order, OrderSettings, OrderStatusCount
    from walmart_emulator.models import Seller

    for seller in Seller.objects.filter(name__startswith="Bench ").order_by("-pk"):
        placed = seller.orders.count()
        store = Store.objects.filter(client_id=seller.client_id).first()
        if placed >= order_count and store is not None:
            started = time.perf_counter()
            Order.objects.filter(store=store).delete()
            OrderStatusCount.objects.filter(store=store).delete()
            OrderSettings.objects.filter(store=store).update(polled_through=None, auto_acknowledge=False)
            Product.objects.filter(sku__startswith="ORD-").update(quantity=10**6)
            elapsed = time.perf_counter() - started
            print(f"  setup: reusing {placed:,} orders placed earlier (our side emptied in {elapsed:.1f} s)")
            return store, placed
    return None


def seed(order_count: int):
    from decimal import Decimal

    from listings.models import Listing, Product
    from orders.models import OrderSettings
    from tests.factories import StoreFactory
    from walmart_emulator import services as emulator
    from walmart_emulator.models import Offer

    secret = uuid.uuid4().hex
    seller = emulator.seller_create(name=f"Bench {secret[:6]}", client_secret=secret)
    catalog = emulator.catalog_seed(count=SKUS, seed=3)
    products = Product.objects.bulk_create(
        [
            Product(sku=f"ORD-{index}", name=f"Bench product {index}", price=Decimal("9.99"), quantity=10**6)
            for index in range(SKUS)
        ]
    )
    for index, item in enumerate(catalog):
        emulator.offer_create(
            seller=seller,
            sku=f"ORD-{index}",
            catalog_item=item,
            price=item.price,
            quantity=10**6,
            published_status=Offer.PublishedStatus.PUBLISHED,
        )
    started = time.perf_counter()
    placed = emulator.orders_simulate(seller=seller, count=order_count)
    print(f"  setup: {len(placed):,} orders placed in the emulator in {time.perf_counter() - started:.1f} s")
    store = StoreFactory(environment="emulator", client_id=seller.client_id, client_secret=secret)
    Listing.objects.bulk_create([Listing(store=store, product=product, status="match") for product in products])
    OrderSettings.objects.create(store=store, auto_acknowledge=False)
    return store, len(placed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument(
        "--fresh", action="store_true", help="new database (otherwise orders placed by an earlier run are reused)"
    )
    arguments = parser.parse_args()
    django_setup()
    database_create(keep=not arguments.fresh)
    from django.db import connection

    from orders.models import Order, OrderLine
    from orders.services import order_poll

    server, base = server_start()
    try:
        print(f"Orders intake benchmark ({connection.vendor}, Python {sys.version.split()[0]})")
        reused = None if arguments.fresh else seed_reused(arguments.orders)
        store, placed = reused or seed(arguments.orders)
        store.emulator_base_url = base + "/walmart-emulator"
        store.save(update_fields=["emulator_base_url"])

        started, cpu_started = time.perf_counter(), time.process_time()
        first = order_poll(store=store)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        lines = OrderLine.objects.filter(order__store=store).count()
        print(
            f"  first poll: {first.created:,} orders created ({lines:,} lines, stock reserved per line) in "
            f"{elapsed:.2f} s = {first.created / elapsed:,.0f} orders/s (target 500/s); this process used "
            f"{cpu:.1f} CPU-s (product and in-process emulator together), load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
        started = time.perf_counter()
        second = order_poll(store=store)
        elapsed = time.perf_counter() - started
        print(
            f"  second poll over the same window: {second.unchanged:,} unchanged, {second.updated} updated, "
            f"{second.created} created in {elapsed:.2f} s = {(second.unchanged + second.updated) / elapsed:,.0f} "
            "orders/s"
        )
        stored = Order.objects.filter(store=store).count()
        print(f"  orders placed on Walmart {placed:,}, stored {stored:,} (each exactly once: {stored == placed})")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
