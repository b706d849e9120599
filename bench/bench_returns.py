"""Benchmark: returns intake speed (returns upserted per second from parsed Walmart answers, no network).
Prints figures; never passes or fails on them. The Returns tab is measured by bench_pages.py.

    .venv/bin/python bench/bench_returns.py                      # PostgreSQL cm_returns_bench
    .venv/bin/python bench/bench_returns.py --intake 500
    .venv/bin/python -m bench returns
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pages import django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_returns_bench"


def database_create() -> None:
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def intake(count: int) -> None:
    """Upsert `count` parsed Walmart returns twice (insert, then update) and print the rates."""
    from returns.services import return_upsert_from_walmart
    from tests.factories import StoreFactory
    from tests.returns.factories import return_json, return_line_json
    from walmart_client.models import WalmartReturn

    store = StoreFactory(name="Bench intake store")
    remotes = [
        WalmartReturn.from_api(
            return_json(
                rma=f"BENCH-{n}",
                customer_order_id=f"C-{n}",
                lines=[
                    return_line_json(po=f"PO-{n}"),
                    return_line_json(number=2, sku="SKU-2", quantity=1, po=f"PO-{n}"),
                ],
            )
        )
        for n in range(count)
    ]
    for label in ("first read (insert)", "second read (update)"):
        started = time.perf_counter()
        for remote in remotes:
            return_upsert_from_walmart(store=store, remote=remote)
        elapsed = time.perf_counter() - started
        print(f"  intake {label:22s} {count:,} returns in {elapsed:.2f} s = {count / elapsed:,.0f} returns/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intake", type=int, default=1_000)
    arguments = parser.parse_args()
    django_setup(DEFAULT_DATABASE_URL)
    database_create()
    from django.db import connection

    print(f"Returns intake benchmark ({connection.vendor}, Python {sys.version.split()[0]})")
    intake(arguments.intake)


if __name__ == "__main__":
    main()
