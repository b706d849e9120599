"""Benchmark: the inventory and price planner and the Sync page at a large seller's scale, on PostgreSQL
(issue 13 targets: an idle tick at 1,000,000 matched listings under 50 ms; 10,000 changes among them planned
and their feeds built in under 1 s; the Sync page under 150 ms server time, first request included, with a
constant query count; the worker's CPU near zero when idle). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_planner.py                       # 1,000,000 listings, seeded once
    .venv/bin/python bench/bench_planner.py --reuse               # keep the seeded database
    .venv/bin/python bench/bench_planner.py --listings 100000 --changes 1000 --compare-full
    .venv/bin/python -m bench planner --reuse

The database (`--database-url`, default postgres://postgres@127.0.0.1:5432/cm_sync_bench) is created and
migrated, then seeded in SQL (generate_series; the dirty set's triggers are off while seeding, as for a
catalog that has been in sync for a while): `--listings` products, each with a matched listing whose
confirmed quantity and price equal the desired ones (safety buffer 1, price rule +8 % with .99 endings).
With `--reuse` an already seeded database is used as it is (seeding 1,000,000 listings takes a minute or two).

Measured, in this order:
- the Sync page, in a fresh child process started as gunicorn starts a worker (it imports
  `channel_manager.wsgi`, whose warm-up imports the views and compiles the templates, then opens new
  database and cache connections as gunicorn.conf.py's `post_worker_init` does), the first request apart,
  then `--page-requests` more; queries are counted over every request;
- idle ticks: `sync.services.sync_run` of each stream exactly as the worker runs it (Redis lock, feed poll,
  read-back of calls in flight, plan, state write; no HTTP call is due), `--ticks` times, wall and CPU;
- the hourly rescan of the whole store in SQL (`sync.due.due_rescan`), which finds nothing here;
- `--changes` catalog quantity changes and as many price changes made by one UPDATE each (the triggers mark
  the dirty set in the writer's statement: timed apart), then each stream planned and its feed files built
  and serialised as a run does before uploading (`sync_plan` + `json.dumps`). The changes are then undone
  and settled, so `--reuse` finds the database as seeded. `--compare-full` also times the old full scan.
"""

# SQL here is built from model table and column names only; values are parameters. The child process is this
# very script.
# ruff: noqa: S608, S603

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import percentile  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_sync_bench"
STORE_NAME = "Planner scale bench store"
USERNAME = "planner-bench"


def database_ensure(url: str, *, fresh: bool) -> None:
    """Create the benchmark database (dropped first when `fresh`)."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()


def store_seeded(listings: int):
    """The seeded store when it holds `listings` matched listings, else None."""
    from channel_manager.models import Store
    from listings.models import Listing

    store = Store.objects.filter(name=STORE_NAME).first()
    if store is None or Listing.objects.filter(store=store).count() != listings:
        return None
    return store


def seed(listings: int):
    """A store with `listings` products and matched listings in sync, in SQL (see the module docstring)."""
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.seed import rows_insert
    from channel_manager.models import Store
    from listings.models import Listing, Product
    from pricing.desired import PriceRuleValues
    from pricing.models import PriceRule
    from sync.due import desired_price_sql, desired_quantity_sql
    from sync.models import ListingSyncDue, StoreSyncSettings, SyncState

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Listing._meta.db_table}, {Product._meta.db_table} CASCADE")
        cursor.execute(f"TRUNCATE {ListingSyncDue._meta.db_table}")
    Store.objects.filter(name=STORE_NAME).delete()
    store = Store(name=STORE_NAME, environment="emulator", client_id="planner-bench")
    store.client_secret = "bench-secret"  # noqa: S105 - a throwaway store of the benchmark database
    store.save()
    sync_settings = StoreSyncSettings.objects.create(store=store, safety_buffer=1)
    rule = PriceRuleValues("percent", Decimal("8"), Decimal("0.99"))
    PriceRule.objects.create(
        store=store, markup_type="percent", markup_value=Decimal("8"), price_ending=Decimal("0.99")
    )
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no triggers while seeding
        rows_insert(
            cursor,
            Product,
            {
                "sku": ("'BENCH-' || lpad(g::text, 7, '0')", []),
                "name": ("'Benchmark product ' || g", []),
                "price": ("(100 + g %% 9000) / 100.0", []),
                "quantity": ("5 + g %% 50", []),
                "created_at": ("%s", [now]),
                "updated_at": ("%s", [now]),
            },
            "generate_series(1, %s) g",
            [listings],
        )
        rows_insert(
            cursor,
            Listing,
            {
                "store": ("%s", [store.pk]),
                "product": ("p.id", []),
                "walmart_sku": ("p.sku", []),
                "status": ("%s", [Listing.Status.MATCH.value]),
                "created_at": ("%s", [now]),
                "updated_at": ("%s", [now]),
            },
            f"{Product._meta.db_table} p",
            [],
        )
        quantity, quantity_params = desired_quantity_sql("postgresql", sync_settings)
        joins, price, price_params = desired_price_sql(rule)
        cursor.execute(
            f"UPDATE {Listing._meta.db_table} AS target SET confirmed_quantity = {quantity}, "
            f"confirmed_quantity_at = %s, confirmed_price = {price}, confirmed_price_at = %s "
            f"FROM {Listing._meta.db_table} l JOIN {Product._meta.db_table} p ON p.id = l.product_id "
            f"LEFT JOIN inventory_stockreservation r ON r.store_id = l.store_id AND r.product_id = l.product_id "
            f"{joins} WHERE target.id = l.id AND l.store_id = %s",
            [*quantity_params, now, now, *price_params, store.pk],
        )
    for stream in ("inventory", "price"):
        SyncState.objects.update_or_create(store=store, stream=stream, defaults={"rescanned_at": now})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return store


def page_child(requests: int) -> None:
    """In a fresh process: the Sync page's first request, then `requests` more; prints one JSON line."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench.stack import worker_client
    from channel_manager.models import Store, StoreMembership

    store = Store.objects.get(name=STORE_NAME)
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    StoreMembership.objects.get_or_create(store=store, user=user, defaults={"role": StoreMembership.Role.OPERATOR})
    client = worker_client(user)
    url = reverse("sync:sync_dashboard", args=[store.pk])
    timings, counts, statuses = [], [], set()
    with CaptureQueriesContext(connection) as every:
        for number in range(requests + 1):
            path = url if number % 2 == 0 else f"{url}?after={500_000 + number}"
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - started)
            statuses.add(response.status_code)
            counts.append(len(queries))
    print(
        json.dumps(
            {
                "first_ms": timings[0] * 1000,
                "warm_median_ms": statistics.median(timings[1:]) * 1000,
                "warm_p95_ms": percentile(timings[1:], 0.95) * 1000,
                "max_ms": max(timings) * 1000,
                "queries_per_request": sorted(set(counts)),
                "queries_total": len(every),
                "requests": len(timings),
                "statuses": sorted(statuses),
            }
        )
    )


def idle_ticks(store, ticks: int) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sync.services import sync_client_get, sync_run

    cache.set(f"sync:partner-profile-feed-limits:{store.pk}", {}, 3600)  # no partner profile read: no HTTP
    client = sync_client_get(store)
    figures = {}
    for stream in ("inventory", "price"):
        walls, cpus, queries, results = [], [], [], set()
        for _ in range(ticks):
            with CaptureQueriesContext(connection) as captured:
                wall, cpu = time.perf_counter(), time.process_time()
                result = sync_run(store=store, stream=stream, client=client)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            queries.append(len(captured))
            results.add((result.status, result.plan.get("changes", 0)))
        figures[stream] = {
            "median_ms": statistics.median(walls) * 1000,
            "p95_ms": percentile(walls, 0.95) * 1000,
            "cpu_median_ms": statistics.median(cpus) * 1000,
            "queries": sorted(set(queries)),
            "results": sorted(results),
        }
    return figures


def rescan(store) -> dict:
    from pricing.selectors import price_rule_values
    from sync.due import due_rescan
    from sync.selectors import sync_settings_get

    figures = {}
    for stream in ("inventory", "price"):
        started = time.perf_counter()
        marked = due_rescan(
            store=store,
            stream=stream,
            sync_settings=sync_settings_get(store=store),
            rule=price_rule_values(store=store),
        )
        figures[stream] = {"seconds": time.perf_counter() - started, "marked": marked}
    return figures


def changes(store, count: int, *, compare_full: bool) -> dict:
    """`count` quantity and `count` price changes, planned; then undone and settled."""
    from django.db import connection

    from listings.models import Listing, Product
    from sync.services import sync_due_settle, sync_plan

    ids = list(
        Listing.objects.filter(store=store)
        .order_by("id")
        .values_list("product_id", flat=True)[:: max(1, 2)][: 2 * count]
    )
    quantity_ids, price_ids = ids[0::2], ids[1::2]
    zero_ids = quantity_ids[::100]  # 1 % go to zero: urgent single updates
    table = Product._meta.db_table
    figures: dict = {}
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(f"UPDATE {table} SET quantity = quantity + 7 WHERE id = ANY(%s)", [quantity_ids])
        cursor.execute(f"UPDATE {table} SET quantity = 0 WHERE id = ANY(%s)", [zero_ids])
        figures["write_quantities_s"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(f"UPDATE {table} SET price = price + 1 WHERE id = ANY(%s)", [price_ids])
        figures["write_prices_s"] = time.perf_counter() - started
        cursor.execute("SELECT id, quantity FROM " + table + " WHERE id = ANY(%s)", [zero_ids])
    for stream in ("inventory", "price"):
        started = time.perf_counter()
        planned = sync_plan(store=store, stream=stream)
        bodies = [json.dumps(feed.payload, separators=(",", ":")).encode() for feed in planned.plan.feeds]
        seconds = time.perf_counter() - started
        plan = planned.plan
        figures[stream] = {
            "planned_and_built_s": seconds,
            "due_rows": len(planned.due),
            "changes": plan.change_count,
            "singles": len(plan.singles),
            "feeds": len(plan.feeds),
            "feed_items": [len(feed.changes) for feed in plan.feeds],
            "feed_bytes": [len(body) for body in bodies],
            "waiting": len(plan.waiting),
        }
        if compare_full:
            started = time.perf_counter()
            full = sync_plan(store=store, stream=stream, incremental=False)
            figures[stream]["full_scan_s"] = time.perf_counter() - started
            figures[stream]["full_scan_same_plan"] = [c.listing_id for c in full.plan.singles] == [
                c.listing_id for c in plan.singles
            ] and [f.changes for f in full.plan.feeds] == [f.changes for f in plan.feeds]
    # undo (the zeros go back to their seeded quantity) and settle, so --reuse finds the seeded state
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET quantity = 5 + (substring(sku from 7)::int %% 50) WHERE id = ANY(%s)", [quantity_ids]
        )
        cursor.execute(f"UPDATE {table} SET price = price - 1 WHERE id = ANY(%s)", [price_ids])
    for stream in ("inventory", "price"):
        planned = sync_plan(store=store, stream=stream)
        figures[stream]["left_after_undo"] = planned.plan.change_count
        sync_due_settle(planned=planned)
    return figures


def idle_worker(database_url: str, *, minutes: float, settle: float) -> None:
    """A real Celery worker and beat (and the web server, for the emulator they call) on the seeded database,
    nothing changing: their CPU per minute, read from /proc every 10 s, after `settle` seconds of start-up."""
    import tempfile

    from bench.stack import (
        beat_command,
        cpu_per_minute,
        free_port,
        stack_environment,
        stack_processes,
        web_command,
        web_up,
        worker_command,
    )
    from channel_manager.models import Store
    from walmart_emulator.models import Seller
    from walmart_emulator.services import seller_create

    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-idle-"))
    port = free_port()
    env = stack_environment(database_url=database_url, workdir=workdir, port=port)
    # The processes decrypt the store's secret with this process's keys, and the store talks to an emulator
    # seller with its credentials (no offers: nothing to read back or to send).
    env["FIELD_ENCRYPTION_KEYS"] = os.environ["FIELD_ENCRYPTION_KEYS"]
    store = Store.objects.get(name=STORE_NAME)
    if not Seller.objects.filter(client_id=store.client_id).exists():
        seller_create(name="Planner bench seller", client_id=store.client_id, client_secret=store.client_secret)
    Store.objects.filter(pk=store.pk).update(emulator_base_url=env["WALMART_EMULATOR_BASE_URL"])
    commands = {"web": web_command(port), "worker": worker_command(), "beat": beat_command(workdir)}
    with stack_processes(commands, env=env, workdir=workdir) as processes:
        if not web_up(port, timeout=60):
            raise SystemExit(f"the web server did not start (see {workdir}/web.log)")
        time.sleep(settle)
        began = time.monotonic()
        per_minute, minute_marks = cpu_per_minute(processes, minutes)
        elapsed = (time.monotonic() - began) / 60
        dead = [name for name in ("worker", "beat", "web") if processes[name].poll() is not None]
    print(
        f"idle worker ({elapsed:.1f} min after {settle:.0f} s of start-up; real Celery worker -c 2 + beat + web, "
        f"no change written; logs in {workdir}): CPU s/min worker {per_minute['worker']:.2f}, beat "
        f"{per_minute['beat']:.2f}, web (emulator) {per_minute['web']:.2f}"
        + (f"; STOPPED EARLY: {dead}" if dead else "")
    )
    for number, marks in enumerate(minute_marks, start=1):
        print(f"  minute {number}: " + ", ".join(f"{name} {value:.2f} s" for name, value in marks.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--page-requests", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--compare-full", action="store_true", help="also time the full scan (slow at 1M)")
    parser.add_argument(
        "--idle-minutes", type=float, default=0, help="then run a real worker and beat this long, nothing changing"
    )
    parser.add_argument("--idle-settle", type=float, default=75, help="seconds of start-up before --idle-minutes")
    parser.add_argument("--idle-only", action="store_true", help="measure only the idle worker (needs --reuse)")
    parser.add_argument("--page-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("PostgreSQL only: the targets are PostgreSQL's (pass --database-url postgres://...)")
    if args.page_child:
        django_setup(args.database_url)
        import channel_manager.wsgi  # noqa: F401 - what gunicorn imports: the process warms up before it serves

        page_child(args.page_child)
        return
    database_ensure(args.database_url, fresh=not args.reuse)
    django_setup(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    store = store_seeded(args.listings) if args.reuse else None
    if store is None:
        started = time.perf_counter()
        store = seed(args.listings)
        print(f"seeded {args.listings:,} listings in {time.perf_counter() - started:.1f} s (not part of any target)")
    else:
        print(f"reusing the seeded database ({args.listings:,} listings)")
    if args.idle_only:
        idle_worker(args.database_url, minutes=args.idle_minutes or 3, settle=args.idle_settle)
        return
    print(
        f"database: PostgreSQL ({args.database_url.rsplit('@', 1)[-1]}); worker mode: sync_run in this process "
        f"as the worker runs it (no HTTP due); listings: {args.listings:,} matched; load average: "
        + " ".join(f"{value:.2f}" for value in os.getloadavg())
    )
    page = subprocess.run(
        [sys.executable, __file__, "--database-url", args.database_url, "--page-child", str(args.page_requests)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    figures = json.loads(page.stdout.strip().splitlines()[-1])
    print(
        f"Sync page: first request {figures['first_ms']:.0f} ms; then {args.page_requests} requests median "
        f"{figures['warm_median_ms']:.0f} ms, p95 {figures['warm_p95_ms']:.0f} ms; queries per request "
        f"{figures['queries_per_request']} ({figures['queries_total']} over all {figures['requests']} requests); "
        f"status {figures['statuses']}"
    )
    for stream, tick in idle_ticks(store, args.ticks).items():
        print(
            f"idle tick {stream:9s}: median {tick['median_ms']:.1f} ms, p95 {tick['p95_ms']:.1f} ms, "
            f"CPU {tick['cpu_median_ms']:.1f} ms, queries {tick['queries']}, results {tick['results']}"
        )
    for stream, scan in rescan(store).items():
        print(f"hourly rescan {stream:9s}: {scan['seconds']:.2f} s in SQL, marked {scan['marked']}")
    changed = changes(store, args.changes, compare_full=args.compare_full)
    print(
        f"{args.changes:,} quantity changes written (triggers included) in {changed['write_quantities_s']:.2f} s, "
        f"{args.changes:,} price changes in {changed['write_prices_s']:.2f} s"
    )
    for stream in ("inventory", "price"):
        figures = changed[stream]
        line = (
            f"{stream:9s}: {figures['changes']:,} changes among {args.listings:,} planned and feeds built in "
            f"{figures['planned_and_built_s']:.3f} s -> singles {figures['singles']}, feeds {figures['feeds']} "
            f"(items {figures['feed_items']}, bytes {figures['feed_bytes']}), waiting {figures['waiting']}"
        )
        if "full_scan_s" in figures:
            line += f"; full scan {figures['full_scan_s']:.2f} s (same plan: {figures['full_scan_same_plan']})"
        print(line + f"; left after undo {figures['left_after_undo']}")
    if args.idle_minutes:
        idle_worker(args.database_url, minutes=args.idle_minutes, settle=args.idle_settle)


if __name__ == "__main__":
    main()
