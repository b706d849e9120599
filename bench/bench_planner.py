"""Benchmark: plan the inventory and price sync for 100,000 matched listings of which 10,000 changed, and
build the exact feed payloads (targets: under 5 s for both streams, at most 2 feeds). Prints figures;
never passes or fails on them.

    .venv/bin/python bench/bench_planner.py                      # SQLite file in a temp dir
    .venv/bin/python bench/bench_planner.py --listings 20000 --changed 2000 --repeat 5
    .venv/bin/python bench/bench_planner.py --database-url postgres://postgres@127.0.0.1:5432/cm_inventory_bench
    .venv/bin/python -m bench planner

The database is created and migrated first (not timed), then filled in bulk: `--listings` products with a
matched listing each, confirmed values equal to the desired ones, except `--changed` listings whose
quantity changed (1% of them to zero: urgent) and `--changed` others whose price changed. A store price
rule (+8 %, .99 endings) and a safety buffer of 1 apply, so desired values go through the real rules.

Timed per stream, exactly as a planner run does it (`sync.services.sync_plan`, no HTTP: limits from the
store's settings): load the rows and compute desired values, read what is in flight and refused, plan, and
build the feed payloads; then the JSON serialisation the client does before uploading (`json.dumps`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def django_setup(database_url: str | None) -> str:
    if database_url is None:
        database_url = f"sqlite:///{tempfile.mkdtemp(prefix='cm-bench-planner-')}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return database_url


def catalog_fill(*, listings: int, changed: int):
    from channel_manager.models import Store
    from inventory.desired import quantity_desired
    from listings.models import Listing, Product
    from pricing.desired import PriceRuleValues, price_desired
    from pricing.models import PriceRule
    from sync.models import StoreSyncSettings

    Listing.objects.all().delete()
    Product.objects.all().delete()
    Store.objects.filter(name="Bench store").delete()
    store = Store(name="Bench store", environment="emulator", client_id="bench")
    store.client_secret = "bench-secret"  # noqa: S105 - a throwaway store of the benchmark database
    store.save()
    StoreSyncSettings.objects.create(store=store, safety_buffer=1)
    PriceRule.objects.create(
        store=store, markup_type="percent", markup_value=Decimal("8"), price_ending=Decimal("0.99")
    )
    rule = PriceRuleValues("percent", Decimal("8"), Decimal("0.99"))
    batch = 5000
    for start in range(0, listings, batch):
        numbers = range(start, min(start + batch, listings))
        products = Product.objects.bulk_create(
            [
                Product(
                    sku=f"BENCH-{n:06d}",
                    name=f"Benchmark product {n}",
                    price=Decimal(100 + n % 9000) / 100,
                    quantity=5 + n % 50,
                )
                for n in numbers
            ]
        )
        rows = []
        for n, product in zip(numbers, products, strict=True):
            confirmed_quantity = quantity_desired(catalog_quantity=product.quantity, safety_buffer=1)
            confirmed_price = price_desired(catalog_price=product.price, rule=rule)
            if n % (listings // changed) == 0 and n // (listings // changed) < changed:
                # this listing's quantity changed in the catalog since Walmart confirmed it
                confirmed_quantity += 3
                if (n // (listings // changed)) % 100 == 0:
                    product.quantity = 0
            if n % (listings // changed) == 1 and n // (listings // changed) < changed:
                confirmed_price += Decimal("1.00")
            rows.append(
                Listing(
                    store=store,
                    product=product,
                    status=Listing.Status.MATCH,
                    confirmed_quantity=confirmed_quantity,
                    confirmed_price=confirmed_price,
                )
            )
        zeros = [p.pk for p in products if p.quantity == 0]
        Product.objects.filter(pk__in=zeros).update(quantity=0)
        Listing.objects.bulk_create(rows)
    return store


def measure(store, stream: str) -> dict:
    from django.utils import timezone

    from sync.planning import plan_build
    from sync.selectors import blocked_values, in_flight_values, sync_rows
    from sync.services import sync_plan

    started = time.perf_counter()
    rows = sync_rows(store=store, stream=stream)
    rows_at = time.perf_counter()
    in_flight = in_flight_values(store=store, stream=stream, now=timezone.now())
    blocked = blocked_values(store=store, stream=stream)
    state_at = time.perf_counter()
    planned = sync_plan(store=store, stream=stream)  # the real entry point, end to end (reloads the rows)
    plan_at = time.perf_counter()
    bodies = [json.dumps(feed.payload, separators=(",", ":")).encode() for feed in planned.plan.feeds]
    serialised_at = time.perf_counter()
    # the pure planning step on its own, on rows already loaded
    pure_started = time.perf_counter()
    plan_build(
        stream=stream,
        rows=rows,
        in_flight=in_flight,
        blocked=blocked,
        single_budget=planned.budget.single_calls,
        feed_slots=planned.budget.feed_slots,
        limits=planned.budget.limits,
    )
    pure = time.perf_counter() - pure_started
    plan = planned.plan
    return {
        "stream": stream,
        "rows": len(rows),
        "load_rows_s": rows_at - started,
        "in_flight_and_refused_s": state_at - rows_at,
        "sync_plan_s": plan_at - state_at,
        "serialise_s": serialised_at - plan_at,
        "plan_build_only_s": pure,
        "changes": plan.change_count,
        "singles": len(plan.singles),
        "feeds": len(plan.feeds),
        "feed_items": [len(feed.changes) for feed in plan.feeds],
        "feed_bytes": [len(body) for body in bodies],
        "waiting": len(plan.waiting),
        "limit_bytes": planned.budget.limits.max_bytes,
        "limit_items": planned.budget.limits.max_items,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    database_url = django_setup(args.database_url)
    engine = database_url.split(":", 1)[0]
    print(
        f"database: {engine}; listings: {args.listings:,};",
        f"changed: {args.changed:,} quantities + {args.changed:,} prices",
    )
    fill_started = time.perf_counter()
    store = catalog_fill(listings=args.listings, changed=args.changed)
    print(f"fill (not part of the target): {time.perf_counter() - fill_started:.1f} s")

    totals = []
    last: dict[str, dict] = {}
    for attempt in range(1, args.repeat + 1):
        run_started = time.perf_counter()
        for stream in ("inventory", "price"):
            last[stream] = measure(store, stream)
        # the target covers one planning pass per stream (sync_plan + serialisation); `measure` also times
        # the parts separately, so the total below counts only the end-to-end figures
        total = sum(last[s]["sync_plan_s"] + last[s]["in_flight_and_refused_s"] + last[s]["serialise_s"] for s in last)
        totals.append(total)
        print(
            f"run {attempt}: both streams planned and payloads built in {total:.2f} s "
            f"(wall incl. separate breakdown {time.perf_counter() - run_started:.2f} s)"
        )
    for stream, figures in last.items():
        print(
            f"  {stream:9s} rows {figures['rows']:,} | load+desired {figures['load_rows_s']:.2f} s | "
            f"sync_plan {figures['sync_plan_s']:.2f} s (pure plan_build {figures['plan_build_only_s']:.2f} s) | "
            f"json {figures['serialise_s']:.2f} s"
        )
        print(
            f"            changes {figures['changes']:,} -> singles {figures['singles']}, feeds {figures['feeds']} "
            f"(items {figures['feed_items']}, bytes {figures['feed_bytes']}; limits {figures['limit_items']:,} "
            f"items / {figures['limit_bytes']:,} bytes), waiting {figures['waiting']}"
        )
    feeds = sum(figures["feeds"] for figures in last.values())
    print(
        f"median {statistics.median(totals):.2f} s, best {min(totals):.2f} s over {len(totals)} runs "
        f"(target < 5 s); feeds: {feeds} (target <= 2)"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
