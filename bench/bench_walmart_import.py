"""Benchmark: importing a seller's existing Walmart catalog (100,000 items by default) and linking it to the
catalog, as production runs it: `walmart_import_task` in a real Celery worker (prefork, 2 processes), the
emulator served by the product's web server on a free port, PostgreSQL. Prints figures; never passes or fails.

    .venv/bin/python -m bench.bench_walmart_import                       # 100,000 items, PostgreSQL
    .venv/bin/python -m bench.bench_walmart_import --items 20000         # a smaller run, to compare memory

Shape: the emulated seller holds N items seeded by `walmart_emulator.seeding` (40 % with a SKU the catalog
has, 30 % known to the catalog by one identifier only, 10 % ambiguous, 20 % unknown); the catalog is built
for them (setup, not timed). The import asks `GET /v3/items/count`, requests the ITEM report (the emulator
makes it after WALMART_EMULATOR_REPORT_DELAY_SECONDS = 1), downloads it and reads it row by row, reads every
quantity with `GET /v3/inventories` (50 SKUs a page), then links. Walmart's rate limits are lifted in the
emulator (bench/walmart_import_settings.py) so the figures are the product's own cost; with the real limits
the inventories listing alone would take N / 50 / 900 minutes. Timed from the request to the import's end;
each phase's time is read from the import's status, sampled every 50 ms, as are the worker's peak memory
(VmHWM of its processes) and PostgreSQL's CPU (the backends of the benchmark database).
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

from bench.bench_catalog_import import SAMPLE_SECONDS, Sampler, database_reset  # noqa: E402
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


def run(store, *, worker_pid: int, database: str | None) -> None:
    from onboarding.models import WalmartImport
    from onboarding.services import walmart_import_start

    load_start = os.getloadavg()[0]
    sampler = Sampler(database=database, worker_pid=worker_pid)
    sampler.start()
    started = time.perf_counter()
    walmart_import, _ = walmart_import_start(store=store, reason="benchmark")
    phases: dict[str, float] = {}
    status = None
    while True:
        current = WalmartImport.objects.get(pk=walmart_import.pk)
        if current.status != status:
            phases[current.status] = time.perf_counter() - started
            status = current.status
        if current.is_finished:
            break
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    sampler.stopping.set()
    sampler.join()
    order = [name for name in phases]
    spans = [f"{name} {phases[nxt] - phases[name]:.1f} s" for name, nxt in zip(order, order[1:], strict=False) if nxt]
    print(
        f"\nimport {current.status} ({current.source}): {current.items_read:,} items read, "
        f"{current.quantities_read:,} quantities; linked {current.linked_count:,}, ambiguous "
        f"{current.ambiguous_count:,}, unmanaged {current.unmanaged_count:,} {current.failure}"
    )
    print(f"  wall {wall:.1f} s ({current.items_read / wall:,.0f} items/s); phases: {', '.join(spans)}")
    print(
        f"  worker peak RSS {sampler.worker_peak_mb:.0f} MB; worker CPU {sampler.worker.total():.1f} s; "
        f"PostgreSQL CPU {sampler.postgres.total():.1f} s; load average {load_start:.2f} -> {os.getloadavg()[0]:.2f}; "
        f"{sampler.samples} samples"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
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
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603

    import django

    django.setup()
    from django.db import connection

    setup_started = time.perf_counter()
    store, seeded = seller_and_catalog(args.items, env["WALMART_EMULATOR_BASE_URL"])
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
        run(store, worker_pid=processes["worker"].pid, database=database)
    print("\nlogs:", workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
