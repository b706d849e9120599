"""Benchmark: time from a committed catalog change to the Walmart emulator holding the new value, in the
production shape: PostgreSQL, the web server (emulator mounted), a real Celery worker and Celery beat
(issue 13 target: price and quantity p95 under 3 s at 1,000,000 listings with a trickle of 1 change/s).
Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_sync_latency.py                      # 1,000,000 listings, 1 change/s
    .venv/bin/python bench/bench_sync_latency.py --listings 100000 --changes 60 --rate 1 --burst 2000
    .venv/bin/python bench/bench_sync_latency.py --load-minutes 60 --load-changes 100000   # an hour, real time
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

`--load-minutes M` runs a load instead, in real time with the real worker and beat (Walmart's limits and the
planner's pacing as in production): `--load-changes` changes per hour (90 % quantities, 5 % of them to zero,
10 % prices) on random listings for M minutes, then up to `--timeout` s to settle. Printed: changes, single
calls and feeds sent, the largest feed, the 429s, latency p50 / p95 of the changes not superseded before they
landed, and how many changed listings still differ on the emulator at the end.
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
    stack_environment,
    stack_start,
    stack_stop,
    web_command,
    worker_command,
)

SECRET = "bench-latency-secret"  # noqa: S105 - the throwaway emulator seller of this run
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_sync_latency"
RECONCILE_TASK = "sync.tasks.sync_reconcile_tick_task"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


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

    store = Store(name="Latency bench", environment="emulator", emulator_base_url=base_url, client_id="latency-bench")
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
    parser.add_argument("--rate", type=float, default=1.0, help="trickle changes per second")
    parser.add_argument("--burst", type=int, default=0, help="quantities set by one import (0: skip)")
    parser.add_argument("--sample", type=float, default=0.05, help="seconds between two reads of the emulator")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up waiting after this")
    parser.add_argument("--database-url", default=None, help=f"default {DEFAULT_DATABASE_URL}; 'sqlite' for a file")
    parser.add_argument("--load-minutes", type=float, default=0, help="run a real-time load this long instead")
    parser.add_argument("--load-changes", type=int, default=100_000, help="changes per hour during the load")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-latency-"))
    port = free_port()
    database_url = database_prepare(args.database_url, workdir)
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
    store, seller = seed(listings=args.listings, vendor=connection.vendor, base_url=env["WALMART_EMULATOR_BASE_URL"])
    PeriodicTask.objects.filter(task=RECONCILE_TASK).update(enabled=False)
    print(
        f"database: {connection.vendor}; {args.listings:,} matched listings in sync (seeded in "
        f"{time.monotonic() - started:.0f} s); worker: celery -c 2 + beat (real); sampling every "
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
        ids = list(Product.objects.order_by("id").values_list("id", flat=True)[:: max(1, args.listings // 20000)])
        if args.load_minutes:
            load(args, sampler, rng, ids)
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


def trickle(args, sampler: Sampler, rng: random.Random, ids: list[int]) -> None:
    from listings.models import Product

    chosen = rng.sample(ids, k=min(args.changes, len(ids)))
    gap = 1.0 / args.rate
    next_at = time.monotonic()
    zeros = 0
    for number, product_id in enumerate(chosen):
        product = Product.objects.get(pk=product_id)
        if number % 2 == 0:
            price = Decimal("10.00") + Decimal(number + 1) / 100
            sampler.expect(
                sku=product.sku, kind="price", field="price", value=price, committed=price_change(product_id, price)
            )
        else:
            quantity = 0 if number % 10 == 1 else rng.randint(1, 19)
            zeros += quantity == 0
            kind = "quantity to zero" if quantity == 0 else "quantity"
            sampler.expect(
                sku=product.sku,
                kind=kind,
                field="quantity",
                value=quantity,
                committed=quantity_change(product, quantity),
            )
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
    from inventory.services import stock_bulk_set
    from listings.models import Product

    chosen = ids[-args.burst :]
    quantities = {pk: 1 + (i % 7) if i % 10 else 0 for i, pk in enumerate(chosen)}
    skus = dict(Product.objects.filter(pk__in=chosen).values_list("pk", "sku"))
    sampler.latencies.pop("burst", None)
    stock_bulk_set(quantities=quantities, reason="import", actor="bench")
    committed = time.monotonic()
    for pk, quantity in quantities.items():
        sampler.expect(sku=skus[pk], kind="burst", field="quantity", value=quantity, committed=committed)
    _wait(lambda: sampler.pending() == 0, timeout=max(args.timeout, 150))
    print(f"burst: one import sets {len(quantities):,} quantities:")
    print("  ", describe("all items -> emulator", sampler.latencies.get("burst", [])))
    if sampler.pending():
        print(f"   {sampler.pending()} items not on the emulator in time")


def load(args, sampler: Sampler, rng: random.Random, ids: list[int]) -> None:
    from listings.models import Product

    per_second = args.load_changes / 3600
    end = time.monotonic() + args.load_minutes * 60
    due, changes, last_report = 0.0, 0, time.monotonic()
    while time.monotonic() < end:
        second = time.monotonic()
        due += per_second
        while due >= 1:
            due -= 1
            product = Product.objects.get(pk=rng.choice(ids))
            if rng.random() < 0.9:
                quantity = 0 if rng.random() < 0.05 else rng.randint(1, 40)
                committed = quantity_change(product, quantity)
                sampler.expect(sku=product.sku, kind="quantity", field="quantity", value=quantity, committed=committed)
            else:
                price = Decimal(rng.randint(500, 2500)) / 100
                sampler.expect(
                    sku=product.sku, kind="price", field="price", value=price, committed=price_change(product.pk, price)
                )
            changes += 1
        if time.monotonic() - last_report >= 600:
            last_report = time.monotonic()
            print(f"  {changes:,} changes so far; {sampler.pending()} not yet on the emulator")
        time.sleep(max(0.0, 1.0 - (time.monotonic() - second)))
    _wait(lambda: sampler.pending() == 0, timeout=args.timeout)
    print(f"load: {changes:,} changes in {args.load_minutes:g} minutes (real time), {sampler.superseded} superseded")
    for kind in ("quantity", "price"):
        print("  ", describe(f"{kind} -> emulator", sampler.latencies.get(kind, [])))
    print(f"   changed listings still differing on the emulator after {args.timeout:.0f} s: {sampler.pending()}")


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
