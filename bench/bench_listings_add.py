"""Benchmark: adding 100,000 products to a store as Draft listings (target: under 30 s). Prints figures;
never passes or fails on them. The Listings tab itself is measured by bench_pages.py.

    .venv/bin/python bench/bench_listings_add.py                      # SQLite, and PostgreSQL if reachable
    .venv/bin/python bench/bench_listings_add.py --listings 20000 --databases sqlite
    BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/cm_listings_bench .venv/bin/python bench/...

Each database is fresh (migrated, products bulk-inserted: setup, not timed). Adding the products to the
store goes through `listings.services.listings_add` (timed), then a second time (idempotent: nothing
added, timed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pages import child_figures  # noqa: E402

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/cm_listings_bench"


def child(count: int) -> None:
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from channel_manager.models import Store, StoreMembership
    from listings.models import Product
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

    print(f"Adding products to a store as Draft listings: {args.listings:,} products")
    print("target: 100,000 under 30 s")
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
            figures = child_figures([__file__, "--child", str(args.listings)], what=f"{database} run", env=env)
            print(f"\n[{figures['vendor']}] machine load average at start: {figures['load_average']:.1f}")
            print(
                f"[{figures['vendor']}] add to store: {figures['added']:,} listings in {figures['add_seconds']} s; "
                f"again (idempotent): {figures['added_again']} added in {figures['add_again_seconds']} s"
            )


if __name__ == "__main__":
    main()
