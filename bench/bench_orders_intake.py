"""Benchmark: intake of a backlog of orders from the Walmart emulator by polling, at a large seller's shape
(issue 13's target: 2,000 orders/s or better with 5,000 distinct SKUs in one process; a backlog of 10,000
orders visible in under 10 s). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_orders_intake.py                      # PostgreSQL cm_orders_bench
    .venv/bin/python bench/bench_orders_intake.py --orders 2000 --skus 1000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cm_intake_bench .venv/bin/python -m bench orders_intake

Set-up: `--orders` orders (default 10,000) placed in the emulator, each of 1-3 lines over `--skus` distinct SKUs
(default 5,000; every SKU a product listed in the store), 1-3 units a line. The store's automatic
acknowledgement is ON, as a seller runs it: every new order's acknowledgement task is queued to the broker
(an embedded Redis private to the run; no worker consumes it, so what is timed is intake alone, with the
cost of queueing the acknowledgements included; Walmart paces the acknowledgements themselves at about 60 a
minute, which the webhook benchmark measures).

What is timed: `orders.services.order_poll` end to end, in this one process, as the schedule runs it: the
emulator answers over HTTP (a threaded WSGI server on 127.0.0.1 in a child process, sharing the database and the
machine's CPUs but not this process's: its CPU is printed apart; `--emulator-in-process` serves it from threads
of this process instead, as the figures before 2026-12-06 were measured, its CPU then in this process's), pages
of 200 orders are parsed by `walmart_client`, each batch is upserted in one transaction (orders, lines, commerce
order numbers, stock reserved for every line, timeline events, acknowledgements queued after commit), then
Walmart's released-orders queue is read; the pages are read and parsed in the poll's read-ahead thread while the
batches are written, two at a time, by the poll's writer threads (ORDERS_POLL_WRITERS, each its own connection:
one batch's Python runs while the other waits for PostgreSQL). A sampler thread (its own database connection)
counts the store's committed orders every 50 ms: the time until the first and until all of the backlog are
visible. Then a second poll over the same window (every order read again, compared, found unchanged: nothing
written).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import process_cpu_seconds, wsgi_server

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_orders_bench"
SAMPLE_SECONDS = 0.05
SKU_PREFIX = "ORD-"


def django_setup() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    from channel_manager.embedded_redis import embedded_redis_start

    # A broker private to the run: the acknowledgements intake queues are counted, then dropped with it.
    os.environ["REDIS_URL"] = embedded_redis_start(directory=Path(tempfile.mkdtemp(prefix="cm-bench-intake-")))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()
    from django.conf import settings

    # The emulator's own buckets would pace reads at Walmart's rate; intake is what is measured here.
    settings.WALMART_EMULATOR_RATE_LIMITS = {"orders_read": {"count": 10**9, "seconds": 1}}
    settings.ALLOWED_HOSTS = ["*"]
    # One line per call to the emulator and the emulator's 404 for an empty released queue are noise here.
    import logging

    logging.getLogger("walmart_client").setLevel(logging.WARNING)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    # Tasks go to the broker as in production (nothing consumes them here).
    from channel_manager.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False


def database_create(*, keep: bool) -> None:
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.urls import get_resolver

    setup_test_environment()
    # Not serialized: nothing here restores the database from a copy, and serializing a kept database of
    # 10,000 emulator orders cost 10 CPU-s before anything was timed.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep, serialize=False)
    # Fail now, not in the server thread, if the URL conf cannot be imported.
    assert get_resolver().url_patterns


class EmulatorServer:
    """The emulator over HTTP on 127.0.0.1: by default served by a child process (forked from this one, its
    own database connections), so that Walmart's side takes none of the intake process's CPU or interpreter
    lock, as a remote Walmart would not (it still shares the machine's CPUs); with `in_process`, by threads of
    this process."""

    def __init__(self, *, in_process: bool) -> None:
        from django.db import connections

        self.server = wsgi_server()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.pid: int | None = None
        if in_process:
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
            return
        connections.close_all()  # the child opens its own
        pid = os.fork()
        if pid == 0:
            try:
                self.server.serve_forever()
            finally:
                os._exit(0)
        self.pid = pid
        self.server.socket.close()

    def cpu_seconds(self) -> float | None:
        """CPU seconds the child process has used so far (None when in process)."""
        return process_cpu_seconds(self.pid) if self.pid is not None else None

    def stop(self) -> None:
        if self.pid is None:
            self.server.shutdown()
            return
        os.kill(self.pid, signal.SIGTERM)
        os.waitpid(self.pid, 0)


def our_side_reset(store) -> None:
    """Empty our side of the store, so that the next poll creates every order again."""
    from inventory.models import StockMovement, StockReservation
    from listings.models import Product
    from orders.models import Order, OrderSettings, OrderStatusCount

    Order.objects.filter(store=store).delete()
    OrderStatusCount.objects.filter(store=store).delete()
    OrderSettings.objects.filter(store=store).update(polled_through=None, auto_acknowledge=True, next_commerce_number=1)
    StockReservation.objects.filter(store=store).delete()
    StockMovement.objects.filter(product__sku__startswith=SKU_PREFIX).delete()
    Product.objects.filter(sku__startswith=SKU_PREFIX).update(quantity=10**6)


def seed_reused(order_count: int, sku_count: int):
    """The seller and store of an earlier run with the same shape (placing 10,000 orders in the emulator
    takes minutes): our side is emptied so the first poll creates every order again."""
    from channel_manager.models import Store
    from walmart_emulator.models import Seller

    for seller in Seller.objects.filter(name__startswith=f"Bench {sku_count} ").order_by("-pk"):
        placed = seller.orders.count()
        store = Store.objects.filter(client_id=seller.client_id).first()
        if placed == order_count and store is not None:
            started = time.perf_counter()
            our_side_reset(store)
            elapsed = time.perf_counter() - started
            print(f"  setup: reusing {placed:,} orders placed earlier (our side emptied in {elapsed:.1f} s)")
            return store, placed
    return None


def seed(order_count: int, sku_count: int):
    from decimal import Decimal

    from bench.seeding import emulator_offers_create
    from listings.models import Listing, Product
    from orders.models import OrderSettings
    from tests.factories import StoreFactory
    from walmart_emulator import services as emulator
    from walmart_emulator.orders import order_simulate

    started = time.perf_counter()
    secret = uuid.uuid4().hex
    seller = emulator.seller_create(name=f"Bench {sku_count} {secret[:6]}", client_secret=secret)
    emulator_offers_create(seller=seller, count=sku_count, sku_prefix=SKU_PREFIX, wpid_prefix=f"B{secret[:4]}", seed=3)
    existing = set(Product.objects.filter(sku__startswith=SKU_PREFIX).values_list("sku", flat=True))
    Product.objects.bulk_create(
        [
            Product(sku=f"{SKU_PREFIX}{index}", name=f"Bench product {index}", price=Decimal("9.99"), quantity=10**6)
            for index in range(sku_count)
            if f"{SKU_PREFIX}{index}" not in existing
        ],
        batch_size=1000,
    )
    Product.objects.filter(sku__startswith=SKU_PREFIX).update(quantity=10**6)
    rng = random.Random(13)
    skus = [f"{SKU_PREFIX}{index}" for index in range(sku_count)]
    for _ in range(order_count):
        lines = [(sku, rng.randint(1, 3)) for sku in rng.sample(skus, k=rng.randint(1, 3))]
        order_simulate(seller=seller, lines=lines, rng=rng)
    print(
        f"  setup: {order_count:,} orders over {sku_count:,} SKUs placed in the emulator in "
        f"{time.perf_counter() - started:.1f} s"
    )
    store = StoreFactory(environment="emulator", client_id=seller.client_id, client_secret=secret)
    products = Product.objects.filter(sku__in=skus)
    Listing.objects.bulk_create(
        [Listing(store=store, product=product, status="match") for product in products], batch_size=1000
    )
    OrderSettings.objects.create(store=store, auto_acknowledge=True)
    return store, order_count


class VisibilitySampler:
    """Counts the store's committed orders every SAMPLE_SECONDS on its own connection: when the first and
    when all `expected` orders became visible (seconds after `started`)."""

    def __init__(self, *, store_id: int, expected: int, started: float) -> None:
        self.store_id, self.expected, self.started = store_id, expected, started
        self.first: float | None = None
        self.all: float | None = None
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> VisibilitySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from django.db import connection

        from orders.models import Order

        try:
            while self.all is None:
                stopping = self._stop.is_set()  # one last sample after the poll ended, if it was not all seen
                visible = Order.objects.filter(store_id=self.store_id).count()
                elapsed = time.perf_counter() - self.started
                self.samples += 1
                if visible and self.first is None:
                    self.first = elapsed
                if visible >= self.expected:
                    self.all = elapsed
                if stopping:
                    break
                self._stop.wait(SAMPLE_SECONDS)
        finally:
            connection.close()


def page_reads_timed() -> tuple[list[float], list[float]]:
    """Time, from now on, the client's page reads (in the poll's read-ahead thread, or in the poll's own with
    ORDERS_POLL_READ_AHEAD_BATCHES=0) and the poll's waits for the next batch of read orders (its writer idle,
    waiting for Walmart). Each returned one-item list holds the seconds spent so far. Instrumentation of this
    run only."""
    from channel_manager import polling
    from walmart_client.resources.orders import Orders

    reading, waiting = [0.0], [0.0]
    read, read_ahead = Orders.list_page, polling.read_ahead

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return read(self, *args, **kwargs)
        finally:
            reading[0] += time.perf_counter() - started

    def waited(*args, **kwargs):
        chunks = read_ahead(*args, **kwargs)
        try:
            while True:
                started = time.perf_counter()
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                finally:
                    waiting[0] += time.perf_counter() - started
                yield chunk
        finally:
            chunks.close()

    Orders.list_page = timed
    polling.read_ahead = waited
    return reading, waiting


class StatementCounter:
    """Counts, while entered, the queries and COPY streams of intake's connections: this thread's and those of
    the poll's writer threads (`BatchWriters`: each batch is written on its thread's own connection; the emulator
    and the sampler use connections of their own). Also adds up the writer threads' CPU and their PostgreSQL
    backends' CPU (read from /proc before each batch and after its commit), and with `profile` profiles their
    batches."""

    def __init__(self, *, profile: bool) -> None:
        self.queries = self.copies = self.batches = 0
        self.writers_cpu = 0.0
        self.profiles: list[cProfile.Profile] = []
        self.profile = profile
        self._backends: dict[int, list[float]] = {}  # pid: [CPU before its first batch, after its last]
        self._lock = threading.Lock()

    @property
    def writers_database_cpu(self) -> float:
        return sum(after - before for before, after in self._backends.values())

    def _query(self, execute, sql, params, many, context):
        with self._lock:
            self.queries += 1
        return execute(sql, params, many, context)

    def _batch_written(self, write, **kwargs):
        """One batch in a writer thread: counted, timed, profiled."""
        from django.db import connection

        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        with self._lock:
            self._backends.setdefault(pid, [process_cpu_seconds(pid) or 0.0, 0.0])
        profiler = cProfile.Profile() if self.profile else None
        cpu_started = time.thread_time()
        try:
            with connection.execute_wrapper(self._query):
                if profiler:
                    profiler.enable()
                return write(**kwargs)
        finally:
            if profiler:
                profiler.disable()
            with self._lock:
                self.batches += 1
                self.writers_cpu += time.thread_time() - cpu_started
                self._backends[pid][1] = process_cpu_seconds(pid) or 0.0
                if profiler:
                    self.profiles.append(profiler)

    def __enter__(self) -> StatementCounter:
        import psycopg
        from django.db import connection

        from orders.services import intake

        self._wrapper = connection.execute_wrapper(self._query)
        self._wrapper.__enter__()
        self._copy = psycopg.Cursor.copy
        self._write = write = intake.orders_batch_write
        counter, copy = self, self._copy

        def counted(cursor, *args, **kwargs):
            thread = threading.current_thread()
            if thread is threading.main_thread() or thread.name.startswith(intake.WRITER_THREAD_NAME):
                with counter._lock:
                    counter.copies += 1
            return copy(cursor, *args, **kwargs)

        def batch_written(**kwargs):
            if not threading.current_thread().name.startswith(intake.WRITER_THREAD_NAME):
                return write(**kwargs)  # the poll's own thread: counted by its own wrapper
            return counter._batch_written(write, **kwargs)

        psycopg.Cursor.copy = counted
        intake.orders_batch_write = batch_written
        return self

    def __exit__(self, *exc) -> None:
        import psycopg

        from orders.services import intake

        psycopg.Cursor.copy = self._copy
        intake.orders_batch_write = self._write
        self._wrapper.__exit__(*exc)


def database_cpu_seconds() -> float | None:
    """CPU seconds used so far by the PostgreSQL backend serving this thread's connection (read from /proc: the
    server runs on this machine), or None when that cannot be read. The emulator's requests use connections of
    their own, not counted here."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return process_cpu_seconds(pid)


def broker_queued() -> dict[str, int]:
    """Tasks waiting in the run's broker, by queue and task name (the queues are the Redis lists)."""
    import json
    from collections import Counter

    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    counts: Counter[str] = Counter()
    for key in client.scan_iter():
        if client.type(key) != b"list" or key.startswith(b"_kombu"):
            continue
        for message in client.lrange(key, 0, -1):
            task = json.loads(message).get("headers", {}).get("task", "?")
            counts[f"{key.decode()}: {task.rsplit('.', 1)[-1]}"] += 1
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--skus", type=int, default=5_000, help="distinct SKUs the orders are spread over")
    parser.add_argument(
        "--fresh", action="store_true", help="new database (otherwise orders placed by an earlier run are reused)"
    )
    parser.add_argument(
        "--emulator-in-process",
        action="store_true",
        help="serve the emulator from threads of this process (its CPU and interpreter lock shared with intake)",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print the N costliest functions of the first poll"
    )
    arguments = parser.parse_args()
    django_setup()
    database_create(keep=not arguments.fresh)
    from django.conf import settings
    from django.db import connection

    from inventory.models import StockMovement, StockReservation
    from orders.models import Order, OrderLine
    from orders.services import order_poll

    server = EmulatorServer(in_process=arguments.emulator_in_process)
    try:
        print(
            f"Orders intake benchmark: {connection.vendor} ({connection.settings_dict['NAME']}), Python "
            f"{sys.version.split()[0]}, one process (no worker: tasks queued to a private Redis, not consumed), "
            "emulator "
            f"{'in this process' if arguments.emulator_in_process else 'in a child process'}, "
            f"{arguments.orders:,} orders over {arguments.skus:,} SKUs, auto-acknowledge on, batches of "
            f"{getattr(settings, 'ORDERS_UPSERT_BATCH_SIZE', 1000)}"
        )
        reused = None if arguments.fresh else seed_reused(arguments.orders, arguments.skus)
        store, placed = reused or seed(arguments.orders, arguments.skus)
        store.emulator_base_url = server.base_url + "/walmart-emulator"
        store.save(update_fields=["emulator_base_url"])
        load_before = os.getloadavg()[0]

        database_cpu_started, emulator_cpu_started = database_cpu_seconds(), server.cpu_seconds()
        started, cpu_started, thread_cpu_started = time.perf_counter(), time.process_time(), time.thread_time()
        reading, waiting = page_reads_timed()
        profiler = cProfile.Profile() if arguments.profile else None
        statements = StatementCounter(profile=bool(arguments.profile))
        with VisibilitySampler(store_id=store.pk, expected=placed, started=started) as sampler, statements:
            if profiler:
                profiler.enable()
            first = order_poll(store=store)
            if profiler:
                profiler.disable()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            thread_cpu = time.thread_time() - thread_cpu_started
        database_cpu, emulator_cpu = database_cpu_seconds(), server.cpu_seconds()
        if database_cpu is not None and database_cpu_started is not None:
            database_cpu += statements.writers_database_cpu
        writers = (
            f"{statements.batches} batches written by the writer threads: {statements.writers_cpu:.2f} CPU-s"
            if statements.batches
            else "the writer"
        )
        lines = OrderLine.objects.filter(order__store=store).count()
        skus = OrderLine.objects.filter(order__store=store).values("sku").distinct().count()
        print(
            f"  first poll: {first.created:,} orders created ({lines:,} lines over {skus:,} distinct SKUs, stock "
            f"reserved per line) in {elapsed:.2f} s = {first.created / elapsed:,.0f} orders/s (target 2,000/s); "
            f"this process used {cpu:.2f} CPU-s ({'with the emulator; ' if arguments.emulator_in_process else ''}"
            f"the poll's own thread: {thread_cpu:.2f} CPU-s; {writers}); load average "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs"
        )
        if database_cpu is not None and database_cpu_started is not None:
            print(
                f"  PostgreSQL's CPU for intake's connections: {database_cpu - database_cpu_started:.2f} s (process "
                f"+ database: {cpu + database_cpu - database_cpu_started:.1f} CPU-s = "
                f"{first.created / (cpu + database_cpu - database_cpu_started):,.0f} orders per CPU-second)"
            )
        if emulator_cpu is not None and emulator_cpu_started is not None:
            print(f"  Walmart's side (the emulator's process): {emulator_cpu - emulator_cpu_started:.1f} CPU-s")
        print(
            f"  reading Walmart's pages (the emulator answering over HTTP, the client parsing; in a "
            f"thread of its own, ahead of the writes): {reading[0]:.2f} s; the poll's thread waited for them "
            f"{waiting[0]:.2f} s; intake itself (mapping, upserts, stock, queueing): {elapsed - waiting[0]:.2f} s = "
            f"{first.created / (elapsed - waiting[0]):,.0f} orders/s"
        )
        all_visible = f"{sampler.all:.2f} s" if sampler.all is not None else "never"
        first_visible = f"{sampler.first:.2f} s" if sampler.first is not None else "never"
        print(
            f"  backlog of {placed:,} orders: first visible after {first_visible}, all visible after "
            f"{all_visible} (target under 10 s; sampled every {SAMPLE_SECONDS * 1000:.0f} ms, "
            f"{sampler.samples} samples)"
        )
        queued = broker_queued()
        print(
            f"  statements intake sent PostgreSQL: {statements.queries:,} queries and {statements.copies:,} COPY "
            f"streams = {(statements.queries + statements.copies) / (placed / 200):.1f} per page of 200 orders"
        )
        print(
            f"  tasks queued to the broker by intake: {sum(queued.values()):,} "
            f"({', '.join(f'{name} {count:,}' for name, count in sorted(queued.items())) or 'none'})"
        )
        if profiler:
            print(
                "  profile of the first poll (this thread and the writer threads' batches, their times added up; "
                "the read-ahead thread and the emulator apart):"
            )
            pstats.Stats(profiler, *statements.profiles).sort_stats("cumulative").print_stats(arguments.profile)
        movements = StockMovement.objects.filter(product__sku__startswith=SKU_PREFIX).count()
        reservations = StockReservation.objects.filter(store=store).count()
        print(f"  stock: {movements:,} movement rows, {reservations:,} reservation rows")
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
        server.stop()


if __name__ == "__main__":
    main()
