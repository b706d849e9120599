"""Benchmark: importing a seller's existing Walmart catalog (100,000 items by default) and linking it to the
catalog, as production runs it: `walmart_import_task` in a real Celery worker (prefork, 2 processes), the
emulator served by the product's web server on a free port, PostgreSQL. Prints figures; never passes or fails.

    .venv/bin/python -m bench.bench_walmart_import                       # 100,000 items, PostgreSQL
    .venv/bin/python -m bench.bench_walmart_import --items 20000         # a smaller run, to compare memory

Shape: the emulated seller holds N items seeded by `walmart_emulator.seeding` (40 % with a SKU the catalog
has, 30 % known to the catalog by one identifier only, 10 % ambiguous, 20 % unknown); the catalog is built
for them (setup, not timed). The import asks `GET /v3/items/count`, requests the ITEM and INVENTORY reports
together (the emulator makes each after WALMART_EMULATOR_REPORT_DELAY_SECONDS = 1), downloads the ITEM report
and reads it row by row while a thread downloads the INVENTORY report and stages its quantities, applies the
quantities to the items, then links. `--inventories-listing` makes the emulator refuse the INVENTORY report
(as Walmart does when one was asked for within the hour), so the quantities come from `GET /v3/inventories`
(50 SKUs a page), the way before the report was used. Walmart's rate limits are lifted in the emulator
(bench/walmart_import_settings.py) so the figures are the product's own cost; with the real limits the
inventories listing alone would take N / 50 / 900 minutes. Timed from the request to the import's end; each
phase's time is read from the import's status, sampled every 50 ms, as are the worker's peak memory (VmHWM of
its processes), and the CPU of the worker, of PostgreSQL (the backends of the benchmark database) and of the
web server that serves the emulator, per phase.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_catalog_import import SAMPLE_SECONDS, Sampler, cpu_seconds, database_reset, descendants  # noqa: E402
from bench.stack import free_port, stack_environment, stack_processes, web_command, web_up, worker_command  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_onboard_bench"
SECRET = "bench-walmart-import-secret"  # noqa: S105 - the throwaway emulator seller of this run
SEED = 11


def seller_and_catalog(items: int, base_url: str):
    """The emulated seller with `items` items, our store wired to it and the catalog that onboards it."""
    from channel_manager.models import Store
    from listings.models import Product
    from walmart_emulator import services as emulator
    from walmart_emulator.seeding import seed_plan, seller_items_seed

    seller = emulator.seller_create(name="Onboarding bench seller", client_id="onboard-bench", client_secret=SECRET)
    seeded = seller_items_seed(seller=seller, count=items, seed=SEED)
    batch: list[Product] = []
    for item in seed_plan(count=items, seed=SEED):
        for sku in item.catalog_skus:
            identifier = {} if item.kind == "sku" else {item.id_type.lower(): item.product_id}
            batch.append(Product(sku=sku, name=item.title, price=Decimal("9.99"), quantity=5, **identifier))
        if len(batch) >= 5000:
            Product.objects.bulk_create(batch)
            batch = []
    Product.objects.bulk_create(batch)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # the statistics a database in use has (bulk loads leave none behind)
    store = Store(name="Onboarding bench store", environment="emulator", emulator_base_url=base_url)
    store.client_id = "onboard-bench"
    store.client_secret = SECRET
    store.save()
    return store, seeded


def refuse_inventory_report() -> None:
    """The emulator's INVENTORY report allowance used up for the hour (as after a failed request)."""
    from django.utils import timezone

    from walmart_emulator.models import RateLimitBucket, Seller

    now = timezone.now()
    for seller in Seller.objects.all():
        RateLimitBucket.objects.update_or_create(
            seller=seller,
            family="reports:INVENTORY",
            defaults={"tokens": 0, "updated_at": now, "updated_epoch": now.timestamp()},
        )


def web_cpu(web_pid: int) -> float:
    return sum(cpu_seconds(pid) or 0.0 for pid in descendants(web_pid))


def run(store, *, worker_pid: int, web_pid: int, database: str | None) -> None:
    from onboarding.models import WalmartImport
    from onboarding.services import walmart_import_start

    load_start = os.getloadavg()[0]
    sampler = Sampler(database=database, worker_pid=worker_pid)
    sampler.start()
    web_start = web_cpu(web_pid)
    started = time.perf_counter()
    walmart_import, _ = walmart_import_start(store=store, reason="benchmark")
    # status -> (time, worker CPU, PostgreSQL CPU, web CPU, worker peak RSS) when it began
    phases: dict[str, tuple[float, float, float, float, float]] = {}
    status = None
    while True:
        current = WalmartImport.objects.get(pk=walmart_import.pk)
        if current.status != status:
            status = current.status
            phases[status] = (
                time.perf_counter() - started,
                sampler.worker.total(),
                sampler.postgres.total(),
                web_cpu(web_pid) - web_start,
                sampler.worker_peak_mb,
            )
        if current.is_finished:
            break
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    web_total = web_cpu(web_pid) - web_start
    sampler.stopping.set()
    sampler.join()
    order = list(phases)
    spans = []
    for name, after in zip(order, order[1:], strict=False):
        begin, end = phases[name], phases[after]
        spans.append(
            f"{name} {end[0] - begin[0]:.1f} s (CPU worker {end[1] - begin[1]:.1f} s, PostgreSQL "
            f"{end[2] - begin[2]:.1f} s, emulator {end[3] - begin[3]:.1f} s; worker peak RSS at its end "
            f"{end[4]:.0f} MB)"
        )
    print(
        f"\nimport {current.status} ({current.source}, quantities from "
        f"{'the INVENTORY report' if current.inventory_report_request_id else 'GET /v3/inventories'}): "
        f"{current.items_read:,} items read, {current.quantities_read:,} quantities; linked "
        f"{current.linked_count:,}, ambiguous {current.ambiguous_count:,}, unmanaged {current.unmanaged_count:,} "
        f"{current.failure}"
    )
    print(f"  wall {wall:.1f} s ({current.items_read / wall:,.0f} items/s); phases:")
    for span in spans:
        print(f"    {span}")
    print(
        f"  worker peak RSS {sampler.worker_peak_mb:.0f} MB; CPU: worker {sampler.worker.total():.1f} s, "
        f"PostgreSQL {sampler.postgres.total():.1f} s, emulator (web server) {web_total:.1f} s; load average "
        f"{load_start:.2f} -> {os.getloadavg()[0]:.2f}; {sampler.samples} samples"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--inventories-listing",
        action="store_true",
        help="refuse the INVENTORY report: quantities from GET /v3/inventories (the way before the report)",
    )
    args = parser.parse_args()

    os.environ["BENCH_DATABASE_URL"] = args.database_url
    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-walmart-import-"))
    database = database_reset(args.database_url)
    port = free_port()
    env = stack_environment(database_url=args.database_url, workdir=workdir, port=port)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.walmart_import_settings",
        WALMART_EMULATOR_REPORT_DELAY_SECONDS="1",
        ONBOARDING_REPORT_POLL_SECONDS="1",
    )
    if args.inventories_listing:
        env["BENCH_REFUSE_INVENTORY_REPORT"] = "1"
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603

    import django

    django.setup()
    from django.db import connection

    setup_started = time.perf_counter()
    store, seeded = seller_and_catalog(args.items, env["WALMART_EMULATOR_BASE_URL"])
    if args.inventories_listing:
        refuse_inventory_report()
    print(
        f"Walmart import benchmark: {args.items:,} items on Walmart ({seeded.by_kind}); database {connection.vendor} "
        f"({database or args.database_url}); walmart_import_task in a real Celery worker (prefork, 2 processes), "
        f"embedded Redis; the emulator in the product's web server; Python {sys.version.split()[0]}; "
        f"{os.cpu_count()} CPUs (setup, not timed: {time.perf_counter() - setup_started:.1f} s)"
    )
    print("target: 100,000 items in under 2 minutes, memory flat (the same peak whatever the number of items)")
    commands = {"web": web_command(port), "worker": worker_command(2)}
    with stack_processes(commands, env=env, workdir=workdir) as processes:
        if not web_up(port):
            print("the web server did not start; see", workdir / "web.log")
            return 1
        time.sleep(3)  # the worker connected to the broker
        run(store, worker_pid=processes["worker"].pid, web_pid=processes["web"].pid, database=database)
    print("\nlogs:", workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
