"""Benchmark: a burst of customer orders on Walmart delivered by webhook, with the product's real processes
(web server with the emulator mounted, a real Celery worker and beat) and the emulator's rate limits ON
(acknowledgements: Walmart's 60 a minute). Issue 13's targets: every order visible p95 under 5 s,
acknowledged as fast as Walmart's limit allows, and nothing else (ships, syncs) delayed by the burst.
Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_webhook_latency.py                  # 500 orders in 10 s, PostgreSQL
    .venv/bin/python bench/bench_webhook_latency.py --orders 150 --seconds 5 --timeout 300
    .venv/bin/python bench/bench_webhook_latency.py --database-url sqlite:////tmp/webhook.sqlite3
    .venv/bin/python -m bench webhook_latency

What runs: a fresh database (`--database-url`, default PostgreSQL `cm_orders_webhook_bench`, dropped and
created), an embedded Redis private to the run, gunicorn (or `manage.py runserver`) on a free port, the
product's `celery worker -c --concurrency` (2) on the product's queues, Walmart's side on a worker of its own
(the emulator's queue, `--walmart-pool` prefork `-c --walmart-concurrency` 4: deliveries sent concurrently,
never in the product's worker slots) and `celery beat`, as child processes (bench/stack.py) stopped at the
end; the emulator's default rate limits. This process creates an emulator seller with `--skus` offers, the matching
store (auto-acknowledge on; inventory and price sync on), products and listings in sync, and subscribes the
store to Walmart's order events through Channel Settings' service (HMAC-signed deliveries). A customer
order (`order_simulate`) makes the emulator queue a PO_CREATED delivery; the worker POSTs it to the web
server's webhook endpoint, which records the event; the worker fetches the order through the API, stores
it (stock reserved, commerce order number) and acknowledges it (paced by Walmart's bucket; the 429s Walmart
answers all the same are counted from the emulator's request log).

Phases:
1. warm-up: `--probes` * 2 orders, waited for until acknowledged (they are shipped later);
2. quiet: `--probes` price changes and `--probes` shipments, one of each a second: the time until the
   emulator holds each (its offer's price; the line Shipped);
3. burst: `--orders` orders placed evenly over `--seconds` seconds, while the same probes run again.
Every latency is sampled every 50 ms: an order is visible when its row is committed in our database and
acknowledged when `acknowledged_at` is set, both counted from the moment the customer placed it. The
acknowledgement floor is what the emulator's bucket allows (the tokens left at the burst's start, then
60 a minute): the best any product could do.
"""

from __future__ import annotations

import argparse
import os
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

from bench.seeding import emulator_offers_create  # noqa: E402
from bench.stack import (  # noqa: E402
    CpuMeter,
    beat_command,
    cpu_split,
    free_port,
    gunicorn_command,
    percentile,
    pid_running,
    stack_environment,
    stack_processes,
    web_command,
    web_up,
    worker_command,
)
from channel_manager.queues import DEFAULT_QUEUE, WORK_QUEUES  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_orders_webhook_bench"
SAMPLE_SECONDS = 0.05
SECRET = "bench-webhook-secret"  # noqa: S105 - the throwaway emulator seller of this run
SKU_PREFIX = "HOOK-"
PROBE_PRICE = Decimal("12.34")
PART_NAMES = {  # the child processes' names in the CPU split
    "web": "gunicorn (our endpoint and the emulator's API)",
    "walmart": "Walmart's delivery worker",
}


def describe(values: list[float]) -> str:
    if not values:
        return "no sample"
    return (
        f"n={len(values)} p50 {statistics.median(values):.2f} s, p95 {percentile(values, 0.95):.2f} s, "
        f"max {max(values):.2f} s"
    )


def database_fresh(database_url: str) -> None:
    """Drop and create a PostgreSQL database (a SQLite file is created by migrate)."""
    if not database_url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def wait_until(check, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(SAMPLE_SECONDS)
    return False


class OrderSampler:
    """Every SAMPLE_SECONDS, on its own connection: when each purchase order of the store became visible
    and acknowledged (monotonic times)."""

    def __init__(self, store_id: int) -> None:
        self.store_id = store_id
        self.visible: dict[str, float] = {}
        self.acknowledged: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from django.db import connection

        from orders.models import Order

        try:
            while not self._stop.is_set():
                rows = Order.objects.filter(store_id=self.store_id).values_list("purchase_order_id", "acknowledged_at")
                now = time.monotonic()
                for purchase_order_id, acknowledged_at in rows:
                    self.visible.setdefault(purchase_order_id, now)
                    if acknowledged_at is not None:
                        self.acknowledged.setdefault(purchase_order_id, now)
                self._stop.wait(SAMPLE_SECONDS)
        finally:
            connection.close()


class Probes:
    """Work that must not wait for a burst: a price change (sync) and a shipment (operator push), one of
    each every `gap` seconds; each timed until the emulator holds it (checked every SAMPLE_SECONDS)."""

    def __init__(self, *, store, seller, products, orders, gap: float) -> None:
        self.store, self.seller, self.gap = store, seller, gap
        self.products, self.orders = list(products), list(orders)
        self.price: list[float] = []
        self.ship: list[float] = []
        self.missed: list[str] = []

    def run(self, count: int, *, timeout: float) -> None:
        from django.db import connection, transaction
        from django.utils import timezone

        from listings.models import Product
        from listings.signals import products_changed_send
        from orders.services import shipment_create

        pending: list[tuple[str, object, float]] = []
        try:
            for _ in range(count):
                product = self.products.pop()
                with transaction.atomic():
                    Product.objects.filter(pk=product.pk).update(price=PROBE_PRICE)
                    products_changed_send(sender=Product, product_ids=[product.pk], fields={"price"})
                pending.append(("price", product.sku, time.monotonic()))
                order = self.orders.pop()
                shipment_create(
                    order=order,
                    quantities={line.pk: line.quantity for line in order.lines.all()},
                    tracking_number=f"1Z{order.pk:010d}",
                    method_code="Standard",
                    ship_date=timezone.now(),
                    carrier="UPS",
                )
                pending.append(("ship", order.purchase_order_id, time.monotonic()))
                # Sampled while the next probes wait their turn: a probe is timed from its own start, not from
                # after the last one was made.
                next_probe = time.monotonic() + self.gap
                while time.monotonic() < next_probe:
                    pending = self._arrived(pending)
                    time.sleep(SAMPLE_SECONDS)
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                pending = self._arrived(pending)
                time.sleep(SAMPLE_SECONDS)
            self.missed.extend(f"{kind} {key}" for kind, key, _ in pending)
        finally:
            connection.close()

    def _arrived(self, pending: list[tuple[str, object, float]]) -> list[tuple[str, object, float]]:
        """Record the probes the emulator now holds; returns the others."""
        from walmart_emulator.models import LineStatus, Offer

        still = []
        for kind, key, started in pending:
            if kind == "price":
                done = Offer.objects.filter(seller=self.seller, sku=key, price=PROBE_PRICE).exists()
            else:
                done = LineStatus.objects.filter(
                    line__order__seller=self.seller, line__order__purchase_order_id=key, status="Shipped"
                ).exists()
            if done:
                (self.price if kind == "price" else self.ship).append(time.monotonic() - started)
            else:
                still.append((kind, key, started))
        return still


def rate_limited_acknowledgements(web_log: Path) -> int:
    """How many acknowledgements the emulator refused with 429 so far: its web server logs each one (Django's
    request log, a warning), whether or not the product writes it anywhere."""
    if not web_log.exists():
        return 0
    with web_log.open(errors="replace") as log:
        return sum(
            1 for line in log if "Too Many Requests: /walmart-emulator/v3/orders/" in line and "/acknowledge" in line
        )


def acknowledgement_floor(*, placed: dict[str, float], tokens: float, count: int, seconds: int) -> list[float]:
    """The earliest each order could be acknowledged after it was placed, with a bucket holding `tokens`
    at the first placement and refilled at `count` per `seconds` (one acknowledgement per order, in order)."""
    rate = count / seconds
    clock = min(placed.values())
    floor = []
    for moment in sorted(placed.values()):
        tokens = min(count, tokens + (moment - clock) * rate) if moment > clock else tokens
        clock = max(clock, moment)
        if tokens < 1:
            wait = (1 - tokens) / rate
            clock += wait
            tokens = 1
        tokens -= 1
        floor.append(clock - moment)
    return floor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500, help="orders in the burst")
    parser.add_argument("--seconds", type=float, default=10.0, help="the burst's length")
    parser.add_argument("--skus", type=int, default=1000, help="distinct SKUs the orders are spread over")
    parser.add_argument("--probes", type=int, default=5, help="price changes and shipments per phase")
    parser.add_argument("--concurrency", type=int, default=2, help="the product worker's processes")
    parser.add_argument(
        "--worker-per-queue",
        action="store_true",
        help="production's shape (docker-compose): one product worker per queue, each -c --concurrency, so a ship "
        "never waits behind the burst's intake for a worker slot (with Walmart's worker of its own)",
    )
    parser.add_argument("--placers", type=int, default=4, help="threads placing the burst's orders on schedule")
    parser.add_argument(
        "--web",
        choices=("gunicorn", "runserver"),
        default="gunicorn",
        help="gunicorn gthread 2 x 8 (production's shape: a fixed pool of threads and database connections) or "
        "runserver (a thread and a persistent connection per request)",
    )
    parser.add_argument(
        "--walmart-worker",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the emulator's tasks (Walmart's webhook deliveries) on a worker of their own (a pool of threads, its "
        "queue), the product's worker on the product's queues, as the soak runs them; --no-walmart-worker: one worker "
        "for all (Walmart's deliveries then take the product's worker slots)",
    )
    parser.add_argument(
        "--walmart-concurrency",
        type=int,
        default=4,
        help="Walmart's deliveries sent at once (the emulator's worker's pool): Walmart pushes events "
        "concurrently, each within about a second",
    )
    parser.add_argument(
        "--walmart-pool",
        choices=("prefork", "threads"),
        default="prefork",
        help="processes (a fair share of a loaded machine's CPUs) or threads in one process for the deliveries",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="give up waiting after this (seconds)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    if args.worker_per_queue and not args.walmart_worker:
        parser.error("--worker-per-queue needs Walmart's worker (its queue has no other consumer)")

    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-webhook-"))
    port = free_port()
    env = stack_environment(database_url=args.database_url, workdir=workdir, port=port)
    os.environ.update(env)
    database_fresh(args.database_url)
    subprocess.run(  # noqa: S603 - the product's own command
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    import django

    django.setup()
    import random

    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from channel_manager.models import Store
    from listings.models import Listing, Product
    from orders.models import Order, OrderEvent, OrderSettings, WebhookEvent
    from orders.services import webhook_subscribe
    from walmart_emulator import services as emulator
    from walmart_emulator.clock import emulator_now
    from walmart_emulator.models import WebhookDelivery
    from walmart_emulator.orders import order_simulate
    from walmart_emulator.ratelimits import rate_limit_for, rate_limit_peek

    rng = random.Random(21)
    seller = emulator.seller_create(name="Webhook bench seller", client_id="webhook-bench", client_secret=SECRET)
    emulator_offers_create(
        seller=seller, count=args.skus, sku_prefix=SKU_PREFIX, wpid_prefix="HOOK", seed=5, price="10.00"
    )
    store = Store(name="Webhook bench", environment="emulator", client_id="webhook-bench")
    store.emulator_base_url = env["WALMART_EMULATOR_BASE_URL"]
    store.client_secret = SECRET
    store.save()
    products = Product.objects.bulk_create(
        [
            Product(sku=f"{SKU_PREFIX}{index}", name=f"Hook {index}", price=Decimal("10.00"), quantity=10**6)
            for index in range(args.skus)
        ],
        batch_size=1000,
    )
    Listing.objects.bulk_create(
        [
            Listing(
                store=store,
                product=product,
                status=Listing.Status.MATCH,
                confirmed_quantity=10**6,
                confirmed_price=Decimal("10.00"),
            )
            for product in products
        ],
        batch_size=1000,
    )
    OrderSettings.objects.create(store=store, auto_acknowledge=True)
    skus = [product.sku for product in products]
    probe_products = products[-2 * args.probes :]
    order_skus = skus[: -2 * args.probes]

    def place(chooser: random.Random = rng) -> tuple[str, float]:
        lines = [(sku, chooser.randint(1, 3)) for sku in chooser.sample(order_skus, k=chooser.randint(1, 3))]
        started = time.monotonic()
        return order_simulate(seller=seller, lines=lines, rng=chooser).purchase_order_id, started

    acknowledge_limit = rate_limit_for("orders_acknowledge")
    print(
        f"Webhook burst benchmark: {connection.vendor} ({args.database_url.rsplit('/', 1)[-1]}), real processes "
        f"({'gunicorn gthread 2 x 8' if args.web == 'gunicorn' else 'runserver'}, celery worker -c {args.concurrency} "
        + (
            f"{'per queue' if args.worker_per_queue else 'on the product queues'} ({', '.join(WORK_QUEUES)}) and "
            "Walmart's deliveries on a worker of their own "
            f"({args.walmart_pool} -c {args.walmart_concurrency}, queue {DEFAULT_QUEUE})"
            if args.walmart_worker
            else "consuming every queue, Walmart's deliveries included"
        )
        + ", beat), "
        f"emulator rate limits on (acknowledge {acknowledge_limit['count']} per {acknowledge_limit['seconds']} s), "
        f"{args.skus:,} SKUs; burst {args.orders} orders in {args.seconds:.0f} s ({args.placers} placing threads); "
        f"port {port}; logs {workdir}"
    )
    commands = {
        "web": gunicorn_command(port) if args.web == "gunicorn" else web_command(port),
        **(
            {f"worker-{queue}": worker_command(args.concurrency, [queue], f"product-{queue}") for queue in WORK_QUEUES}
            if args.worker_per_queue
            else {
                "worker": worker_command(
                    args.concurrency, list(WORK_QUEUES) if args.walmart_worker else None, "product"
                )
            }
        ),
        "beat": beat_command(workdir),
    }
    if args.walmart_worker:
        commands["walmart"] = worker_command(
            args.walmart_concurrency, [DEFAULT_QUEUE], "walmart", pool=args.walmart_pool
        )
    with stack_processes(commands, env=env, workdir=workdir) as processes:
        if not web_up(port):
            print("web server did not start; see", workdir / "web.log")
            return 1
        time.sleep(3)  # let the worker connect to the broker
        order_settings = OrderSettings.objects.get(store=store)
        endpoint = f"http://127.0.0.1:{port}" + reverse("orders:webhook_receive", args=[order_settings.webhook_token])
        print(f"  subscribed to {webhook_subscribe(store=store, event_url=endpoint)} order event type(s)")
        sampler = OrderSampler(store.pk)
        sampler.start()
        meter = CpuMeter(
            sessions={PART_NAMES.get(name, name): process.pid for name, process in processes.items()},
            pids={"redis": pid_running(env["REDIS_URL"].split("unix://", 1)[-1].split("?", 1)[0]) or 0},
            database=args.database_url.rsplit("/", 1)[-1] if connection.vendor == "postgresql" else "",
        ).start()
        try:
            warm = dict(place() for _ in range(2 * args.probes))
            if not wait_until(lambda: set(warm) <= set(sampler.acknowledged), timeout=120):
                print(f"  warm-up orders not acknowledged after 120 s; see {workdir}")
                return 1
            ship_orders = list(Order.objects.filter(store=store, purchase_order_id__in=warm).prefetch_related("lines"))
            print(
                "  warm-up: "
                + describe([sampler.acknowledged[po] - started for po, started in warm.items()])
                + " placed -> acknowledged"
            )
            probes = Probes(store=store, seller=seller, products=probe_products, orders=ship_orders, gap=1.0)
            probes.run(args.probes, timeout=120)
            quiet_price, quiet_ship = list(probes.price), list(probes.ship)
            probes.price.clear()
            probes.ship.clear()
            print(f"  quiet: price change -> Walmart {describe(quiet_price)}")
            print(f"  quiet: shipment -> Walmart {describe(quiet_ship)}")

            tokens = rate_limit_peek(seller=seller, family="orders_acknowledge", now=emulator_now()).tokens
            events_before = OrderEvent.objects.filter(message__startswith="Acknowledgement failed").count()
            refused_before = rate_limited_acknowledgements(workdir / "web.log")
            probe_thread = threading.Thread(target=probes.run, args=(args.probes,), kwargs={"timeout": args.timeout})
            placed: dict[str, float] = {}
            cpu_started = meter.reading()
            burst_started = time.monotonic()
            probe_thread.start()

            def placer(number: int) -> None:
                """Customers placing every `args.placers`-th order of the burst on schedule (one placer alone falls
                behind a 50-a-second burst on a loaded machine: each order is a transaction on Walmart's side)."""
                chooser = random.Random(1000 + number)
                try:
                    for index in range(number, args.orders, args.placers):
                        due = burst_started + index * args.seconds / args.orders
                        if due > time.monotonic():
                            time.sleep(due - time.monotonic())
                        purchase_order_id, started = place(chooser)
                        placed[purchase_order_id] = started
                finally:
                    connection.close()

            placers = [threading.Thread(target=placer, args=(number,)) for number in range(args.placers)]
            for thread in placers:
                thread.start()
            for thread in placers:
                thread.join()
            placing = time.monotonic() - burst_started
            all_visible = wait_until(lambda: set(placed) <= set(sampler.visible), timeout=args.timeout)
            visible_at = time.monotonic() - burst_started
            cpu_visible = meter.reading()
            all_acknowledged = wait_until(
                lambda: set(placed) <= set(sampler.acknowledged),
                timeout=max(1.0, args.timeout - (time.monotonic() - burst_started)),
            )
            acknowledged_at = time.monotonic() - burst_started
            probe_thread.join()
            cpu_end, ended_at = meter.reading(), time.monotonic() - burst_started
        finally:
            sampler.stop()
            meter.stop()

        visible = [sampler.visible[po] - started for po, started in placed.items() if po in sampler.visible]
        acknowledged = [
            sampler.acknowledged[po] - started for po, started in placed.items() if po in sampler.acknowledged
        ]
        floor = acknowledgement_floor(
            placed=placed, tokens=tokens, count=acknowledge_limit["count"], seconds=acknowledge_limit["seconds"]
        )
        failed = OrderEvent.objects.filter(message__startswith="Acknowledgement failed").count() - events_before
        refused = rate_limited_acknowledgements(workdir / "web.log") - refused_before
        print(f"  burst placed in {placing:.1f} s ({args.orders / placing:.0f} orders/s)")
        print(
            f"  placed -> visible:      {describe(visible)}"
            + (f"; all visible {visible_at:.1f} s after the burst began" if all_visible else "; NOT all visible")
            + " (target p95 < 5 s)"
        )
        print(
            f"  placed -> acknowledged: {describe(acknowledged)}"
            + (
                f"; all acknowledged {acknowledged_at:.1f} s after the burst began"
                if all_acknowledged
                else f"; {len(placed) - len(acknowledged)} NOT acknowledged in {args.timeout:.0f} s"
            )
        )
        last_floor = max(p + f for p, f in zip(sorted(placed.values()), floor, strict=True)) - burst_started
        print(
            f"  acknowledgement floor (Walmart's bucket: {tokens} tokens at the burst's start, then "
            f"{acknowledge_limit['count']} per {acknowledge_limit['seconds']} s): {describe(floor)}; the last "
            f"order's floor {last_floor:.1f} s after the burst began; on the way Walmart answered 429 to {refused} "
            f"acknowledgements, and {failed} failed otherwise (timeline rows)"
        )
        for name, burst, quiet in (("price change", probes.price, quiet_price), ("shipment", probes.ship, quiet_ship)):
            quiet_p95 = f"{percentile(quiet, 0.95):.2f} s" if quiet else "none"
            print(f"  burst: {name} -> Walmart {describe(burst)} (quiet p95 {quiet_p95})")
        if probes.missed:
            print(f"  probes not on Walmart in time: {', '.join(probes.missed)}")
        print(f"  CPU-s, burst's start -> all visible: {cpu_split(cpu_started, cpu_visible, seconds=visible_at)}")
        print(
            "  CPU-s, all visible -> the end (acknowledgements, read-backs): "
            + cpu_split(cpu_visible, cpu_end, seconds=ended_at - visible_at)
        )
        # The two halves of placed -> visible, from the rows' own times: Walmart's delivery (the emulator's worker
        # posting the event, our endpoint answering) and ours (event received -> its order stored).
        delivery_times = {
            event_id: (created, done)
            for event_id, created, done in WebhookDelivery.objects.filter(
                subscription__seller=seller, event_type="PO_CREATED", delivered_at__isnull=False
            ).values_list("event_id", "created_at", "delivered_at")
        }
        delivered = {event_id: (done - created).total_seconds() for event_id, (created, done) in delivery_times.items()}
        events = list(
            WebhookEvent.objects.filter(store=store, purchase_order_id__in=list(placed)).values_list(
                "event_id", "purchase_order_id", "received_at", "processed_at"
            )
        )
        stored_at = dict(
            Order.objects.filter(store=store, purchase_order_id__in=list(placed)).values_list(
                "purchase_order_id", "created_at"
            )
        )
        ours = [
            max(0.0, (stored_at[po] - received).total_seconds()) for _, po, received, _ in events if po in stored_at
        ]
        read_back = [(processed - received).total_seconds() for _, _, received, processed in events if processed]
        walmart_side = [delivered[event_id] for event_id, *_ in events if event_id in delivered]
        print(f"  of which Walmart's delivery (event created -> our endpoint answered): {describe(walmart_side)}")
        print(f"  of which ours (event received -> its order stored): {describe(ours)}")
        # Walmart's senders wait for our answer: a slow endpoint makes Walmart's queue (the emulator's worker
        # sends a few at once, each waiting for our answer) look like Walmart's delay.
        answered = [
            (delivery_times[event_id][1] - received).total_seconds()
            for event_id, _, received, _ in events
            if event_id in delivery_times
        ]
        print(
            f"  our endpoint's answer (event received -> Walmart has our 200): {describe(answered)}; Walmart's "
            f"{args.walmart_concurrency} senders' ceiling at the mean answer: "
            + (f"{args.walmart_concurrency / statistics.mean(answered):.0f} deliveries/s" if answered else "none")
        )
        print(f"  event received -> processed (the order read back from Walmart): {describe(read_back)}")
        stored = Order.objects.filter(store=store).count()
        print(
            f"  orders placed {len(placed) + len(warm)}, stored {stored}; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs; finished {timezone.now():%H:%M:%S} UTC"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
