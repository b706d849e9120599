"""Benchmark: import a 100,000-product CSV with `manage.py catalog_import` (targets: under 30 s and under
300 MB peak memory), on SQLite and on PostgreSQL. Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_catalog_import.py                  # SQLite, and PostgreSQL if reachable
    .venv/bin/python bench/bench_catalog_import.py --rows 20000 --databases sqlite
    BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/cm_listings_bench .venv/bin/python bench/...

Each run happens in a fresh child process on a fresh database (migrated first, not timed): the first
import creates every product, the second imports the same file again (every row compared and found
unchanged: nothing is written), the third imports a file where every price and quantity changed.

"CPU" is the CPU time the importing process itself used (the database server's work is not in it): on
a busy machine it shows how much of the wall time was spent waiting for a core. Peak memory is the
child's maximum resident set size (`ru_maxrss`: the whole process, Python + Django + the import), and
its growth during the import. The file has 1% bad rows (wrong check digits, bad prices), reported as
in real life. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/cm_listings_bench"


def gs1_check_digit(body: str) -> int:
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def csv_write(path: Path, rows: int, seed: int = 7) -> int:
    """A catalog CSV with `rows` products; returns how many rows are bad (1%)."""
    rng = random.Random(seed)
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["sku", "name", "brand", "description", "image_url", "upc", "price", "quantity", "shipping_weight"]
        )
        for number in range(rows):
            body = f"{number + 10_000_000:011d}"
            upc = body + str(gs1_check_digit(body))
            price = f"{rng.randint(100, 99_999) / 100:.2f}"
            if number % 100 == 99:
                bad += 1
                if number % 200 == 199:
                    upc = upc[:-1] + str((int(upc[-1]) + 1) % 10)
                else:
                    price = "12.345"
            writer.writerow(
                [
                    f"BENCH-{number:06d}",
                    f"Benchmark product {number}",
                    rng.choice(["Acme", "Globex", "Initech"]),
                    "A product made for the import benchmark.",
                    f"https://example.com/images/{number}.jpg",
                    upc,
                    price,
                    rng.randint(0, 500),
                    f"{rng.randint(10, 5000) / 100:.2f}",
                ]
            )
    return bad


def child(csv_path: str, changed_path: str) -> None:
    """Runs inside the child process: migrate (untimed), then import twice and print JSON figures."""
    import resource

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from listings.models import ImportJob, Product

    call_command("migrate", verbosity=0)
    figures = {"vendor": connection.vendor, "load_average": os.getloadavg()[0]}
    for label, path in (("create", csv_path), ("same", csv_path), ("change", changed_path)):
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_before = time.process_time()
        started = time.perf_counter()
        call_command("catalog_import", path, max_errors_shown=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        job = ImportJob.objects.order_by("-pk").first()
        figures[label] = {
            "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(rss_after / 1024, 1),
            "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
            "rows": job.rows_processed,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "rows_with_errors": job.error_count,
            "status": job.status,
        }
    figures["products"] = Product.objects.count()
    print("FIGURES " + json.dumps(figures))


def postgres_reset(url: str) -> bool:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        print(f"PostgreSQL not reachable ({error}); skipped.")
        return False
    return True


def run(database: str, csv_path: Path, changed_path: Path, workdir: Path) -> dict | None:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="channel_manager.settings.test", PYTHONPATH=str(ROOT))
    if database == "sqlite":
        db_file = workdir / "bench.sqlite3"
        db_file.unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db_file}"
    else:
        url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        if not postgres_reset(url):
            return None
        env["DATABASE_URL"] = url
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, __file__, "--child", str(csv_path), "--changed", str(changed_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("FIGURES ")]
    if result.returncode != 0 or not lines:
        print(result.stdout[-2000:], result.stderr[-4000:])
        raise SystemExit(f"{database} run failed")
    return json.loads(lines[-1][len("FIGURES ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", metavar="CSV")
    parser.add_argument("--changed", metavar="CSV")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.changed)
        return
    with tempfile.TemporaryDirectory(prefix="cm-bench-import-") as directory:
        workdir = Path(directory)
        csv_path = workdir / "catalog.csv"
        bad = csv_write(csv_path, args.rows)
        changed_path = workdir / "catalog-changed.csv"
        csv_write(changed_path, args.rows, seed=8)
        size_mb = csv_path.stat().st_size / 1024 / 1024
        print(f"Catalog import benchmark: {args.rows:,} rows ({bad:,} bad), {size_mb:.1f} MB CSV")
        print("targets: under 30 s and under 300 MB peak memory")
        for database in args.databases.split(","):
            figures = run(database.strip(), csv_path, changed_path, workdir)
            if figures is None:
                continue
            print(f"{figures['vendor']}: machine load average at start {figures['load_average']:.1f}")
            for label in ("create", "same", "change"):
                f = figures[label]
                print(
                    f"{figures['vendor']:<10} {label:<6} {f['seconds']:>6.2f} s (CPU of this process "
                    f"{f['cpu_seconds']:>5.1f} s)  "
                    f"{f['rows'] / f['seconds']:>8,.0f} rows/s  peak RSS {f['peak_rss_mb']:>6.1f} MB "
                    f"(+{f['rss_growth_mb']:.1f} MB during import)  created {f['created']:,} updated "
                    f"{f['updated']:,} unchanged {f['unchanged']:,} with errors {f['rows_with_errors']:,} "
                    f"[{f['status']}]"
                )


if __name__ == "__main__":
    main()
