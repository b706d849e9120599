"""Bulk feeds: upload (`POST /v3/feeds?feedType=...`, multipart with a `file` part) and status
(`GET /v3/feeds`, `GET /v3/feeds/{feedId}?includeDetails=true`).

https://developer.walmart.com/us-marketplace/reference/getfeeditemstatus

A feed upload is a write: it is retried only when the request never left or Walmart answered 429. After
an ambiguous failure the caller cannot know whether Walmart created a feed; record the intent first and
reconcile with `iter_all()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from walmart_client.models import FeedAck, FeedItemResult, FeedStatus, FeedSummary
from walmart_client.requestor import Requestor, encode_json
from walmart_client.resources._common import check_quantity, path_part
from walmart_client.resources.prices import build_price_body
from walmart_client.transport import Retry

MAX_FEED_ITEMS = 10_000
INVENTORY_FEED_VERSION = "1.4"
PRICE_FEED_VERSION = "1.7"
LAGTIME_FEED_VERSION = "1.0"
MAX_STATUS_PAGE = 50

# Room kept under Walmart's file size limit for the multipart envelope and rounding.
FEED_SIZE_SAFETY = 0.95
INVENTORY_FEED_TYPE = "inventory"
PRICE_FEED_TYPE = "price"

# The list in each feed payload that holds the items (Walmart's key spellings, case included).
FEED_ITEM_KEYS = ("MPItem", "Inventory", "inventory", "Price", "lagTime", "LagTime", "Item", "items")

T = TypeVar("T")


def split_feed_items(items: Iterable[T], max_items: int = MAX_FEED_ITEMS) -> list[list[T]]:
    """`items` cut into consecutive chunks of at most `max_items` (Walmart's per-feed limit), order kept."""
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    items = items if isinstance(items, Sequence) else list(items)
    return [list(items[i : i + max_items]) for i in range(0, len(items), max_items)]


def feed_item_count(payload: Mapping[str, Any]) -> int:
    """Number of items in a feed payload: the length of its item list (`MPItem`, `Inventory`, `Price`,
    `lagTime`, ...). Raises ValueError when the payload has no item list."""
    for key in FEED_ITEM_KEYS:
        value = payload.get(key)
        if isinstance(value, list):
            return len(value)
    lists = [v for v in payload.values() if isinstance(v, list)]
    if len(lists) == 1:
        return len(lists[0])
    raise ValueError("the feed payload has no item list (expected e.g. MPItem, Inventory, Price or lagTime)")


def _unique(pairs: Mapping[str, T] | Iterable[tuple[str, T]], what: str) -> list[tuple[str, T]]:
    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    seen: set[str] = set()
    for sku, _ in items:
        if not sku:
            raise ValueError(f"every {what} line needs a SKU")
        if sku in seen:
            # Walmart does not say which of two lines for one SKU wins in a feed.
            raise ValueError(f"SKU {sku!r} appears twice in the {what} feed")
        seen.add(sku)
    if not items:
        raise ValueError(f"the {what} feed has no items")
    return items


def _inventory_line(sku: str, quantity: int) -> dict[str, Any]:
    check_quantity(quantity, what=f"quantity of {sku}", allow_zero=True)
    return {"sku": sku, "quantity": {"unit": "EACH", "amount": quantity}}


def inventory_feed_payload(quantities: Mapping[str, int] | Iterable[tuple[str, int]]) -> dict[str, Any]:
    """`feedType=inventory` payload, spec 1.4 (seller's default ship node): `{InventoryHeader, Inventory}`.
    Raises ValueError for a duplicate SKU or a negative / non-integer quantity."""
    lines = [_inventory_line(sku, quantity) for sku, quantity in _unique(quantities, "inventory")]
    return {"InventoryHeader": {"version": INVENTORY_FEED_VERSION}, "Inventory": lines}


def price_feed_payload(
    prices: Mapping[str, Decimal] | Iterable[tuple[str, Decimal]], *, currency: str = "USD"
) -> dict[str, Any]:
    """`feedType=price` payload, spec 1.7: `{PriceHeader, Price}` with BASE prices. Raises ValueError for
    a duplicate SKU, more than two decimals or a non-positive price."""
    lines = []
    for sku, amount in _unique(prices, "price"):
        body = build_price_body(sku, amount, currency=currency)
        lines.append(body)
    return {"PriceHeader": {"version": PRICE_FEED_VERSION}, "Price": lines}


def lagtime_feed_payload(lag_times: Mapping[str, int] | Iterable[tuple[str, int]]) -> dict[str, Any]:
    """`feedType=lagtime` payload, spec 1.0. The header key follows the spec's schema (`lagTimeHeader`);
    the spec's own example spells it `LagTimeHeader`."""
    lines = []
    for sku, days in _unique(lag_times, "lag time"):
        check_quantity(days, what=f"lag time of {sku}", allow_zero=True)
        lines.append({"sku": sku, "fulfillmentLagTime": days})
    return {"lagTimeHeader": {"version": LAGTIME_FEED_VERSION}, "lagTime": lines}


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One feed file within Walmart's limits. `payload` is JSON-ready (money as JSON numbers, as it is
    uploaded), so it can be stored as the feed's record; it holds the first `item_count` of the values it was
    built from, in order."""

    feed_type: str
    payload: dict[str, Any]
    item_count: int
    size_bytes: int


# One compact encoder for every line's size (json.dumps builds a new encoder per call: a quarter of the time of
# sizing a 10,000-line feed). ASCII output, so its length is its size in bytes; a non-ASCII SKU counts as its
# escape, never less than its UTF-8 bytes (the file can only come out smaller than counted).
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _json_size(data: object) -> int:
    return len(_COMPACT.encode(data))


def _price_line(sku: str, amount: Decimal) -> dict[str, Any]:
    body = build_price_body(sku, amount)
    # JSON-ready, as `encode_json` would write it: two decimals at most, so float prints exactly those digits.
    body["pricing"][0]["currentPrice"]["amount"] = float(body["pricing"][0]["currentPrice"]["amount"])
    return body


V = TypeVar("V", int, Decimal)


@dataclass(frozen=True)
class _FeedFormat(Generic[V]):
    feed_type: str
    header: dict[str, Any]
    items_key: str
    line: Callable[[str, V], dict[str, Any]]


_INVENTORY_FORMAT = _FeedFormat[int](
    INVENTORY_FEED_TYPE, {"InventoryHeader": {"version": INVENTORY_FEED_VERSION}}, "Inventory", _inventory_line
)
_PRICE_FORMAT = _FeedFormat[Decimal](
    PRICE_FEED_TYPE, {"PriceHeader": {"version": PRICE_FEED_VERSION}}, "Price", _price_line
)


def _feed_files(
    values: Sequence[tuple[str, V]], feed_format: _FeedFormat[V], *, max_items: int, max_bytes: int, max_files: int
) -> list[FeedFile]:
    if max_items < 1 or max_bytes < 1:
        raise ValueError("max_items and max_bytes must be at least 1")
    feed_type, items_key = feed_format.feed_type, feed_format.items_key
    files: list[FeedFile] = []
    header_size = _json_size({**feed_format.header, items_key: []})
    byte_budget = int(max_bytes * FEED_SIZE_SAFETY)
    position = 0
    seen: set[str] = set()
    while position < len(values) and len(files) < max_files:
        lines: list[dict[str, Any]] = []
        size = header_size
        while position < len(values) and len(lines) < max_items:
            sku, value = values[position]
            if not sku:
                raise ValueError(f"every {feed_type} line needs a SKU")
            if sku in seen:
                # Walmart does not say which of two lines for one SKU wins in a feed.
                raise ValueError(f"SKU {sku!r} appears twice in the {feed_type} feed")
            item = feed_format.line(sku, value)
            item_size = _json_size(item) + (1 if lines else 0)  # the comma before it
            if lines and size + item_size > byte_budget:
                break
            lines.append(item)
            seen.add(sku)
            size += item_size
            position += 1
        files.append(FeedFile(feed_type, {**feed_format.header, items_key: lines}, len(lines), size))
    return files


def inventory_feed_files(
    quantities: Sequence[tuple[str, int]], *, max_items: int, max_bytes: int, max_files: int
) -> list[FeedFile]:
    """`feedType=inventory` files (spec 1.4, the seller's default ship node; `quantity` sets Walmart's
    `inputQty`), taking `quantities` in order: at most `max_files` files of at most `max_items` items and
    `max_bytes` bytes (less a safety margin) each. The values left over go in a later call. Raises ValueError
    for a missing SKU, a SKU given twice or a negative / non-integer quantity."""
    return _feed_files(quantities, _INVENTORY_FORMAT, max_items=max_items, max_bytes=max_bytes, max_files=max_files)


def price_feed_files(
    prices: Sequence[tuple[str, Decimal]], *, max_items: int, max_bytes: int, max_files: int
) -> list[FeedFile]:
    """`feedType=price` files (spec 1.7, BASE prices in USD), split like `inventory_feed_files`. Raises
    ValueError for a missing SKU, a SKU given twice, more than two decimals or a non-positive price."""
    return _feed_files(prices, _PRICE_FORMAT, max_items=max_items, max_bytes=max_bytes, max_files=max_files)


def inventory_feed_quantities(payload: Mapping[str, Any]) -> dict[str, int]:
    """`{sku: quantity}` of an inventory feed payload (as built by `inventory_feed_files`)."""
    return {item["sku"]: int(item["quantity"]["amount"]) for item in payload.get("Inventory") or ()}


def price_feed_prices(payload: Mapping[str, Any]) -> dict[str, Decimal]:
    """`{sku: price}` of a price feed payload (as built by `price_feed_files`), to the cent."""
    cent = Decimal("0.01")
    return {
        item["sku"]: Decimal(str(item["pricing"][0]["currentPrice"]["amount"])).quantize(cent)
        for item in payload.get("Price") or ()
    }


class Feeds:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def submit(
        self,
        *,
        feed_type: str,
        payload: Mapping[str, Any],
        ship_node: str | None = None,
        max_items: int = MAX_FEED_ITEMS,
    ) -> FeedAck:
        """Upload one feed file. Raises ValueError (nothing sent) for an empty feed or one over
        `max_items` items (use `split_feed_items`), WalmartError otherwise. Not safe to blindly repeat."""
        if not feed_type:
            raise ValueError("feed_type is required")
        count = feed_item_count(payload)
        if count == 0:
            raise ValueError("the feed has no items")
        if count > max_items:
            raise ValueError(
                f"the feed has {count} items; Walmart accepts at most {max_items} per feed "
                "(split it with walmart_client.resources.feeds.split_feed_items)"
            )
        content = encode_json(payload)
        response = self._requestor.request_full(
            "POST",
            "/v3/feeds",
            family=f"feeds.submit.{feed_type}",
            retry=Retry.WRITE,
            params={"feedType": feed_type, "shipNode": ship_node},
            files={"file": ("feed.json", content, "application/json")},
        )
        data = response.data or {}
        feed_id = data.get("feedId")
        if not feed_id:
            from walmart_client.errors import WalmartResponseError, error_details_from_body

            raise WalmartResponseError(
                "Walmart accepted the upload but returned no feedId",
                status=response.status,
                errors=error_details_from_body(data),
                endpoint="POST /v3/feeds",
                correlation_id=response.correlation_id,
            )
        return FeedAck(feed_id=str(feed_id), correlation_id=response.correlation_id)

    def status(
        self, feed_id: str, *, include_details: bool = True, offset: int = 0, limit: int = MAX_STATUS_PAGE
    ) -> FeedStatus:
        """One page of a feed's status with per-item results. Raises WalmartNotFound for an unknown id."""
        if not 1 <= limit <= MAX_STATUS_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_STATUS_PAGE}")
        data = self._requestor.get(
            f"/v3/feeds/{path_part(feed_id)}",
            family="feeds.status",
            params={"includeDetails": "true" if include_details else "false", "offset": offset, "limit": limit},
        )
        return FeedStatus.from_api(data or {})

    def iter_item_results(self, feed_id: str, *, page_size: int = MAX_STATUS_PAGE) -> Iterator[FeedItemResult]:
        """Every per-item result of a feed, paging with offset/limit until `itemsReceived` are read."""
        offset = 0
        while True:
            page = self.status(feed_id, include_details=True, offset=offset, limit=page_size)
            yield from page.item_details
            offset += len(page.item_details)
            if not page.item_details or offset >= page.items_received:
                return

    def iter_all(self, *, feed_id: str | None = None, page_size: int = MAX_STATUS_PAGE) -> Iterator[FeedSummary]:
        """Every feed Walmart lists for the seller (newest first, as Walmart orders them)."""
        if not 1 <= page_size <= MAX_STATUS_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_STATUS_PAGE}")
        offset = 0
        while True:
            data = (
                self._requestor.get(
                    "/v3/feeds", family="feeds.list", params={"feedId": feed_id, "offset": offset, "limit": page_size}
                )
                or {}
            )
            feeds = (data.get("results") or {}).get("feed") or []
            for feed in feeds:
                yield FeedSummary.from_api(feed)
            offset += len(feeds)
            total = data.get("totalResults")
            if not feeds or (total is not None and offset >= int(total)):
                return
