"""Benchmark: parse Walmart order pages into typed `WalmartOrder`s (target: 10,000 orders/s or better on
one core). Prints figures; never passes or fails on them.

    .venv/bin/python bench/bench_client_orders.py                 # 50 pages of 200 orders, 3 lines each
    .venv/bin/python bench/bench_client_orders.py --pages 100 --lines 5
    .venv/bin/python -m bench client_orders

Pages are built in the shape of the `GET /v3/orders` example of Walmart's orders spec (charges with tax,
string quantities, epoch-ms dates, several statuses on some lines, tracking on shipped ones) and
serialised to JSON bytes first. Each figure is the best of `--repeat` runs, as orders per second of CPU
time of this process (what one dedicated core does) and of wall time (what it did on this machine, shared
with whatever else runs). Two measurements:

* parse: bytes -> JSON (money as Decimal) -> `OrdersPage.from_api` (what every page costs);
* client: `client.orders.iter_all()` end to end through the real requestor and transport, with the HTTP
  answered in-process by a requests adapter (so the figure includes headers, token, rate-limit capture and
  cursor following, but no network).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from requests.adapters import BaseAdapter

from walmart_client import WalmartClient
from walmart_client.gc_pause import gc_paused
from walmart_client.models import OrdersPage
from walmart_client.requestor import decode_json

BASE_URL = "https://walmart.bench"
STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled")


def order_line(rng: random.Random, number: int, ordered_at: int) -> dict:
    quantity = rng.choice((1, 1, 1, 2, 3))
    price = round(rng.uniform(3, 250), 2)
    status = rng.choice(STATUSES)
    statuses = [{"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)}}]
    if status in ("Shipped", "Delivered"):
        statuses[0]["trackingInfo"] = {
            "shipDateTime": ordered_at + 86_400_000,
            "carrierName": {"carrier": rng.choice(("UPS", "USPS", "FedEx"))},
            "methodCode": "Standard",
            "trackingNumber": f"1Z{rng.randrange(10**15):015d}",
            "trackingURL": "https://www.walmart.com/tracking?tracking_id=1",
        }
    if quantity > 1 and rng.random() < 0.3:  # split line: part cancelled
        statuses[0]["statusQuantity"]["amount"] = str(quantity - 1)
        statuses.append(
            {
                "status": "Cancelled",
                "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
                "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
            }
        )
    return {
        "lineNumber": str(number),
        "item": {
            "productName": f"Product {rng.randrange(10**6)} - Blue - Laundry Bag",
            "sku": f"SKU-{rng.randrange(10**6)}",
        },
        "charges": {
            "charge": [
                {
                    "chargeType": "PRODUCT",
                    "chargeName": "ItemPrice",
                    "chargeAmount": {"currency": "USD", "amount": price},
                    "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": round(price * 0.08, 2)}},
                },
                {
                    "chargeType": "SHIPPING",
                    "chargeName": "Shipping",
                    "chargeAmount": {"currency": "USD", "amount": 4.99},
                    "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": 0.4}},
                },
            ]
        },
        "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
        "statusDate": ordered_at + 60_000,
        "orderLineStatuses": {"orderLineStatus": statuses},
        "fulfillment": {"fulfillmentOption": "S2H", "shipMethod": "VALUE", "pickUpDateTime": ordered_at + 3_600_000},
    }


def order(rng: random.Random, index: int, lines: int) -> dict:
    ordered_at = 1_714_564_800_000 + index * 60_000
    return {
        "purchaseOrderId": str(1_796_277_083_022 + index),
        "customerOrderId": str(5_281_956_426_648 + index),
        "customerEmailId": f"{index:032X}@relay.walmart.com",
        "orderType": "REGULAR",
        "orderDate": ordered_at,
        "shippingInfo": {
            "phone": "3155598681",
            "estimatedDeliveryDate": ordered_at + 5 * 86_400_000,
            "estimatedShipDate": ordered_at + 2 * 86_400_000,
            "methodCode": "Value",
            "postalAddress": {
                "name": "Kathryn Cole",
                "address1": "3258BWarners rd",
                "address2": "Garage",
                "city": "Warners",
                "state": "NY",
                "postalCode": "13164",
                "country": "USA",
                "addressType": "RESIDENTIAL",
            },
        },
        "orderLines": {"orderLine": [order_line(rng, n + 1, ordered_at) for n in range(lines)]},
        "shipNode": {"type": "SellerFulfilled", "name": "Default", "id": "100009"},
    }


def pages_build(pages: int, per_page: int, lines: int, seed: int = 11) -> list[bytes]:
    rng = random.Random(seed)
    result = []
    for page in range(pages):
        orders = [order(rng, page * per_page + i, lines) for i in range(per_page)]
        meta = {"totalCount": pages * per_page, "limit": per_page}
        if page < pages - 1:
            meta["nextCursor"] = (
                f"?limit={per_page}&hasMoreElements=true&soIndex={pages * per_page}&poIndex={(page + 1) * per_page}"
            )
        result.append(json.dumps({"list": {"meta": meta, "elements": {"order": orders}}}).encode())
    return result


class PagesAdapter(BaseAdapter):
    """Answers the token call and then each orders call with the next prepared page, in-process."""

    def __init__(self, pages: list[bytes]) -> None:
        super().__init__()
        self.pages = pages
        self.index = 0

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code = 200
        response.request = request
        response.url = request.url
        response.headers["Content-Type"] = "application/json"
        if request.url.endswith("/v3/token"):
            response._content = b'{"access_token":"bench","token_type":"Bearer","expires_in":900}'
        else:
            response.headers["x-current-token-count"] = "4999"
            response._content = self.pages[self.index]
            self.index += 1
        return response

    def close(self) -> None:
        pass


def bench_parse(pages: list[bytes]) -> tuple[float, float, int, int]:
    started, cpu_started = time.perf_counter(), time.process_time()
    orders = lines = 0
    for content in pages:
        data = decode_json(content)
        with gc_paused():  # as Orders.list_page does
            page = OrdersPage.from_api(data)
        orders += len(page.orders)
        lines += sum(len(o.lines) for o in page.orders)
    return time.perf_counter() - started, time.process_time() - cpu_started, orders, lines


def bench_client(pages: list[bytes]) -> tuple[float, float, int]:
    session = requests.Session()
    session.mount(BASE_URL, PagesAdapter(pages))
    client = WalmartClient(
        base_url=BASE_URL,
        client_id="bench",
        client_secret="bench-secret",  # noqa: S106 - not a credential
        session=session,
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    count = sum(1 for _ in client.orders.iter_all(limit=200))
    return time.perf_counter() - started, time.process_time() - cpu_started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--per-page", type=int, default=200)
    parser.add_argument("--lines", type=int, default=3, help="lines per order")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    pages = pages_build(args.pages, args.per_page, args.lines)
    size_mb = sum(len(p) for p in pages) / 1e6
    print(f"{args.pages} pages x {args.per_page} orders x {args.lines} lines, {size_mb:.1f} MB of JSON, one core")
    gc.collect()
    seconds, cpu, orders, lines = min((bench_parse(pages) for _ in range(args.repeat)), key=lambda r: r[1])
    print(
        f"parse : {orders} orders ({lines} lines): {orders / cpu:,.0f} orders/s of CPU time "
        f"({cpu:.3f} s CPU, {seconds:.3f} s wall = {orders / seconds:,.0f} orders/s wall), {lines / cpu:,.0f} lines/s"
    )
    seconds, cpu, count = min((bench_client(pages) for _ in range(args.repeat)), key=lambda r: r[1])
    print(
        f"client: {count} orders through client.orders.iter_all(): {count / cpu:,.0f} orders/s of CPU time "
        f"({cpu:.3f} s CPU, {seconds:.3f} s wall = {count / seconds:,.0f} orders/s wall)"
    )
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (wall figures drop when the core is shared)")
    print("target: >= 10,000 orders/s")


if __name__ == "__main__":
    main()
