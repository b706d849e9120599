"""Benchmark: the emulator serving a seller who already sells on Walmart (100,000 items by default): the items
listing by cursor, the on-request ITEM and INVENTORY reports (made, linked, downloaded, read row by row), and
optionally the inventories listing (what the INVENTORY report replaces), all through the real walmart_client
over HTTP. Prints figures; never passes or fails.

    .venv/bin/python bench/bench_emulator_catalog.py                      # SQLite file in a temp dir
    .venv/bin/python bench/bench_emulator_catalog.py --items 100000 --inventories
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cm_bench_catalog .venv/bin/python -m bench emulator_catalog
    (PostgreSQL: a throw-away database `test_<name>` is created and dropped at the end)

Shape: one process; the emulator runs in a threaded WSGI server on 127.0.0.1 (Django's handler, the full
gateway: token, rate-limit bucket, JSON); the client is the product's `WalmartClient` over real sockets. No
Celery worker: the report is made on the first status read once it is due (the emulator's lazy path; with a
worker, `report_process_task` makes it at the same cost). Walmart's rate limits are lifted so the figures are the
emulator's own cost (the real limits are printed beside them). Latencies are measured per request (the first
request of each phase apart); memory is the process's RSS sampled every 20 ms (server and client together);
SQL queries are counted on every connection the server opens.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_emulator import database_create
from bench.bench_emulator import django_setup as emulator_django_setup
from bench.stack import (
    percentile,
    wsgi_server_start,
)

QUERIES = {"count": 0}
QUERIES_LOCK = threading.Lock()


def django_setup() -> None:
    """The emulator benchmark's setup (SQLite file unless DATABASE_URL), with this benchmark's families unlimited."""
    emulator_django_setup()
    from django.conf import settings

    settings.WALMART_EMULATOR_RATE_LIMITS = {
        family: {"count": 10**9, "seconds": 1}
        for family in ("items_list", "inventory_read", "reports", "reports_read", "settings")
    }
    settings.WALMART_EMULATOR_REPORT_DELAY_SECONDS = 1


def count_queries() -> None:
    """Count every SQL statement on every database connection (the server's threads open their own)."""
    from django.db.backends.signals import connection_created

    def counter(execute, sql, params, many, context):
        with QUERIES_LOCK:
            QUERIES["count"] += 1
        return execute(sql, params, many, context)

    def install(sender, connection, **kwargs) -> None:
        if counter not in connection.execute_wrappers:  # fired again at each reconnect of the same wrapper
            connection.execute_wrappers.append(counter)

    connection_created.connect(install, weak=False)


def rss_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    """Peak RSS over a phase, sampled every 20 ms by a background thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self.start = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def mib(value: float) -> str:
    return f"{value / 1024 / 1024:.1f} MiB"


def latency_line(samples: list[float]) -> str:
    ms = [sample * 1000 for sample in samples]
    return (
        f"first {ms[0]:.1f} ms; then n={len(ms) - 1} p50 {statistics.median(ms[1:]):.1f} ms, "
        f"p95 {percentile(ms[1:], 0.95):.1f} ms, max {max(ms[1:]):.1f} ms"
        if len(ms) > 1
        else f"first {ms[0]:.1f} ms"
    )


class TimedSession:
    """A requests.Session that records the duration of every request it sends."""

    def __new__(cls):
        import requests

        class Session(requests.Session):
            def __init__(self) -> None:
                super().__init__()
                self.samples: list[tuple[str, float]] = []

            def request(self, method, url, *args, **kwargs):
                started = time.perf_counter()
                response = super().request(method, url, *args, **kwargs)
                self.samples.append((url.split("?", 1)[0], time.perf_counter() - started))
                return response

        return Session()


def phase(session, path_part: str, since: int) -> list[float]:
    return [seconds for url, seconds in session.samples[since:] if path_part in url]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="Items of the seller (default 100,000).")
    parser.add_argument("--page-size", type=int, default=200, help="Items per GET /v3/items page (max 200).")
    parser.add_argument("--inventories", action="store_true", help="Also list GET /v3/inventories (50 a page).")
    args = parser.parse_args()

    django_setup()
    from django.db import connection

    database_name = connection.settings_dict["NAME"]
    database_create()
    count_queries()

    from walmart_client import WalmartClient
    from walmart_emulator import services
    from walmart_emulator.ratelimits import DEFAULTS
    from walmart_emulator.seeding import seller_items_seed

    seller = services.seller_create(name="Bench existing seller")
    with RssSampler() as memory:
        started = time.perf_counter()
        seeded = seller_items_seed(seller=seller, count=args.items, seed=1)
        seed_seconds = time.perf_counter() - started

    server, url = wsgi_server_start()
    session = TimedSession()
    client = WalmartClient(
        base_url=f"{url}/walmart-emulator",
        client_id=seller.client_id,
        client_secret=seller.client_secret,
        session=session,
        timeout=120.0,
    )
    load = os.getloadavg()
    print(f"database: {connection.vendor}; worker: none (threaded WSGI server in this process, client over HTTP)")
    print(f"scale: {args.items:,} items of one seller; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        f"seed: {seeded.created:,} items in {seed_seconds:.1f} s "
        f"({seeded.created / seed_seconds:,.0f} items/s), RSS +{mib(memory.peak - memory.start)}"
    )

    # items listing
    mark, queries = len(session.samples), QUERIES["count"]
    with RssSampler() as memory:
        started = time.perf_counter()
        listed = sum(1 for _ in client.items.iter_all(page_size=args.page_size))
        seconds = time.perf_counter() - started
    pages = phase(session, "/v3/items", mark)
    limit = DEFAULTS["items_list"]
    print(
        f"GET /v3/items by cursor: {listed:,} items in {len(pages)} pages of {args.page_size}, {seconds:.1f} s "
        f"({listed / seconds:,.0f} items/s); {latency_line(pages)}; "
        f"{(QUERIES['count'] - queries) / len(pages):.1f} queries/request; RSS peak +{mib(memory.peak - memory.start)}"
    )
    print(
        f"  at Walmart's unconfirmed {limit['count']} requests/{limit['seconds']} s the same pages take at least "
        f"{max(0, len(pages) - limit['count']) * limit['seconds'] / limit['count']:.0f} s of waiting"
    )

    # the ITEM report
    mark, queries = len(session.samples), QUERIES["count"]
    with RssSampler() as making:
        started = time.perf_counter()
        requested = client.reports.request_item_report()
        time.sleep(max(0.0, 1.05 - (time.perf_counter() - started)))
        made_started = time.perf_counter()
        status = client.reports.status(requested.request_id)
        made_seconds = time.perf_counter() - made_started
    download_started = time.perf_counter()
    with tempfile.TemporaryFile() as handle:
        size = client.reports.download_file(requested.request_id, handle)
    file_seconds = time.perf_counter() - download_started
    with RssSampler() as reading:
        rows_started = time.perf_counter()
        rows = sum(1 for _ in client.reports.download(requested.request_id))
        rows_seconds = time.perf_counter() - rows_started
    report_queries = QUERIES["count"] - queries
    print(
        f"ITEM report: status {status.status}; made in {made_seconds:.2f} s by the status read "
        f"({rows / made_seconds:,.0f} rows/s), zip {mib(size)}; RSS peak +{mib(making.peak - making.start)} "
        f"while making it (the emulator's side)"
    )
    print(
        f"  link + file to disk: {file_seconds:.2f} s; link + file + read {rows:,} rows one at a time: "
        f"{rows_seconds:.2f} s ({rows / rows_seconds:,.0f} rows/s), RSS peak +{mib(reading.peak - reading.start)} "
        f"(the client's side, server included); {report_queries} queries over the "
        f"{len(session.samples) - mark} requests"
    )

    # the INVENTORY report (every quantity in one file)
    mark, queries = len(session.samples), QUERIES["count"]
    with RssSampler() as making:
        started = time.perf_counter()
        requested = client.reports.request_inventory_report()
        time.sleep(max(0.0, 1.05 - (time.perf_counter() - started)))
        made_started = time.perf_counter()
        status = client.reports.status(requested.request_id)
        made_seconds = time.perf_counter() - made_started
    with RssSampler() as reading:
        rows_started = time.perf_counter()
        rows = sum(1 for _ in client.reports.download_inventory(requested.request_id))
        rows_seconds = time.perf_counter() - rows_started
    print(
        f"INVENTORY report: status {status.status}; made in {made_seconds:.2f} s by the status read "
        f"({rows / made_seconds:,.0f} rows/s), RSS peak +{mib(making.peak - making.start)} while making it; link + "
        f"file + read {rows:,} rows: {rows_seconds:.2f} s ({rows / rows_seconds:,.0f} rows/s), RSS peak "
        f"+{mib(reading.peak - reading.start)}; {QUERIES['count'] - queries} queries over the "
        f"{len(session.samples) - mark} requests"
    )

    if args.inventories:
        mark, queries = len(session.samples), QUERIES["count"]
        started = time.perf_counter()
        listed = sum(1 for _ in client.inventory.iter_all(page_size=50))
        seconds = time.perf_counter() - started
        pages = phase(session, "/v3/inventories", mark)
        print(
            f"GET /v3/inventories: {listed:,} SKUs in {len(pages)} pages of 50, {seconds:.1f} s; "
            f"{latency_line(pages)}; {(QUERIES['count'] - queries) / len(pages):.1f} queries/request"
        )
    client.close()
    server.shutdown()
    server.server_close()
    if connection.vendor == "postgresql":  # the throw-away test database goes, with the server threads' sessions
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            )
        connection.creation.destroy_test_db(database_name, verbosity=0)


if __name__ == "__main__":
    main()
