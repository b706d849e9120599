"""Benchmark: how fast the webhook endpoint answers Walmart when a PO_CREATED delivery also stores its order,
provisional (lines, commerce number, stock reserved), against a delivery that is only recorded (an order event
that stores nothing at once: INTENT_TO_CANCEL). Walmart waits for the answer; the order is written once the answer
is sent (event received -> order stored is printed apart). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_webhook_receive.py                       # PostgreSQL, 1,000 deliveries a mode
    .venv/bin/python bench/bench_webhook_receive.py --deliveries 300 --senders 4
    .venv/bin/python bench/bench_webhook_receive.py --database-url sqlite:////tmp/receive.sqlite3

Set-up: a fresh test database (`test_` + the name in `--database-url`, default PostgreSQL
`cm_webhook_receive_bench`; left for inspection, dropped by the next run), an embedded
Redis private to the run (the batch each delivery queues goes to its broker; nothing consumes it), one store with
`--skus` products listed (default 1,000), and the endpoint served over HTTP by a threaded WSGI server in this
process. `--senders` threads (default 2) post signed deliveries, each of 1-3 lines over the SKUs: the two modes
alternate in rounds of 50, so both meet the same load. Each request is timed from send to answer; the queries of
one request of each mode are counted apart.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import (
    percentile,
    wsgi_server_start,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cm_webhook_receive_bench"
SECRET = "bench-receive-secret"  # noqa: S105 - the throwaway store of this run
SKU_PREFIX = "RCV-"
ROUND = 50


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    from channel_manager.embedded_redis import embedded_redis_start

    os.environ["REDIS_URL"] = embedded_redis_start(directory=Path(tempfile.mkdtemp(prefix="cm-bench-receive-")))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.test")
    import django

    django.setup()
    import logging

    from django.conf import settings

    from channel_manager.celery import app

    settings.ALLOWED_HOSTS = ["*"]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    logging.getLogger("django.request").setLevel(logging.ERROR)


def body_of(number: int, *, with_lines: bool, skus: int, rng: random.Random) -> bytes:
    purchase_order_id = f"{9_000_000_000 + number}"
    payload: dict = {"purchaseOrderId": purchase_order_id}
    if with_lines:
        chosen = rng.sample(range(skus), k=rng.randint(1, 3))
        payload |= {
            "partnerId": "10001",
            "customerOrderId": f"{8_000_000_000 + number}",
            "orderDate": "2026-12-06T12:00:00.000Z",
            "estimatedDeliveryDate": "2026-12-10T12:00:00.000Z",
            "estimatedShipDate": "2026-12-07T12:00:00.000Z",
            "orderLines": [
                {
                    "lineNumber": str(index),
                    "sku": f"{SKU_PREFIX}{sku:05d}",
                    "productName": f"Item {sku}",
                    "quantity": {"unitOfMeasure": "EACH", "measurementValue": rng.randint(1, 3)},
                }
                for index, sku in enumerate(chosen, start=1)
            ],
        }
    # Only recorded: an order event that stores nothing at once (the customer's intent to cancel), read back later.
    event_type = "PO_CREATED" if with_lines else "INTENT_TO_CANCEL"
    envelope = {
        "source": {"eventType": event_type, "eventTime": "2026-12-06T12:00:00.000Z", "eventId": f"EV-{number}"},
        "payload": payload,
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def describe(values: list[float]) -> str:
    return (
        f"n={len(values)} p50 {statistics.median(values) * 1000:.1f} ms, p95 {percentile(values, 0.95) * 1000:.1f} ms, "
        f"max {max(values) * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=1000, help="deliveries per mode")
    parser.add_argument("--skus", type=int, default=1000, help="products listed, the lines spread over them")
    parser.add_argument("--senders", type=int, default=2, help="threads posting deliveries at once")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()
    django_setup(args.database_url)

    import requests
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from channel_manager.models import Store
    from listings.models import Listing, Product
    from orders.models import Order, OrderSettings, WebhookEvent

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    store = Store.objects.create(name="Receive bench", client_id="bench-receive", client_secret=SECRET)
    products = Product.objects.bulk_create(
        Product(sku=f"{SKU_PREFIX}{index:05d}", name=f"Item {index}", price=Decimal("9.99"), quantity=10**6)
        for index in range(args.skus)
    )
    Listing.objects.bulk_create(Listing(store=store, product=product, walmart_sku=product.sku) for product in products)
    order_settings, _ = OrderSettings.objects.get_or_create(store=store)
    path = reverse("orders:webhook_receive", args=[order_settings.webhook_token])
    header = order_settings.webhook_auth_header

    def signed(body: bytes) -> dict[str, str]:
        return {header: hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}

    rng = random.Random(11)  # a reproducible load
    # Queries of one request per mode (in-process client, same view).
    client = Client()
    queries = {}
    for mode, number in (("recorded only", -1), ("recorded + provisional order", -2)):
        body = body_of(number, with_lines=mode != "recorded only", skus=args.skus, rng=rng)
        with CaptureQueriesContext(connection) as captured:
            answer = client.post(path, data=body, content_type="application/json", headers=signed(body))
        assert answer.status_code == 200, answer.content
        queries[mode] = len(captured)

    base = wsgi_server_start()[1] + path
    timings: dict[bool, list[float]] = {False: [], True: []}
    failures = 0
    lock = threading.Lock()
    number = 0
    total = args.deliveries * 2
    started = time.perf_counter()
    for round_start in range(0, total, ROUND):
        with_lines = (round_start // ROUND) % 2 == 1
        bodies = [
            body_of(number + index, with_lines=with_lines, skus=args.skus, rng=rng)
            for index in range(min(ROUND, total - round_start))
        ]
        number += len(bodies)
        queue = list(bodies)

        def send(with_lines: bool = with_lines, queue: list[bytes] = queue) -> None:
            nonlocal failures
            session = requests.Session()
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                began = time.perf_counter()
                response = session.post(
                    base, data=body, headers={"Content-Type": "application/json", **signed(body)}, timeout=30
                )
                elapsed = time.perf_counter() - began
                with lock:
                    if response.status_code == 200:
                        timings[with_lines].append(elapsed)
                    else:
                        failures += 1

        threads = [threading.Thread(target=send) for _ in range(args.senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    wall = time.perf_counter() - started

    print(
        f"webhook receive: {connection.vendor}, {args.skus} SKUs listed, {args.senders} senders over HTTP "
        f"(threaded WSGI server in this process), {args.deliveries} deliveries a mode in rounds of {ROUND}"
    )
    print(f"  recorded only:                {describe(timings[False])}; {queries['recorded only']} queries")
    print(
        f"  recorded + provisional order: {describe(timings[True])}; {queries['recorded + provisional order']} queries"
    )
    # The order is written once the answer is sent (the response's close): event received -> order stored.
    received = dict(WebhookEvent.objects.filter(store=store).values_list("purchase_order_id", "received_at"))
    stored = [
        (created - received[purchase_order_id]).total_seconds()
        for purchase_order_id, created in Order.objects.filter(store=store).values_list(
            "purchase_order_id", "created_at"
        )
        if purchase_order_id in received
    ]
    print(f"  event received -> provisional order stored (after the answer): {describe(stored)}")
    provisional = Order.objects.filter(store=store, provisional=True).count()
    print(
        f"  events {WebhookEvent.objects.filter(store=store).count()}, provisional orders {provisional}, "
        f"failed answers {failures}; {total / wall:.0f} deliveries/s overall; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    return 0  # the test database stays for inspection; the next run drops and creates it again


if __name__ == "__main__":
    sys.exit(main())
