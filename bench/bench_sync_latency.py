"""Benchmark: time from a committed catalog change to the Walmart emulator holding the new value, in the
production shape: PostgreSQL, the web server (emulator mounted), a real Celery worker and Celery beat
(issue 13 target: price and quantity p95 under 3 s at 1,000,000 listings with a trickle of 1 change/s).
Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_sync_latency.py                      # 1,000,000 listings, 1 change/s
    .venv/bin/python bench/bench_sync_latency.py --listings 100000 --changes 60 --rate 1 --burst 2000
    .venv/bin/python bench/bench_sync_latency.py --load-minutes 60 --rate 1       # an hour, real clock
    .venv/bin/python bench/bench_sync_latency.py --listings 20000 --spaced-burst 150 --timeout 480
    .venv/bin/python bench/bench_sync_latency.py --listings 20000 --spaced-burst 150 --spaced-field price --timeout 600
    .venv/bin/python bench/bench_sync_latency.py --database-url sqlite                    # the embedded default
    .venv/bin/python -m bench sync_latency

What runs: a fresh database (`--database-url`, default postgres://postgres@127.0.0.1:5432/cm_sync_latency,
dropped and created; `sqlite` for a file in a temp dir), migrated (which installs the beat schedules), an
embedded Redis private to the run, `manage.py runserver` on a free port, `celery worker -c 2` and
`celery beat`, all child processes stopped at the end. The emulator seller's offers and the store's
products and matched listings (`--listings`, all in sync) are seeded in SQL on PostgreSQL. The hourly
reconciliation job is switched off for the run (at a million listings it reads Walmart for minutes: its
cost is not the latency of a change). This process then makes the changes as the product does
(`stock_set` for quantities; a price update announced with `listings.signals.products_changed`), and a
sampler thread reads the emulator's tables every 50 ms (`--sample`) to see each value land.

Phases:
1. trickle: `--changes` changes at `--rate` per second, alternating a price change and a quantity change
   (one in five to zero); latency per change, p50 / p95 / max per kind;
2. burst (`--burst N`, 0 to skip): one import sets N quantities at once; time until the emulator holds each;
then the 429s Walmart (the emulator) answered, from the sync's own ledgers.

`--spaced-burst N` runs, instead of the trickle: an import of `--burst` quantities (default 200; over the single
calls of one run, so it goes as a feed: the time until the emulator holds them all includes the feed's poll),
then at once an import of N other quantities (N over one run's single calls): no feed may go for a feed spacing
(six minutes at ten feeds an hour), so this is the time to converge after a burst while the feed slot is far.
Printed per import: p50 / p95 / max from its commit to the emulator holding each value, how many single calls
and feeds carried it, and how long after its submission each feed's results were applied. With
`--spaced-field price` both imports change prices (Walmart's single price updates: about 100 an hour, so most
of the second import waits for a feed).

`--load-minutes M` runs a load instead, on the real clock with the same real processes (the emulator's rate
and feed limits on, the planner's pacing as in production; nothing simulated): the stack's CPU while idle
for `--idle-minutes` after `--idle-settle` s of start-up (worker, beat and web, seconds of CPU per minute
read from /proc), then `--rate` changes
a second for M minutes on random listings (every second change a price, the others quantities, one in five
of those to zero), the emulator still read every `--sample` s, then up to `--timeout` s for the last changes
to land and the idle CPU again. Printed: progress every `--report-minutes`; p50 / p95 / max of price and of
quantity over the whole run (a change superseded by a newer one of the same listing before it landed gives
way to the newer one, counted apart); changes never landed; the idle CPU before and after; the load average.
`--reuse` keeps a database this script seeded before (`--seed-only` seeds and stops), so the seeding of a
million listings can run ahead of the load:

    .venv/bin/python bench/bench_sync_latency.py --seed-only
    .venv/bin/python -u bench/bench_sync_latency.py --reuse --load-minutes 60 --rate 1
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    beat_command,
    free_port,
    percentile,
    stack_environment,
    stack_start,
    stack_stop,
    web_command,
    worker_command,
)

SECRET = "bench-latency-secret"  # noqa: S105 - the throwaway emulator seller of this run
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_sync_latency"
RECONCILE_TASK = "sync.tasks.sync_reconcile_tick_task"
STORE_NAME = "Latency bench"


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no sample"
    return (
        f"{name}: n={len(values)} p50 {statistics.median(values):.2f} s, p95 {percentile(values, 0.95):.2f} s, "
        f"max {max(values):.2f} s, min {min(values):.2f} s"
    )


def database_prepare(url: str | None, workdir: Path) -> str:
    """The run's database URL: a fresh PostgreSQL database (dropped and created), or a SQLite file."""
    if url == "sqlite":
        return f"sqlite:///{workdir}/bench.sqlite3"
    url = url or DEFAULT_DATABASE_URL
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


class Sampler(threading.Thread):
    """Reads the emulator's offers of the SKUs still expected every `interval` seconds and records when each
    expected value lands (latency from the commit of its change). A newer change of a SKU before the older
    one landed replaces it (counted as superseded)."""

    def __init__(self, seller_id: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.seller_id = seller_id
        self.interval = interval
        self.lock = threading.Lock()
        self.expected: dict[str, tuple[str, str, object, float]] = {}  # sku -> (kind, field, value, committed)
        self.latencies: dict[str, list[float]] = {}
        self.superseded = 0
        self.reads: list[float] = []
        self.stopping = threading.Event()

    def expect(self, *, sku: str, kind: str, field: str, value: object, committed: float) -> None:
        with self.lock:
            self.superseded += sku in self.expected
            self.expected[sku] = (kind, field, value, committed)

    def pending(self) -> int:
        with self.lock:
            return len(self.expected)

    def run(self) -> None:
        from django.db import connection

        from walmart_emulator.models import Offer

        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                with self.lock:
                    skus = list(self.expected)
                if skus:
                    rows = list(
                        Offer.objects.filter(seller_id=self.seller_id, sku__in=skus).values_list(
                            "sku", "price", "quantity"
                        )
                    )
                    seen = time.monotonic()
                    with self.lock:
                        for sku, price, quantity in rows:
                            if sku not in self.expected:
                                continue
                            kind, field, value, committed = self.expected[sku]
                            if (price if field == "price" else quantity) == value:
                                self.latencies.setdefault(kind, []).append(seen - committed)
                                del self.expected[sku]
                    self.reads.append(seen - started)
                self.stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            connection.close()


def seed(*, listings: int, vendor: str, base_url: str):
    """An emulator seller with `listings` offers (quantity 20, price 10.00), the store wired to it, and its
    products with matched listings in sync; in SQL on PostgreSQL."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.seed import rows_insert
    from channel_manager.models import Store
    from listings.models import Listing, Product
    from sync.models import SyncState
    from walmart_emulator import services as emulator
    from walmart_emulator.models import Offer

    store = Store(name=STORE_NAME, environment="emulator", emulator_base_url=base_url, client_id="latency-bench")
    store.client_secret = SECRET
    store.save()
    seller = emulator.seller_create(name="Latency bench seller", client_id="latency-bench", client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    now = timezone.now()
    sku = "'LAT-' || lpad(g::text, 7, '0')" if vendor == "postgresql" else None
    if vendor != "postgresql":
        Offer.objects.bulk_create(
            [
                Offer(
                    seller=seller,
                    sku=f"LAT-{n:07d}",
                    catalog_item=item,
                    wpid=f"W{n:011d}",
                    product_name="Acme Stoneware Mug",
                    price=Decimal("10.00"),
                    quantity=20,
                    published_status=Offer.PublishedStatus.PUBLISHED,
                    created_at=now,
                    updated_at=now,
                )
                for n in range(1, listings + 1)
            ],
            batch_size=5000,
        )
        products = Product.objects.bulk_create(
            [
                Product(sku=f"LAT-{n:07d}", name=f"Mug {n}", price=Decimal("10.00"), quantity=20)
                for n in range(1, listings + 1)
            ],
            batch_size=5000,
        )
        Listing.objects.bulk_create(
            [
                Listing(
                    store=store,
                    product=p,
                    walmart_sku=p.sku,
                    status="match",
                    confirmed_quantity=20,
                    confirmed_price=Decimal("10.00"),
                )
                for p in products
            ],
            batch_size=5000,
        )
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # in sync: nothing to mark
            series = ("generate_series(1, %s) g", [listings])
            rows_insert(
                cursor,
                Offer,
                {
                    "seller": ("%s", [seller.pk]),
                    "sku": (sku, []),
                    "catalog_item": ("%s", [item.pk]),
                    "wpid": ("'W' || lpad(g::text, 11, '0')", []),
                    "product_name": ("'Acme Stoneware Mug'", []),
                    "price": ("10.00", []),
                    "quantity": ("20", []),
                    "published_status": ("%s", [Offer.PublishedStatus.PUBLISHED.value]),
                    "created_at": ("%s", [now]),
                    "updated_at": ("%s", [now]),
                },
                *series,
            )
            rows_insert(
                cursor,
                Product,
                {
                    "sku": (sku, []),
                    "name": ("'Mug ' || g", []),
                    "price": ("10.00", []),
                    "quantity": ("20", []),
                    "created_at": ("%s", [now]),
                    "updated_at": ("%s", [now]),
                },
                *series,
            )
            rows_insert(
                cursor,
                Listing,
                {
                    "store": ("%s", [store.pk]),
                    "product": ("p.id", []),
                    "walmart_sku": ("p.sku", []),
                    "status": ("'match'", []),
                    "confirmed_quantity": ("20", []),
                    "confirmed_quantity_at": ("%s", [now]),
                    "confirmed_price": ("10.00", []),
                    "confirmed_price_at": ("%s", [now]),
                    "created_at": ("%s", [now]),
                    "updated_at": ("%s", [now]),
                },
                f"{Product._meta.db_table} p",
                [],
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    for stream in ("inventory", "price"):  # the store was in sync: no first full rescan
        SyncState.objects.update_or_create(store=store, stream=stream, defaults={"rescanned_at": now})
    return store, seller


def database_seeded(url: str | None, listings: int) -> bool:
    """Whether the database exists and holds this benchmark's store with `listings` listings."""
    import psycopg

    try:
        with psycopg.connect(url or DEFAULT_DATABASE_URL) as conn:
            row = conn.execute(
                "SELECT count(*) FROM listings_listing l JOIN channel_manager_store s ON s.id = l.store_id"
                " WHERE s.name = %s",
                [STORE_NAME],
            ).fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == listings


def seeded_reopen(*, base_url: str):
    """The seeded store and seller of an earlier run: the store's secret written again with this run's
    encryption keys (each run has its own) and pointed at this run's emulator."""
    from channel_manager.models import Store
    from walmart_emulator.models import Seller

    store = Store.objects.get(name=STORE_NAME)
    store.client_secret = SECRET
    store.emulator_base_url = base_url
    store.save()
    return store, Seller.objects.get(client_id=store.client_id)


def price_change(product_id: int, price: Decimal) -> float:
    """A price edit announced in its transaction, as the catalog does; returns when it committed."""
    from django.db import transaction

    from listings.models import Product
    from listings.signals import products_changed_send

    with transaction.atomic():
        Product.objects.filter(pk=product_id).update(price=price)
        products_changed_send(sender=Product, product_ids=[product_id], fields={"price"})
    return time.monotonic()


def quantity_change(product, quantity: int) -> float:
    from inventory.services import stock_set

    stock_set(product=product, quantity=quantity, reason="manual", actor="bench")
    return time.monotonic()


def ledgers() -> str:
    from channel_manager.models import Feed
    from sync.models import ItemUpdate

    accepted = Feed.objects.exclude(walmart_feed_id=None)
    largest = max(accepted.values_list("item_count", flat=True), default=0)
    return (
        f"single updates: {ItemUpdate.objects.filter(status='succeeded').count():,} succeeded, "
        f"{ItemUpdate.objects.filter(status='rate_limited').count()} answered 429; feeds: {accepted.count()} accepted "
        f"(largest {largest:,} items), {Feed.objects.filter(error__icontains='429').count()} refused with 429"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=1_000_000, help="matched listings (and emulator offers)")
    parser.add_argument("--changes", type=int, default=100, help="trickle changes (prices and quantities)")
    parser.add_argument("--rate", type=float, default=1.0, help="changes per second (trickle and load)")
    parser.add_argument("--burst", type=int, default=0, help="quantities set by one import (0: skip)")
    parser.add_argument("--sample", type=float, default=0.05, help="seconds between two reads of the emulator")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up waiting after this")
    parser.add_argument("--port", type=int, default=0, help="the web server's port (default: a free one)")
    parser.add_argument(
        "--spaced-burst", type=int, default=0, help="after a burst that goes as a feed, N more quantities at once"
    )
    parser.add_argument(
        "--spaced-field", choices=("quantity", "price"), default="quantity", help="what --spaced-burst changes"
    )
    parser.add_argument("--database-url", default=None, help=f"default {DEFAULT_DATABASE_URL}; 'sqlite' for a file")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded by an earlier run (PostgreSQL)")
    parser.add_argument("--seed-only", action="store_true", help="seed the database, then stop (for --reuse)")
    parser.add_argument("--load-minutes", type=float, default=0, help="run a real-time load this long instead")
    parser.add_argument("--idle-minutes", type=float, default=2, help="idle CPU measured this long before/after")
    parser.add_argument("--idle-settle", type=float, default=60, help="seconds of start-up before the idle CPU")
    parser.add_argument("--report-minutes", type=int, default=5, help="print the load's progress this often")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-latency-"))
    port = args.port or free_port()
    reused = args.reuse and database_seeded(args.database_url, args.listings)
    database_url = args.database_url if reused else database_prepare(args.database_url, workdir)
    env = stack_environment(database_url=database_url, workdir=workdir, port=port)
    os.environ.update(env)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603

    import django

    django.setup()
    from django.db import connection
    from django_celery_beat.models import PeriodicTask

    from listings.models import Product

    started = time.monotonic()
    if reused:
        store, seller = seeded_reopen(base_url=env["WALMART_EMULATOR_BASE_URL"])
    else:
        store, seller = seed(
            listings=args.listings, vendor=connection.vendor, base_url=env["WALMART_EMULATOR_BASE_URL"]
        )
    if args.seed_only:
        print(f"seeded {args.listings:,} matched listings in {time.monotonic() - started:.0f} s: {database_url}")
        return 0
    PeriodicTask.objects.filter(task=RECONCILE_TASK).update(enabled=False)
    print(
        f"database: {connection.vendor}; {args.listings:,} matched listings in sync ("
        + ("reused" if reused else f"seeded in {time.monotonic() - started:.0f} s")
        + "); worker: celery -c 2 + beat (real); sampling every "
        f"{args.sample * 1000:.0f} ms; load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    commands = {"web": web_command(port), "worker": worker_command(2), "beat": beat_command(workdir)}
    processes = stack_start(commands, env=env, workdir=workdir)
    sampler = Sampler(seller.pk, args.sample)
    try:
        import requests

        if not _wait(lambda: _up(requests, port), timeout=60):
            print("web server did not start; see", workdir / "web.log")
            return 1
        time.sleep(3)  # let the worker connect to the broker
        sampler.start()
        rng = random.Random(7)
        ids = list(Product.objects.order_by("id").values_list("id", flat=True)[:: max(1, args.listings // 200_000)])
        if args.load_minutes:
            load(args, sampler, rng, ids, processes)
        elif args.spaced_burst:
            spaced_burst(args, sampler, ids)
        else:
            trickle(args, sampler, rng, ids)
            if args.burst:
                burst(args, sampler, ids)
        sampler.stopping.set()
        sampler.join()
        print(ledgers())
        reads = sampler.reads or [0.0]
        print(f"emulator read by the sampler: median {statistics.median(reads) * 1000:.0f} ms per read")
        print("logs:", workdir)
        return 0
    finally:
        sampler.stopping.set()
        stack_stop(processes)


def change_make(sampler: Sampler, rng: random.Random, product_id: int, *, number: int) -> bool:
    """The `number`th change, on one product: a price when even, else a quantity (one in five of them to zero),
    made as the product makes it and expected on the emulator. Returns whether it set a quantity to zero."""
    from listings.models import Product

    product = Product.objects.get(pk=product_id)
    if number % 2 == 0:
        price = Decimal("10.00") + Decimal(number % 5000 + 1) / 100
        if price == product.price:
            price += Decimal("50.00")
        committed = price_change(product_id, price)
        sampler.expect(sku=product.sku, kind="price", field="price", value=price, committed=committed)
        return False
    quantity = 0 if number % 10 == 1 else rng.randint(1, 19)
    if quantity == product.quantity:
        quantity += 20
    kind = "quantity to zero" if quantity == 0 else "quantity"
    committed = quantity_change(product, quantity)
    sampler.expect(sku=product.sku, kind=kind, field="quantity", value=quantity, committed=committed)
    return quantity == 0


def trickle(args, sampler: Sampler, rng: random.Random, ids: list[int]) -> None:
    chosen = rng.sample(ids, k=min(args.changes, len(ids)))
    gap = 1.0 / args.rate
    next_at = time.monotonic()
    zeros = 0
    for number, product_id in enumerate(chosen):
        zeros += change_make(sampler, rng, product_id, number=number)
        next_at += gap
        time.sleep(max(0.0, next_at - time.monotonic()))
    _wait(lambda: sampler.pending() == 0, timeout=args.timeout)
    print(f"trickle: {len(chosen)} changes at {args.rate:g}/s ({zeros} quantities to zero):")
    for kind in ("price", "quantity", "quantity to zero"):
        print("  ", describe(f"{kind} -> emulator", sampler.latencies.get(kind, [])))
    all_quantities = sampler.latencies.get("quantity", []) + sampler.latencies.get("quantity to zero", [])
    print("  ", describe("any quantity -> emulator", all_quantities))
    if sampler.pending():
        print(f"   {sampler.pending()} changes not on the emulator after {args.timeout:.0f} s")


def burst(args, sampler: Sampler, ids: list[int]) -> None:
    burst_import(sampler, ids[-args.burst :], kind="burst", timeout=max(args.timeout, 150))
    print(f"burst: one import sets {args.burst:,} quantities:")
    print("  ", describe("all items -> emulator", sampler.latencies.get("burst", [])))
    if sampler.pending():
        print(f"   {sampler.pending()} items not on the emulator in time")


def price_burst_import(sampler: Sampler, product_ids: list[int], *, kind: str, timeout: float) -> None:
    """One catalog transaction sets the prices of `product_ids` (announced as the catalog does); waits until
    the emulator holds them all (or `timeout`)."""
    from django.db import transaction

    from listings.models import Product
    from listings.signals import products_changed_send

    prices = {pk: Decimal("11.00") + Decimal(i % 50) / 100 for i, pk in enumerate(product_ids)}
    skus = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "sku"))
    sampler.latencies.pop(kind, None)
    with transaction.atomic():
        for pk, price in prices.items():
            Product.objects.filter(pk=pk).update(price=price)
        products_changed_send(sender=Product, product_ids=list(prices), fields={"price"})
    committed = time.monotonic()
    for pk, price in prices.items():
        sampler.expect(sku=skus[pk], kind=kind, field="price", value=price, committed=committed)
    _wait(lambda: sampler.pending() == 0, timeout=timeout)


def burst_import(sampler: Sampler, product_ids: list[int], *, kind: str, timeout: float) -> None:
    """One import sets the quantities of `product_ids` (one in ten to zero); waits until the emulator holds
    them all (or `timeout`)."""
    from inventory.services import stock_bulk_set
    from listings.models import Product

    quantities = {pk: 1 + (i % 7) if i % 10 else 0 for i, pk in enumerate(product_ids)}
    skus = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "sku"))
    sampler.latencies.pop(kind, None)
    stock_bulk_set(quantities=quantities, reason="import", actor="bench")
    committed = time.monotonic()
    for pk, quantity in quantities.items():
        sampler.expect(sku=skus[pk], kind=kind, field="quantity", value=quantity, committed=committed)
    _wait(lambda: sampler.pending() == 0, timeout=timeout)


def spaced_burst(args, sampler: Sampler, ids: list[int]) -> None:
    from channel_manager.models import Feed
    from sync.models import ItemUpdate

    first = args.burst or 200
    chosen = ids[-(first + args.spaced_burst) :]
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for kind, product_ids in (("first burst", chosen[:first]), ("second burst", chosen[first:])):
        singles_before = ItemUpdate.objects.filter(status="succeeded").count()
        feeds_before = Feed.objects.exclude(walmart_feed_id=None).count()
        if args.spaced_field == "price":
            price_burst_import(sampler, product_ids, kind=kind, timeout=args.timeout)
        else:
            burst_import(sampler, product_ids, kind=kind, timeout=args.timeout)
        singles = ItemUpdate.objects.filter(status="succeeded").count() - singles_before
        accepted = Feed.objects.exclude(walmart_feed_id=None).order_by("id")[feeds_before:]
        print(
            f"{kind}: one import sets {len(product_ids):,} {args.spaced_field}s ({singles} single calls, "
            f"{len(accepted)} feeds):"
        )
        print("  ", describe("all items -> emulator", sampler.latencies.get(kind, [])))
        for feed in accepted:
            if _wait(lambda feed=feed: Feed.objects.get(pk=feed.pk).completed_at is not None, timeout=120):
                feed.refresh_from_db()
                closed = (feed.completed_at - feed.submitted_at).total_seconds()
                print(f"   feed of {feed.item_count} items: results applied {closed:.1f} s after its submission")
        if sampler.pending():
            print(f"   {sampler.pending()} items not on the emulator after {args.timeout:.0f} s")
            return
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def load(args, sampler: Sampler, rng: random.Random, ids: list[int], processes: dict) -> None:
    """The real-time load: the idle worker's CPU, then `--rate` changes a second for `--load-minutes`, then the
    idle worker's CPU again once every change landed (or `--timeout` passed)."""
    time.sleep(args.idle_settle)  # the worker's and beat's start-up is not idle
    idle_before = idle(processes, args.idle_minutes, "before the load")
    loads = [os.getloadavg()[0]]
    gap = 1.0 / args.rate
    began = next_at = time.monotonic()
    end = began + args.load_minutes * 60
    changes, zeros, next_report = 0, 0, began + 60
    while next_at < end:
        time.sleep(max(0.0, next_at - time.monotonic()))
        zeros += change_make(sampler, rng, rng.choice(ids), number=changes)
        changes += 1
        next_at += gap
        if time.monotonic() >= next_report:
            next_report += 60
            loads.append(os.getloadavg()[0])
            minute = round((time.monotonic() - began) / 60)
            if minute % args.report_minutes == 0:
                print(
                    f"  minute {minute}: {changes:,} changes, {sampler.pending()} not yet on the emulator; "
                    f"so far {figures(sampler)}; load average {loads[-1]:.1f}",
                    flush=True,
                )
    ran = (time.monotonic() - began) / 60
    loads.append(os.getloadavg()[0])
    _wait(lambda: sampler.pending() == 0, timeout=args.timeout)
    idle_after = idle(processes, args.idle_minutes, "after the load")
    print(
        f"load: {changes:,} changes in {ran:.1f} minutes of real time at {args.rate:g}/s (every second one a price, "
        f"{zeros} quantities to zero), {sampler.superseded} superseded by a newer change of the same listing before "
        f"landing; load average (1 min) during it {min(loads):.1f}-{max(loads):.1f}"
    )
    for kind in ("price", "quantity", "quantity to zero"):
        print("  ", describe(f"{kind} -> emulator", sampler.latencies.get(kind, [])))
    all_quantities = sampler.latencies.get("quantity", []) + sampler.latencies.get("quantity to zero", [])
    print("  ", describe("any quantity -> emulator", all_quantities))
    print(f"   changes still not on the emulator {args.timeout:.0f} s after the last: {sampler.pending()}")
    for label, (per_minute, _) in (("before", idle_before), ("after", idle_after)):
        print(
            f"   idle {label} ({args.idle_minutes:g} min): CPU s/min worker {per_minute['worker']:.2f}, beat "
            f"{per_minute['beat']:.2f}, web (emulator) {per_minute['web']:.2f}"
        )
    dead = [name for name, process in processes.items() if process.poll() is not None]
    if dead:
        print(f"   STOPPED DURING THE RUN: {dead}")


def idle(processes: dict, minutes: float, label: str) -> tuple[dict[str, float], list[dict[str, float]]]:
    """The stack's CPU per minute for `minutes` with nothing changing (printed minute by minute)."""
    from bench.stack import cpu_per_minute

    per_minute, marks = cpu_per_minute(processes, minutes)
    for number, mark in enumerate(marks, start=1):
        print(f"  idle {label}, minute {number}: " + ", ".join(f"{n} {v:.2f} s" for n, v in mark.items()), flush=True)
    return per_minute, marks


def figures(sampler: Sampler) -> str:
    with sampler.lock:
        latencies = {kind: list(values) for kind, values in sampler.latencies.items()}
    quantities = latencies.get("quantity", []) + latencies.get("quantity to zero", [])
    return ", ".join(
        f"{name} p95 {percentile(values, 0.95):.2f} s max {max(values):.2f} s"
        for name, values in (("price", latencies.get("price", [])), ("quantity", quantities))
        if values
    )


def _wait(check, *, timeout: float, interval: float = 0.05) -> bool:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return True
        time.sleep(interval)
    return False


def _up(requests, port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False


if __name__ == "__main__":
    sys.exit(main())
