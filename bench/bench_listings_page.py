"""Benchmark: a store's Listings tab with 100,000 listings (target: under 150 ms server time per page, and a
query count that does not grow with the page size), and adding 100,000 products to a store as Draft
listings (target: under 30 s). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_listings_page.py                      # SQLite, and PostgreSQL if reachable
    .venv/bin/python bench/bench_listings_page.py --listings 20000 --databases sqlite
    BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/cm_listings_bench .venv/bin/python bench/...

Each database is fresh (migrated, products bulk-inserted: setup, not timed). Adding the products to the
store goes through `listings.services.listings_add` (timed), then a second time (idempotent: nothing
added, timed). The page is requested through Django's test client (the whole request: middleware, view,
queries, template), logged in as a store member; each case is requested 7 times and the median is shown.
"""

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
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/cm_listings_bench"
REPEAT = 7
CASES = [
    ("default order", {}),
    ("sort by SKU", {"sort": "sku"}),
    ("sort by product name desc", {"sort": "-name"}),
    ("status card Error", {"status": "error"}),
    ("search 'product 4242'", {"q": "product 4242"}),
    ("page 150 (deep offset)", {"page": "150"}),
]


def child(count: int) -> None:
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from channel_manager.models import Store, StoreMembership
    from listings.models import Listing, Product
    from listings.services import listings_add

    call_command("migrate", verbosity=0)
    figures: dict = {"vendor": connection.vendor, "load_average": os.getloadavg()[0]}
    Product.objects.bulk_create(
        (
            Product(
                sku=f"BENCH-{number:06d}",
                name=f"Benchmark product {number}",
                price=Decimal(number % 9000 + 100) / 100,
                quantity=number % 500,
            )
            for number in range(count)
        ),
        batch_size=5000,
    )
    user = get_user_model().objects.create_user("bench", password="bench-password-123")  # noqa: S106
    store = Store(name="Bench store", environment="emulator", client_id="bench")
    store.client_secret = "bench-secret"  # noqa: S105
    store.save()
    StoreMembership.objects.create(store=store, user=user)

    started = time.perf_counter()
    added = listings_add(store=store, products=Product.objects.all())
    figures["add_seconds"] = round(time.perf_counter() - started, 2)
    figures["added"] = added
    started = time.perf_counter()
    figures["added_again"] = listings_add(store=store, products=Product.objects.all())
    figures["add_again_seconds"] = round(time.perf_counter() - started, 2)

    # a realistic spread of statuses
    ids = list(Listing.objects.filter(store=store).order_by("pk").values_list("pk", flat=True))
    for status, share in ((Listing.Status.MATCH, 0.6), (Listing.Status.ERROR, 0.05), (Listing.Status.PROCESSING, 0.05)):
        chosen = ids[: int(len(ids) * share)]
        ids = ids[len(chosen) :]
        for start in range(0, len(chosen), 5000):
            Listing.objects.filter(pk__in=chosen[start : start + 5000]).update(status=status)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does on a live database
            cursor.execute("VACUUM ANALYZE")

    client = Client()
    client.force_login(user)
    url = f"/stores/{store.pk}/listings/"
    results = []
    for label, query in CASES:
        for size in (25, 100, 500):
            timings, queries = [], set()
            for _ in range(REPEAT):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url, {**query, "per_page": size})
                    timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
                queries.add(len(captured))
            results.append(
                {
                    "case": label,
                    "page_size": size,
                    "rows": response.content.count(b"<tr data-sku="),
                    "median_ms": round(statistics.median(timings[1:]), 1),
                    "max_ms": round(max(timings[1:]), 1),
                    "queries": sorted(queries),
                }
            )
    figures["pages"] = results
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    import tempfile

    print(f"Listings tab benchmark: {args.listings:,} listings in one store")
    print("targets: page under 150 ms server time, query count independent of page size; add 100,000 under 30 s")
    with tempfile.TemporaryDirectory(prefix="cm-bench-listings-") as directory:
        for database in args.databases.split(","):
            env = dict(os.environ, DJANGO_SETTINGS_MODULE="channel_manager.settings.test", PYTHONPATH=str(ROOT))
            if database.strip() == "sqlite":
                env["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
            else:
                url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
                if not postgres_reset(url):
                    continue
                env["DATABASE_URL"] = url
            result = subprocess.run(  # noqa: S603 - our own script
                [sys.executable, __file__, "--child", str(args.listings)],
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
            figures = json.loads(lines[-1][len("FIGURES ") :])
            print(f"\n[{figures['vendor']}] machine load average at start: {figures['load_average']:.1f}")
            print(
                f"[{figures['vendor']}] add to store: {figures['added']:,} listings in {figures['add_seconds']} s; "
                f"again (idempotent): {figures['added_again']} added in {figures['add_again_seconds']} s"
            )
            print(f"{'case':<28}{'page size':>10}{'rows':>6}{'median ms':>11}{'max ms':>9}  queries")
            for page in figures["pages"]:
                print(
                    f"{page['case']:<28}{page['page_size']:>10}{page['rows']:>6}{page['median_ms']:>11.1f}"
                    f"{page['max_ms']:>9.1f}  {','.join(map(str, page['queries']))}"
                )


if __name__ == "__main__":
    main()
