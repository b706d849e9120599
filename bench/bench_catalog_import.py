"""Benchmark: catalog import at scale, run the way production runs it (targets: 100,000 products created
in under 5 s, re-imported unchanged in under 3 s, under 200 MB peak memory; 1,000,000 created in under
60 s). Prints figures; never passes or fails on them.

    .venv/bin/python -m bench catalog_import                           # 100,000 rows, PostgreSQL
    .venv/bin/python -m bench catalog_import --rows 1000000
    .venv/bin/python -m bench catalog_import --mode task               # uploaded, run by the worker
    .venv/bin/python -m bench catalog_import --phases create,same      # without the phase that changes every row
    .venv/bin/python -m bench catalog_import --database-url postgres://postgres@127.0.0.1:5432/cm_perf_import_bench

What runs: a fresh database (`--database-url`, dropped and created; PostgreSQL by default), migrated; an
embedded Redis private to the run; `manage.py runserver` serving the Walmart emulator on a free port; a
real Celery worker (`celery worker -c 2`, prefork), all child processes stopped at the end. A store
connected to an emulator seller has its inventory and price sync switched on.

Phases, each on the same database:
1. create: a CSV of `--rows` products (1% bad rows: a wrong UPC check digit or a price with three
   decimals) into an empty catalog;
   then (setup, not timed) `--listings` of the products (all by default) are listed in the store, matched,
   their confirmed quantity and price equal to the catalog's (in sync: the planner has nothing to send);
2. same: the same file again (every row compared, nothing written);
3. change: a file where every price and quantity differs: every listing needs a push, so the planner
   nudged by the import plans and sends for the whole store, in the worker.

`--mode command` (default) runs `manage.py catalog_import FILE` as a child process (what ops run);
`--mode task` stores the file as an upload does and lets the worker run `catalog_import_task`.

Figures per phase: wall time (command: process start to exit, Django start-up included; task: upload
committed to job done) and the job's own time (started to finished, as the dashboard shows it); CPU of
the importing process (command mode; in task mode it is inside the worker's CPU); its peak resident
memory (command: the child's `ru_maxrss`; task: the largest worker process's VmHWM); the CPU of every
PostgreSQL backend connected to the benchmark database (read from /proc every 50 ms: the import's, the
worker's, autovacuum's) and of the worker's processes, until the worker has been idle for 3 s after the
import (the planner runs it nudged are counted); when that was; the machine's load average at start and end.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    free_port,
    process_cpu_seconds,
    stack_environment,
    stack_processes,
    web_command,
    web_up,
    worker_command,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_perf_import_bench"
SECRET = "bench-import-secret"  # noqa: S105 - the throwaway emulator seller of this run
SAMPLE_SECONDS = 0.05
IDLE_SECONDS = 3.0


def gs1_check_digit(body: str) -> int:
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def csv_write(path: Path, rows: int, *, changed: bool = False) -> int:
    """A catalog CSV with `rows` products (distinct SKUs); returns how many rows are bad (1%). With `changed`,
    the same products with every price and quantity one higher."""
    rng = random.Random(7)
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["sku", "name", "brand", "description", "image_url", "upc", "price", "quantity", "shipping_weight"]
        )
        for number in range(rows):
            body = f"{number + 10_000_000:011d}"
            upc = body + str(gs1_check_digit(body))
            price = f"{rng.randint(100, 99_999) / 100 + changed:.2f}"
            if number % 100 == 99:
                bad += 1
                if number % 200 == 199:
                    upc = upc[:-1] + str((int(upc[-1]) + 1) % 10)
                else:
                    price = "12.345"
            writer.writerow(
                [
                    f"BENCH-{number:07d}",
                    f"Benchmark product {number}",
                    rng.choice(["Acme", "Globex", "Initech"]),
                    "A product made for the import benchmark.",
                    f"https://example.com/images/{number}.jpg",
                    upc,
                    price,
                    rng.randint(1, 500) + changed,
                    f"{rng.randint(10, 5000) / 100:.2f}",
                ]
            )
    return bad


# --- processes and their CPU, from /proc ---------------------------------------------------------


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


@dataclass
class CpuMeter:
    """CPU used by a changing set of processes, sampled every 50 ms: the last reading of each process is
    kept, so one that exits between two samples loses at most 50 ms."""

    last: dict[int, float] = field(default_factory=dict)
    start: dict[int, float] = field(default_factory=dict)

    def sample(self, pids: list[int]) -> None:
        for pid in pids:
            seconds = process_cpu_seconds(pid)
            if seconds is not None:
                self.start.setdefault(pid, seconds)
                self.last[pid] = seconds

    def total(self) -> float:
        return sum(self.last[pid] - self.start[pid] for pid in self.last)


class Sampler(threading.Thread):
    """Samples the PostgreSQL backends of the benchmark database and the worker's processes every 50 ms."""

    def __init__(self, *, database: str | None, worker_pid: int) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.worker_pid = worker_pid
        self.postgres = CpuMeter()
        self.worker = CpuMeter()
        self.worker_peak_mb = 0.0
        self.last_worker_busy = time.monotonic()
        self.stopping = threading.Event()
        self.samples = 0

    def run(self) -> None:
        monitor = None
        if self.database:
            import psycopg

            monitor = psycopg.connect(admin_url(), autocommit=True)
        previous = None
        while not self.stopping.is_set():
            if monitor is not None:
                pids = [row[0] for row in monitor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
                ).fetchall()]  # fmt: skip
                self.postgres.sample(pids)
            worker_pids = descendants(self.worker_pid)
            self.worker.sample(worker_pids)
            self.worker_peak_mb = max([self.worker_peak_mb, *(peak_rss_mb(pid) for pid in worker_pids)])
            total = self.worker.total()
            if previous is not None and total - previous > 0.01:
                self.last_worker_busy = time.monotonic()
            previous = total
            self.samples += 1
            time.sleep(SAMPLE_SECONDS)
        if monitor is not None:
            monitor.close()


# --- the run -------------------------------------------------------------------------------------


def admin_url() -> str:
    return os.environ["BENCH_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"


def database_reset(url: str) -> str | None:
    """Drop and create the benchmark database; its name (PostgreSQL) or None (SQLite)."""
    if not url.startswith("postgres"):
        return None
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def store_create(env: dict[str, str]):
    from channel_manager.models import Store
    from walmart_emulator import services as emulator

    emulator.seller_create(name="Import bench seller", client_id="import-bench", client_secret=SECRET)
    store = Store(
        name="Import bench store",
        environment="emulator",
        emulator_base_url=env["WALMART_EMULATOR_BASE_URL"],
        client_id="import-bench",
        inventory_enabled=True,
        price_enabled=True,
        listings_enabled=True,
    )
    store.client_secret = SECRET
    store.save()
    return store


def listings_in_sync(store, count: int) -> int:
    """List the first `count` products in the store, matched, Walmart holding the catalog's values (SQL:
    setup, not timed, nothing nudged)."""
    from django.db import connection

    from listings.models import Listing, Product
    from listings.services import listings_add

    count = min(count, Product.objects.count())
    last = Product.objects.order_by("pk").values_list("pk", flat=True)[count - 1] if count else 0
    listings_add(store=store, products=Product.objects.filter(pk__lte=last))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE listings_listing SET status = %s, confirmed_quantity = p.quantity, confirmed_price = p.price "
            "FROM listings_product p WHERE p.id = listings_listing.product_id "
            "AND listings_listing.store_id = %s"
            if connection.vendor == "postgresql"
            else "UPDATE listings_listing SET status = %s, confirmed_quantity = (SELECT quantity FROM "
            "listings_product p WHERE p.id = product_id), confirmed_price = (SELECT price FROM listings_product p "
            "WHERE p.id = product_id) WHERE store_id = %s",
            [Listing.Status.MATCH, store.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE listings_listing")
            cursor.execute("VACUUM ANALYZE listings_product")
    return Listing.objects.filter(store=store).count()


def import_command(path: Path, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "catalog_import", str(path), "--max-errors-shown", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = process.stdout.read().decode() + process.stderr.read().decode()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"catalog_import failed:\n{output[-3000:]}")
    return {
        "wall": wall,
        "importer_cpu": usage.ru_utime + usage.ru_stime,
        "importer_peak_mb": usage.ru_maxrss / 1024,
        "output": output.strip().splitlines()[-1],
    }


def import_task(path: Path) -> dict:
    from django.core.files import File

    from listings.models import ImportJob
    from listings.services import import_job_create

    with path.open("rb") as handle:
        upload = File(handle, name=path.name)
        upload.size = path.stat().st_size
        started = time.perf_counter()
        job = import_job_create(uploaded_file=upload, run=True)
    while not ImportJob.objects.get(pk=job.pk).is_finished:
        time.sleep(SAMPLE_SECONDS)
    return {"wall": time.perf_counter() - started, "importer_cpu": None, "importer_peak_mb": None, "output": ""}


def phase(name: str, path: Path, *, args, env, worker_pid: int, database: str | None) -> None:
    from channel_manager.models import Feed
    from listings.models import ImportJob

    feeds_before = Feed.objects.count()
    load_start = os.getloadavg()[0]
    sampler = Sampler(database=database, worker_pid=worker_pid)
    sampler.start()
    result = import_command(path, env) if args.mode == "command" else import_task(path)
    imported_at = time.monotonic()
    deadline = imported_at + args.settle_timeout
    while time.monotonic() < deadline and time.monotonic() - max(sampler.last_worker_busy, imported_at) < IDLE_SECONDS:
        time.sleep(SAMPLE_SECONDS)
    settled = max(0.0, sampler.last_worker_busy - imported_at)
    sampler.stopping.set()
    sampler.join()
    job = ImportJob.objects.order_by("-pk").first()
    job_seconds = (job.finished_at - job.started_at).total_seconds()
    peak = result["importer_peak_mb"] if result["importer_peak_mb"] is not None else sampler.worker_peak_mb
    importer_cpu = "in worker" if result["importer_cpu"] is None else f"{result['importer_cpu']:.2f} s"
    print(
        f"\n[{name}] {job.rows_processed:,} rows: created {job.created_count:,}, updated {job.updated_count:,}, "
        f"unchanged {job.unchanged_count:,}, rows with errors {job.error_count:,} [{job.status}]"
    )
    print(
        f"  import: wall {result['wall']:.2f} s ({args.mode}), job {job_seconds:.2f} s; importer CPU {importer_cpu}, "
        f"peak RSS {peak:.0f} MB"
    )
    print(
        f"  PostgreSQL CPU (backends of this database) {sampler.postgres.total():.2f} s; worker CPU "
        f"{sampler.worker.total():.2f} s, busy until {settled:.1f} s after the import; feeds sent "
        f"{Feed.objects.count() - feeds_before}; load average {load_start:.2f} -> {os.getloadavg()[0]:.2f}; "
        f"{sampler.samples} samples"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=None, help="products listed in the store (default: all)")
    parser.add_argument("--mode", choices=("command", "task"), default="command")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--settle-timeout", type=float, default=300.0, help="longest wait for the worker")
    parser.add_argument(
        "--phases",
        default="create,same,change",
        help="the phases to run, in order (create always runs: the others import into what it created)",
    )
    args = parser.parse_args()

    os.environ["BENCH_DATABASE_URL"] = args.database_url
    workdir = Path(tempfile.mkdtemp(prefix="cm-bench-import-"))
    create_path, change_path = workdir / "catalog.csv", workdir / "catalog-changed.csv"
    bad = csv_write(create_path, args.rows)
    csv_write(change_path, args.rows, changed=True)
    database = database_reset(args.database_url)
    port = free_port()
    env = stack_environment(database_url=args.database_url, workdir=workdir, port=port)
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603

    import django

    django.setup()
    from django.db import connection

    store = store_create(env)
    commands = {"web": web_command(port), "worker": worker_command(2)}
    with stack_processes(commands, env=env, workdir=workdir) as processes:
        if not web_up(port):
            print("the web server did not start; see", workdir / "web.log")
            return 1
        time.sleep(3)  # the worker connected to the broker
        size_mb = create_path.stat().st_size / 1024 / 1024
        print(
            f"Catalog import benchmark: {args.rows:,} rows ({bad:,} bad), {size_mb:.1f} MB CSV; database "
            f"{connection.vendor} ({database or args.database_url}); import by {args.mode} "
            f"({'manage.py catalog_import in a child process' if args.mode == 'command' else 'catalog_import_task'}); "
            f"real Celery worker (prefork, 2 processes), embedded Redis; Python {sys.version.split()[0]}; "
            f"{os.cpu_count()} CPUs"
        )
        print("targets: 100,000 created < 5 s, unchanged < 3 s, peak memory < 200 MB; 1,000,000 created < 60 s")
        worker_pid = processes["worker"].pid
        phase("create", create_path, args=args, env=env, worker_pid=worker_pid, database=database)
        phases = args.phases.split(",")
        if "same" in phases or "change" in phases:
            listed = listings_in_sync(store, args.listings if args.listings is not None else args.rows)
            print(f"\n(setup, not timed: {listed:,} products listed in the store, matched, in sync with Walmart)")
        if "same" in phases:
            phase("same", create_path, args=args, env=env, worker_pid=worker_pid, database=database)
        if "change" in phases:
            phase("change", change_path, args=args, env=env, worker_pid=worker_pid, database=database)
        print("\nlogs:", workdir)
        return 0


if __name__ == "__main__":
    sys.exit(main())
