"""Benchmark: time from a committed catalog change to the Walmart emulator holding the new value, with the
real web server (emulator mounted), a real Celery worker and Celery beat (target: p95 under 60 s).
Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_sync_latency.py                       # 50 price changes + 50 drops to zero
    .venv/bin/python bench/bench_sync_latency.py --changes 80 --gap 1.0 --burst 2000
    .venv/bin/python bench/bench_sync_latency.py --database-url postgres://postgres@127.0.0.1:5432/cm_inventory_latency
    .venv/bin/python -m bench sync_latency

What runs: a fresh database (SQLite file in a temp dir by default, or `--database-url`; migrated, which
also installs the beat schedules), an embedded Redis private to the run, `manage.py runserver` on a free
port, `celery worker -c 2` and `celery beat`, all as child processes stopped at the end. This process
creates an emulator seller with offers and the matching store, products and listings (in sync), then
makes the changes exactly as the product does (`stock_set` for quantities, a price update followed by
`listings.signals.products_changed` for prices) and polls the emulator's tables until each value is there.

Phases:
1. trickle: `--changes` price changes and `--changes` quantity drops to zero, alternating, `--gap` seconds
   apart; latency per change, p50 / p95 / max per kind;
2. burst (`--burst N`, 0 to skip): one import sets N quantities at once; time until the emulator holds
   each value (single calls first, the rest in one feed processed by the emulator 5 s later);
then the number of 429s Walmart (the emulator) answered, from the sync's own ledgers.

`--load-hour` runs a different benchmark instead: an hour of heavy load on a simulated clock, in one
process. The emulator is served by a live-server thread; `django.utils.timezone.now` is moved forward 60 s
per tick, and the emulator's clock (its rate-limit buckets, token expiry, feed due times) follows it. Each
tick commits `--load-changes / 60` catalog changes (90 % quantities, 5 % of them to zero, 10 % prices) on
`--load-listings` listings, then runs the inventory and the price planner once, as beat does every minute
(the client is the store's, without the worker-side pacer sleep, which reads the real clock). After the
hour, up to 15 more ticks without changes let the last feeds complete. Printed: changes, single calls and
feeds sent, the largest feed, the 429s the emulator answered (from the sync's ledgers and run errors), and
how many listings still differ from the catalog on the emulator at the end.

    .venv/bin/python bench/bench_sync_latency.py --load-hour                      # 100,000 changes
    .venv/bin/python bench/bench_sync_latency.py --load-hour --load-changes 20000 --load-listings 5000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
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


def environment(database_url: str | None, workdir: Path, port: int) -> dict[str, str]:
    return stack_environment(
        database_url=database_url or f"sqlite:///{workdir}/bench.sqlite3", workdir=workdir, port=port
    )


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


def wait_until(check, *, timeout: float, interval: float = 0.05) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic()
        time.sleep(interval)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50, help="price changes and drops to zero, each")
    parser.add_argument("--gap", type=float, default=1.5, help="seconds between two changes")
    parser.add_argument("--burst", type=int, default=1000, help="quantities set by one import (0: skip)")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up on one change after this")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--load-hour", action="store_true", help="run the simulated hour of load instead")
    parser.add_argument("--load-changes", type=int, default=100_000)
    parser.add_argument("--load-listings", type=int, default=20_000)
    args = parser.parse_args()
    if args.load_hour:
        return load_hour(args)

    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-latency-"))
    port = free_port()
    env = environment(args.database_url, workdir, port)
    os.environ.update(env)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603

    import django

    django.setup()
    from django.db import transaction

    from channel_manager.models import Feed, Store
    from inventory.services import stock_bulk_set, stock_set
    from listings.models import Listing, Product
    from listings.signals import products_changed_send
    from sync.models import ItemUpdate
    from walmart_emulator import services as emulator
    from walmart_emulator.models import Offer

    count = args.changes * 2 + max(args.burst, 0)
    store = Store(
        name="Latency bench",
        environment="emulator",
        emulator_base_url=env["WALMART_EMULATOR_BASE_URL"],
        client_id="latency-bench",
    )
    store.client_secret = SECRET
    store.save()
    seller = emulator.seller_create(name="Latency bench seller", client_id="latency-bench", client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    Offer.objects.bulk_create(
        [
            Offer(
                seller=seller,
                sku=f"LAT-{n:06d}",
                catalog_item=item,
                wpid=f"W{n:011d}",
                product_name="Acme Stoneware Mug",
                price=Decimal("10.00"),
                quantity=20,
                published_status=Offer.PublishedStatus.PUBLISHED,
                created_at=emulator.emulator_now(),
                updated_at=emulator.emulator_now(),
            )
            for n in range(count)
        ]
    )
    products = Product.objects.bulk_create(
        [Product(sku=f"LAT-{n:06d}", name=f"Mug {n}", price=Decimal("10.00"), quantity=20) for n in range(count)]
    )
    Listing.objects.bulk_create(
        [
            Listing(
                store=store,
                product=product,
                status=Listing.Status.MATCH,
                confirmed_quantity=20,
                confirmed_price=Decimal("10.00"),
            )
            for product in products
        ]
    )
    print(f"database: {env['DATABASE_URL'].split(':', 1)[0]}; {count:,} matched listings in sync; port {port}")

    commands = {"web": web_command(port), "worker": worker_command(2), "beat": beat_command(workdir)}
    processes = stack_start(commands, env=env, workdir=workdir)
    try:
        import requests

        if wait_until(lambda: _up(requests, port), timeout=30, interval=0.3) is None:
            print("web server did not start; see", workdir / "web.log")
            return 1
        time.sleep(3)  # let the worker connect to the broker
        price_latencies: list[float] = []
        zero_latencies: list[float] = []
        missed = 0
        pending: list[tuple[str, str, str, object, float]] = []  # kind, sku, field, value, committed at
        for n in range(args.changes):
            # a price change announced in its transaction (as the catalog edit does); the nudge runs on commit
            price_product = products[2 * n]
            new_price = Decimal("10.00") + Decimal(n + 1) / 100
            with transaction.atomic():
                Product.objects.filter(pk=price_product.pk).update(price=new_price)
                products_changed_send(sender=Product, product_ids=[price_product.pk], fields={"price"})
            committed = time.monotonic()
            pending.append(("price", price_product.sku, "price", new_price, committed))
            time.sleep(args.gap / 2)
            # a quantity dropping to zero through the stock service (its hook runs after commit)
            zero_product = products[2 * n + 1]
            stock_set(product=zero_product, quantity=0, reason="manual", actor="bench")
            pending.append(("zero", zero_product.sku, "quantity", 0, time.monotonic()))
            time.sleep(args.gap / 2)
            pending = _collect(pending, Offer, seller, price_latencies, zero_latencies)
        deadline = time.monotonic() + args.timeout
        while pending and time.monotonic() < deadline:
            time.sleep(0.05)
            pending = _collect(pending, Offer, seller, price_latencies, zero_latencies)
        missed = len(pending)
        print("trickle phase (a change every", args.gap / 2, "s):")
        print(" ", describe("price change -> emulator", price_latencies))
        print(" ", describe("quantity to zero -> emulator", zero_latencies))
        if missed:
            print(f"  {missed} changes not on the emulator after {args.timeout:.0f} s")

        if args.burst:
            burst_products = products[2 * args.changes :]
            quantities = {p.pk: 1 + (i % 7) if i % 10 else 0 for i, p in enumerate(burst_products)}
            expected = {p.sku: quantities[p.pk] for p in burst_products}
            committed = time.monotonic()
            stock_bulk_set(quantities=quantities, reason="import", actor="bench")
            landed: dict[str, float] = {}
            deadline = committed + max(args.timeout, 150)
            while len(landed) < len(expected) and time.monotonic() < deadline:
                now = time.monotonic()
                for sku, quantity in Offer.objects.filter(
                    seller=seller, sku__in=list(expected.keys() - landed)
                ).values_list("sku", "quantity"):
                    if quantity == expected[sku]:
                        landed[sku] = now - committed
                time.sleep(0.2)
            zero_skus = {sku for sku, quantity in expected.items() if quantity == 0}
            print(f"burst phase (one import sets {len(expected):,} quantities, {len(zero_skus)} to zero):")
            print(" ", describe("all items -> emulator", list(landed.values())))
            print(" ", describe("zero items -> emulator", [v for k, v in landed.items() if k in zero_skus]))
            if len(landed) < len(expected):
                print(f"  {len(expected) - len(landed)} items not on the emulator in time")

        rate_limited = ItemUpdate.objects.filter(status=ItemUpdate.Status.RATE_LIMITED).count()
        feed_429 = (
            Feed.objects.filter(error__icontains="429").count()
            + Feed.objects.filter(error__icontains="rate limit").count()
        )
        print(
            f"single updates: {ItemUpdate.objects.filter(status='succeeded').count()} succeeded, "
            f"{rate_limited} answered 429; feeds: {Feed.objects.exclude(walmart_feed_id=None).count()} accepted, "
            f"{feed_429} refused with 429"
        )
        print("logs:", workdir)
        return 0
    finally:
        stack_stop(processes)


def load_hour(args) -> int:  # noqa: C901 - a linear script
    import random
    import threading
    from collections import defaultdict
    from datetime import timedelta

    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-load-"))
    env = environment(args.database_url, workdir, 0)
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603

    import django

    django.setup()
    import django.utils.timezone as timezone_module
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    from channel_manager.models import Feed, Store
    from channel_manager.walmart import walmart_client_for_store
    from listings.models import Listing, Product
    from sync.models import ItemUpdate
    from sync.services import sync_run
    from walmart_emulator import services as emulator
    from walmart_emulator.models import Offer

    offset = {"seconds": 0.0}
    real_now = timezone_module.now
    lock = threading.Lock()

    def simulated_now():
        with lock:
            return real_now() + timedelta(seconds=offset["seconds"])

    timezone_module.now = simulated_now

    server = LiveServerThread("127.0.0.1", _StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base_url = f"http://127.0.0.1:{server.port}/walmart-emulator"

    count = args.load_listings
    store = Store(name="Load bench", environment="emulator", emulator_base_url=base_url, client_id="load-bench")
    store.client_secret = SECRET
    store.save()
    seller = emulator.seller_create(name="Load bench seller", client_id="load-bench", client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    now = simulated_now()
    Offer.objects.bulk_create(
        [
            Offer(
                seller=seller,
                sku=f"LOAD-{n:06d}",
                catalog_item=item,
                wpid=f"L{n:011d}",
                product_name="Mug",
                price=Decimal("10.00"),
                quantity=20,
                published_status=Offer.PublishedStatus.PUBLISHED,
                created_at=now,
                updated_at=now,
            )
            for n in range(count)
        ],
        batch_size=5000,
    )
    products = Product.objects.bulk_create(
        [Product(sku=f"LOAD-{n:06d}", name=f"Mug {n}", price=Decimal("10.00"), quantity=20) for n in range(count)],
        batch_size=5000,
    )
    Listing.objects.bulk_create(
        [
            Listing(
                store=store,
                product=p,
                status=Listing.Status.MATCH,
                confirmed_quantity=20,
                confirmed_price=Decimal("10.00"),
            )
            for p in products
        ],
        batch_size=5000,
    )
    ids = [p.pk for p in products]
    client = walmart_client_for_store(store, max_rate_limit_wait=0, max_retries=0, rate_limit_hook=None)
    rng = random.Random(11)
    per_tick = args.load_changes // 60
    changes = 0
    run_errors: list[str] = []
    tick_seconds: list[float] = []
    print(f"load hour: {count:,} listings, {per_tick * 60:,} changes over 60 simulated minutes; emulator at {base_url}")
    for tick in range(75):
        started = time.perf_counter()
        if tick < 60:
            quantities: dict[int, list[int]] = defaultdict(list)
            prices: dict[Decimal, list[int]] = defaultdict(list)
            for _ in range(per_tick):
                pk = rng.choice(ids)
                if rng.random() < 0.9:
                    quantities[0 if rng.random() < 0.05 else rng.randint(1, 40)].append(pk)
                else:
                    prices[Decimal(rng.randint(500, 2500)) / 100].append(pk)
            for quantity, pks in quantities.items():
                Product.objects.filter(pk__in=pks).update(quantity=quantity)
            for price, pks in prices.items():
                Product.objects.filter(pk__in=pks).update(price=price)
            changes += per_tick
        results = [sync_run(store=store, stream=stream, client=client) for stream in ("inventory", "price")]
        run_errors += [r.error for r in results if r.error]
        tick_seconds.append(time.perf_counter() - started)
        if tick % 10 == 9:
            print(
                f"  minute {tick + 1}: inventory {results[0].plan.get('changes', 0):,} to send "
                f"({results[0].singles_sent} single, {results[0].feed_items:,} in feeds), "
                f"price {results[1].plan.get('changes', 0):,} ({results[1].singles_sent} single, "
                f"{results[1].feed_items:,} in feeds); wall {tick_seconds[-1]:.1f} s"
            )
        with lock:
            offset["seconds"] += 60
        if (
            tick >= 60
            and all(r.plan.get("changes", 0) == 0 for r in results)
            and not Feed.objects.filter(status__in=["PENDING", "RECEIVED", "INPROGRESS"]).exists()
        ):
            break
    rate_limited = ItemUpdate.objects.filter(status=ItemUpdate.Status.RATE_LIMITED).count()
    feed_refused = Feed.objects.filter(walmart_feed_id=None).count()
    errors_429 = [e for e in run_errors if "429" in e or "rate limit" in e.lower()]
    accepted = Feed.objects.exclude(walmart_feed_id=None)
    walmart = dict(Offer.objects.filter(seller=seller).values_list("sku", "quantity"))
    walmart_prices = dict(Offer.objects.filter(seller=seller).values_list("sku", "price"))
    differ = sum(
        1
        for sku, quantity, price in Product.objects.values_list("sku", "quantity", "price")
        if walmart[sku] != quantity or walmart_prices[sku] != price
    )
    print(f"changes committed: {changes:,} in 60 simulated minutes; ticks run: {len(tick_seconds)}")
    print(
        f"single updates: {ItemUpdate.objects.filter(status='succeeded', stream='inventory').count():,} inventory, "
        f"{ItemUpdate.objects.filter(status='succeeded', stream='price').count():,} price"
    )
    for feed_type in ("inventory", "price"):
        sizes = list(accepted.filter(feed_type=feed_type).values_list("item_count", flat=True))
        print(f"{feed_type} feeds accepted: {len(sizes)} (largest {max(sizes, default=0):,} items)")
    print(
        f"429s answered by the emulator: {rate_limited} single updates, {feed_refused} feeds not accepted, "
        f"{len(errors_429)} run errors mentioning a rate limit"
    )
    print(f"listings differing from the catalog on the emulator at the end: {differ:,} of {count:,}")
    print(f"wall time per tick: median {statistics.median(tick_seconds):.2f} s, max {max(tick_seconds):.2f} s")
    timezone_module.now = real_now
    server.terminate()
    return 0


def _up(requests, port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False


def _collect(pending, offer_model, seller, price_latencies, zero_latencies):
    """Move every pending change the emulator now holds into its latency list; return the rest."""
    if not pending:
        return pending
    now = time.monotonic()
    values = {
        sku: (price, quantity)
        for sku, price, quantity in offer_model.objects.filter(
            seller=seller, sku__in=[sku for _, sku, _, _, _ in pending]
        ).values_list("sku", "price", "quantity")
    }
    left = []
    for kind, sku, field, value, committed in pending:
        price, quantity = values[sku]
        held = price == value if field == "price" else quantity == value
        if held:
            (price_latencies if kind == "price" else zero_latencies).append(now - committed)
        else:
            left.append((kind, sku, field, value, committed))
    return left


if __name__ == "__main__":
    sys.exit(main())
