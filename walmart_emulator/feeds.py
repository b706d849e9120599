"""Bulk feeds: MP_ITEM_MATCH (setup by match), inventory (1.4) and price (1.7).

A feed is accepted at once (`feed_submit`: limits -> 413, unknown type -> 400) and processed when due
(`WALMART_EMULATOR_FEED_DELAY_SECONDS` after submission, emulator clock): by `feed_process_task`
(scheduled with that countdown after commit), by the periodic sweep, or lazily when its status is read
(`feed_process_due`). Processing is all-or-nothing per feed and safe to re-run (a processed feed is left
alone). Per-item results follow Walmart's ingestion statuses; the error codes are the emulator's own
(`ERR_EXT_DATA_*`) with Walmart-like descriptions.

Rules per item: the payload shape of the published JSON schemas (feed-json-schemas/), identifiers
with a valid GS1 check digit, an identifier present in the catalog, prices with at most two decimals,
a SKU at most once per feed (every occurrence of a repeated SKU fails), a SKU already set up on a
different item fails, and so does an item already offered under another SKU.
"""

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeGuard

from django.conf import settings
from django.db import transaction

from walmart_emulator.bulk import bulk_insert, bulk_update
from walmart_emulator.clock import emulator_now, waiting_status
from walmart_emulator.errors import EmulatorError
from walmart_emulator.identifiers import InvalidIdentifier, identifier_to_gtin14
from walmart_emulator.models import CatalogItem, Feed, FeedItemResult, Offer, Seller

SUPPORTED_FEED_TYPES = ("MP_ITEM_MATCH", "inventory", "price")
KNOWN_FEED_TYPES = (
    "item",
    "RETIRE_ITEM",
    "MP_ITEM",
    "MP_WFS_ITEM",
    "MP_ITEM_MATCH",
    "MP_MAINTENANCE",
    "SKU_TEMPLATE_MAP",
    "SHIPPING_OVERRIDES",
    "OMNI_WFS",
    "FITMENT_ACES",
    "FITMENT_PIES",
    "inventory",
    "MP_INVENTORY",
    "price",
    "CPT_SELLER_ELIGIBILITY",
    "promo",
    "lagtime",
    "RETURNS_OVERRIDES",
)
DEFAULT_FEED_LIMITS = {
    "MP_ITEM_MATCH": {"max_bytes": 10 * 1024 * 1024, "max_items": 10_000},
    "inventory": {"max_bytes": 5 * 1024 * 1024, "max_items": 100_000},
    "price": {"max_bytes": 10 * 1024 * 1024, "max_items": 10_000},
}
MATCH_HEADER_VERSIONS = ("1.0", "4.2")
MATCH_ITEM_FIELDS = {
    "sku",
    "productIdentifiers",
    "price",
    "ShippingWeight",
    "productCategory",
    "asin",
    "additionalProductAttributes",
    "additionalOfferAttributes",
    "condition",
}
CHUNK = 2000


def feed_delay_seconds() -> float:
    return float(getattr(settings, "WALMART_EMULATOR_FEED_DELAY_SECONDS", 5.0))


def feed_limits(feed_type: str) -> dict[str, int]:
    limits = {**DEFAULT_FEED_LIMITS, **getattr(settings, "WALMART_EMULATOR_FEED_LIMITS", {})}
    return limits[feed_type]


def _feed_items(feed_type: str, data) -> list | None:
    if not isinstance(data, dict):
        return None
    key = {"MP_ITEM_MATCH": "MPItem", "inventory": "Inventory", "price": "Price"}[feed_type]
    items = data.get(key)
    return items if isinstance(items, list) else None


def feed_submit(*, seller: Seller, feed_type: str, content: bytes, ship_node: str = "") -> Feed:
    """Accept a feed file. Raises EmulatorError: 400 for an unknown/unsupported type, 413 past the limits.

    Nothing is stored when it raises. The feed is processed later (see module docstring).
    """
    if feed_type not in KNOWN_FEED_TYPES:
        raise EmulatorError(
            f"feedType '{feed_type}' is invalid.", field="feedType", code="INVALID_REQUEST_PARAM.GMP_GATEWAY_API"
        )
    if feed_type not in SUPPORTED_FEED_TYPES:
        raise EmulatorError(
            f"feedType '{feed_type}' is not supported by the Walmart emulator.",
            field="feedType",
            code="INVALID_REQUEST_PARAM.GMP_GATEWAY_API",
        )
    limits = feed_limits(feed_type)
    if len(content) > limits["max_bytes"]:
        raise EmulatorError(
            f"Feed file is {len(content)} bytes; the limit for {feed_type} is {limits['max_bytes']} bytes.",
            status=413,
            code="REQUEST_ENTITY_TOO_LARGE.GMP_GATEWAY_API",
            field="file",
            category="REQUEST",
            info="Payload Too Large.",
        )
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        data = None
    items = _feed_items(feed_type, data)
    if items is not None and len(items) > limits["max_items"]:
        raise EmulatorError(
            f"Feed has {len(items)} items; the limit for {feed_type} is {limits['max_items']}.",
            status=413,
            code="REQUEST_ENTITY_TOO_LARGE.GMP_GATEWAY_API",
            field="file",
            category="REQUEST",
            info="Payload Too Large.",
        )
    now = emulator_now()
    delay = feed_delay_seconds()
    feed = Feed.objects.create(
        seller=seller,
        feed_id=f"{uuid.uuid4().hex.upper()}@AQMBCgA",
        feed_type=feed_type,
        ship_node=ship_node,
        payload=content.decode("utf-8", errors="replace"),
        payload_bytes=len(content),
        items_received=len(items) if items is not None else 0,
        received_at=now,
        due_at=now + timedelta(seconds=delay),
    )
    from walmart_emulator.tasks import feed_process_task

    transaction.on_commit(lambda: feed_process_task.apply_async((feed.pk,), countdown=delay))
    return feed


def feed_display_status(feed: Feed, now: datetime) -> str:
    if feed.is_final:
        return feed.status
    return waiting_status(received_at=feed.received_at, due_at=feed.due_at, now=now)


def feed_process_due(*, feed: Feed, now: datetime | None = None) -> Feed:
    """Process `feed` if it is due and not processed yet; returns the fresh row. Safe to call any time."""
    now = now or emulator_now()
    if feed.is_final or feed.due_at > now:
        return feed
    return feed_process(feed_pk=feed.pk, now=now)


def feeds_process_all_due(*, now: datetime | None = None) -> int:
    """Process every due feed (periodic sweep). Returns how many were processed."""
    now = now or emulator_now()
    count = 0
    for pk in Feed.objects.filter(
        status__in=[Feed.Status.RECEIVED, Feed.Status.INPROGRESS], due_at__lte=now
    ).values_list("pk", flat=True):
        feed_process(feed_pk=pk, now=now)
        count += 1
    return count


@dataclass(frozen=True, slots=True)
class CatalogRow:
    pk: int
    title: str


@dataclass
class ItemOutcome:
    index: int
    sku: str
    errors: list[dict] = field(default_factory=list)
    wpid: str = ""

    def fail(self, code: str, description: str) -> None:
        self.errors.append({"type": "DATA_ERROR", "code": code, "description": description})


def feed_process(*, feed_pk: int, now: datetime | None = None) -> Feed:
    """Process one feed now if due (row-locked; a final feed is returned untouched)."""
    now = now or emulator_now()
    with transaction.atomic():
        feed = Feed.objects.select_for_update(of=("self",)).select_related("seller").get(pk=feed_pk)
        if feed.is_final or feed.due_at > now:
            return feed
        try:
            data = json.loads(feed.payload)
        except ValueError:
            return _feed_fail(feed, now, "ERR_EXT_DATA_0801001", "The feed file is not valid JSON.")
        processor = {"MP_ITEM_MATCH": _process_match, "inventory": _process_inventory, "price": _process_price}[
            feed.feed_type
        ]
        try:
            outcomes = processor(feed, data, now)
        except FeedRejected as rejected:
            return _feed_fail(feed, now, rejected.code, str(rejected))
        bulk_insert(
            FeedItemResult,
            ("feed", "index", "sku", "wpid", "status", "errors"),
            (
                (
                    feed.pk,
                    outcome.index,
                    outcome.sku[:100],
                    outcome.wpid,
                    FeedItemResult.Status.DATA_ERROR if outcome.errors else FeedItemResult.Status.SUCCESS,
                    outcome.errors,
                )
                for outcome in outcomes
            ),
        )
        feed.items_received = len(outcomes)
        feed.items_failed = sum(1 for outcome in outcomes if outcome.errors)
        feed.items_succeeded = len(outcomes) - feed.items_failed
        feed.status = Feed.Status.PROCESSED
        feed.processed_at = now
        feed.save(update_fields=["items_received", "items_failed", "items_succeeded", "status", "processed_at"])
    return feed


class FeedRejected(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code


def _feed_fail(feed: Feed, now: datetime, code: str, description: str) -> Feed:
    feed.status = Feed.Status.ERROR
    feed.processed_at = now
    feed.items_failed = 0
    feed.items_succeeded = 0
    feed.ingestion_errors = [{"type": "DATA_ERROR", "code": code, "description": description}]
    feed.save(update_fields=["status", "processed_at", "items_failed", "items_succeeded", "ingestion_errors"])
    return feed


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _offers_by_sku(seller: Seller, skus: list[str]) -> dict[str, Offer]:
    offers: dict[str, Offer] = {}
    for chunk in _chunks(sorted(set(skus))):
        offers.update({offer.sku: offer for offer in Offer.objects.filter(seller=seller, sku__in=chunk)})
    return offers


def _mark_duplicates(outcomes: list[ItemOutcome]) -> None:
    counts = Counter(outcome.sku for outcome in outcomes if outcome.sku)
    for outcome in outcomes:
        if outcome.sku and counts[outcome.sku] > 1:
            outcome.fail(
                "ERR_EXT_DATA_DUPLICATE_SKU", f"SKU '{outcome.sku}' appears {counts[outcome.sku]} times in this feed."
            )


def _decimal_places_ok(value, places: int) -> bool:
    amount = Decimal(str(value))
    return amount == amount.quantize(Decimal(1).scaleb(-places))


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _match_header_check(data) -> None:
    """Raises FeedRejected for a feed whose MPItemFeedHeader Walmart would refuse as a whole."""
    header = data.get("MPItemFeedHeader") if isinstance(data, dict) else None
    if not isinstance(header, dict):
        raise FeedRejected("ERR_EXT_DATA_0801002", "MPItemFeedHeader is required.")
    if header.get("sellingChannel") != "mpsetupbymatch":
        raise FeedRejected("ERR_EXT_DATA_0801003", "MPItemFeedHeader.sellingChannel must be 'mpsetupbymatch'.")
    if header.get("locale") != "en":
        raise FeedRejected("ERR_EXT_DATA_0801003", "MPItemFeedHeader.locale must be 'en'.")
    if header.get("version") not in MATCH_HEADER_VERSIONS:
        raise FeedRejected(
            "ERR_EXT_DATA_0801003", f"MPItemFeedHeader.version '{header.get('version')}' is not supported."
        )
    if header.get("processMode") not in (None, "MERGE", "REPLACE"):
        raise FeedRejected("ERR_EXT_DATA_0801003", "MPItemFeedHeader.processMode must be MERGE or REPLACE.")


def _match_item_check(index: int, entry) -> tuple[ItemOutcome, str | None]:
    """One MPItem entry's outcome (its errors, if any) and its GTIN-14 (None when it has no valid identifier)."""
    item = entry.get("Item") if isinstance(entry, dict) else None
    given_sku = item.get("sku") if isinstance(item, dict) else None
    sku = given_sku if isinstance(given_sku, str) else ""
    outcome = ItemOutcome(index=index, sku=sku)
    if not isinstance(item, dict) or set(entry) != {"Item"}:
        outcome.fail("ERR_EXT_DATA_SCHEMA", 'Each MPItem entry must be {"Item": {...}}.')
        return outcome, None
    unknown = set(item) - MATCH_ITEM_FIELDS
    if unknown:
        outcome.fail("ERR_EXT_DATA_SCHEMA", f"Unknown attributes: {', '.join(sorted(unknown))}.")
    if not sku or len(sku) > 50:
        outcome.fail("ERR_EXT_DATA_SCHEMA", "sku is required (1 to 50 characters).")
    price = item.get("price")
    if not _is_number(price) or price < 0:
        outcome.fail("ERR_EXT_DATA_INVALID_PRICE", "price is required and must be a number >= 0.")
    elif not _decimal_places_ok(price, 2):
        outcome.fail("ERR_EXT_DATA_INVALID_PRICE", f"price '{price}' has more than two decimal places.")
    weight = item.get("ShippingWeight")
    if not _is_number(weight) or weight < 0:
        outcome.fail("ERR_EXT_DATA_SCHEMA", "ShippingWeight is required and must be a number >= 0.")
    elif not _decimal_places_ok(weight, 3):
        outcome.fail("ERR_EXT_DATA_SCHEMA", f"ShippingWeight '{weight}' has more than three decimal places.")
    identifiers = item.get("productIdentifiers")
    if not isinstance(identifiers, dict) or set(identifiers) != {"productIdType", "productId"}:
        outcome.fail("ERR_EXT_DATA_SCHEMA", "productIdentifiers must hold productIdType and productId.")
        return outcome, None
    id_type, product_id = identifiers.get("productIdType"), identifiers.get("productId")
    if id_type not in ("ISBN", "GTIN", "UPC", "EAN") or not isinstance(product_id, str):
        outcome.fail("ERR_EXT_DATA_SCHEMA", "productIdType must be ISBN, GTIN, UPC or EAN and productId a string.")
        return outcome, None
    try:
        return outcome, identifier_to_gtin14(id_type=id_type, value=product_id)
    except InvalidIdentifier as error:
        outcome.fail("ERR_EXT_DATA_INVALID_PRODUCT_ID", str(error))
        return outcome, None


def _process_match(feed: Feed, data, now: datetime) -> list[ItemOutcome]:
    _match_header_check(data)
    entries = data.get("MPItem")
    if not isinstance(entries, list) or not entries:
        raise FeedRejected("ERR_EXT_DATA_0801002", "MPItem must be a non-empty list.")

    outcomes: list[ItemOutcome] = []
    gtins: dict[int, str] = {}
    for index, entry in enumerate(entries):
        outcome, gtin = _match_item_check(index, entry)
        outcomes.append(outcome)
        if gtin is not None:
            gtins[index] = gtin
    _mark_duplicates(outcomes)

    catalog: dict[str, CatalogRow] = {}
    for chunk in _chunks(sorted(set(gtins.values()))):
        rows = CatalogItem.objects.filter(gtin__in=chunk, is_published=True).values_list("gtin", "pk", "title")
        catalog.update({gtin: CatalogRow(pk, title) for gtin, pk, title in rows})
    existing = _offers_by_sku(feed.seller, [outcome.sku for outcome in outcomes if outcome.sku])
    item_ids = [item.pk for item in catalog.values()]
    offered_items: dict[int, str] = {}
    for chunk in _chunks(item_ids):
        offered_items.update(
            dict(
                Offer.objects.filter(seller=feed.seller, catalog_item_id__in=chunk).values_list(
                    "catalog_item_id", "sku"
                )
            )
        )

    from walmart_emulator.services import wpid_generate

    status = Offer.PublishedStatus.PUBLISHED if feed.seller.is_live else Offer.PublishedStatus.STAGE
    reason = "" if feed.seller.is_live else "Seller is not live yet: the offer is staged."
    to_create: list[tuple] = []
    to_update: list[tuple] = []
    newly_published: list[str] = []
    for outcome in outcomes:
        if outcome.errors:
            continue
        item = entries[outcome.index]["Item"]
        gtin = gtins[outcome.index]
        catalog_item = catalog.get(gtin)
        if catalog_item is None:
            identifiers = item["productIdentifiers"]
            outcome.fail(
                "ERR_EXT_DATA_ITEM_NOT_FOUND",
                f"No item in the Walmart catalog matches {identifiers['productIdType']} '{identifiers['productId']}'.",
            )
            continue
        offer = existing.get(outcome.sku)
        if offer is not None and offer.catalog_item_id != catalog_item.pk:
            outcome.fail(
                "ERR_EXT_DATA_SKU_MISMATCH", f"SKU '{outcome.sku}' is already set up on a different Walmart item."
            )
            continue
        other_sku = offered_items.get(catalog_item.pk)
        if offer is None and other_sku is not None:
            outcome.fail("ERR_EXT_DATA_SKU_MISMATCH", f"This item is already offered under SKU '{other_sku}'.")
            continue
        price = Decimal(str(item["price"])).quantize(Decimal("0.01"))
        weight = Decimal(str(item["ShippingWeight"])).quantize(Decimal("0.001"))
        if offer is None:
            wpid = wpid_generate()
            to_create.append(
                (
                    feed.seller_id,
                    outcome.sku,
                    catalog_item.pk,
                    wpid,
                    catalog_item.title,
                    item.get("condition", "New") or "New",
                    price,
                    "USD",
                    weight,
                    status,
                    reason,
                    Offer.LifecycleStatus.ACTIVE,
                    0,
                    0,
                    now,
                    now,
                )
            )
            offered_items[catalog_item.pk] = outcome.sku
            outcome.wpid = wpid
            if status == Offer.PublishedStatus.PUBLISHED:
                newly_published.append(outcome.sku)
        else:
            published, why = (
                (offer.published_status, offer.unpublished_reason)
                if offer.published_status == Offer.PublishedStatus.PUBLISHED
                else (status, reason)
            )
            to_update.append((offer.pk, price, weight, now, Offer.LifecycleStatus.ACTIVE, published, why))
            outcome.wpid = offer.wpid
            if published == Offer.PublishedStatus.PUBLISHED != offer.published_status:
                newly_published.append(outcome.sku)
    bulk_insert(
        Offer,
        (
            "seller",
            "sku",
            "catalog_item",
            "wpid",
            "product_name",
            "condition",
            "price",
            "currency",
            "shipping_weight",
            "published_status",
            "unpublished_reason",
            "lifecycle_status",
            "quantity",
            "reserved_quantity",
            "created_at",
            "updated_at",
        ),
        to_create,
    )
    bulk_update(
        Offer,
        ("price", "shipping_weight", "updated_at", "lifecycle_status", "published_status", "unpublished_reason"),
        to_update,
    )
    from walmart_emulator.item_events import offers_published_emit

    offers_published_emit(seller=feed.seller, skus=newly_published)
    return outcomes


def _process_inventory(feed: Feed, data, now: datetime) -> list[ItemOutcome]:
    if not isinstance(data, dict) or "Inventory" not in data:
        raise FeedRejected("ERR_EXT_DATA_0503009", "The feed must hold an 'Inventory' list (capital I).")
    header = data.get("InventoryHeader")
    if not isinstance(header, dict) or header.get("version") != "1.4" or set(header) != {"version"}:
        raise FeedRejected("ERR_EXT_DATA_0801003", "InventoryHeader.version must be '1.4'.")
    if set(data) - {"InventoryHeader", "Inventory"}:
        raise FeedRejected("ERR_EXT_DATA_0801003", "Unknown top-level attributes in the inventory feed.")
    entries = data["Inventory"]
    if not isinstance(entries, list) or not entries:
        raise FeedRejected("ERR_EXT_DATA_0801002", "Inventory must be a non-empty list.")
    outcomes: list[ItemOutcome] = []
    amounts: dict[int, int] = {}
    for index, entry in enumerate(entries):
        given_sku = entry.get("sku") if isinstance(entry, dict) else None
        sku = given_sku if isinstance(given_sku, str) else ""
        outcome = ItemOutcome(index=index, sku=sku)
        outcomes.append(outcome)
        if not isinstance(entry, dict) or set(entry) - {"sku", "quantity"} or not sku:
            outcome.fail("ERR_EXT_DATA_SCHEMA", "Each inventory entry needs sku and quantity only.")
            continue
        quantity = entry.get("quantity")
        if not isinstance(quantity, dict) or set(quantity) != {"unit", "amount"} or quantity.get("unit") != "EACH":
            outcome.fail("ERR_EXT_DATA_SCHEMA", 'quantity must be {"unit": "EACH", "amount": <integer>}.')
            continue
        amount = quantity.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            outcome.fail("ERR_EXT_DATA_SCHEMA", f"quantity.amount '{amount}' must be a whole number >= 0.")
            continue
        amounts[index] = amount
    _mark_duplicates(outcomes)
    offers = _offers_by_sku(feed.seller, [outcome.sku for outcome in outcomes if outcome.sku])
    to_update = []
    for outcome in outcomes:
        if outcome.errors:
            continue
        offer = offers.get(outcome.sku)
        if offer is None:
            outcome.fail("ERR_EXT_DATA_SKU_NOT_FOUND", f"SKU '{outcome.sku}' is not set up for this seller.")
            continue
        outcome.wpid = offer.wpid
        to_update.append((offer.pk, amounts[outcome.index], now))
    bulk_update(Offer, ("quantity", "updated_at"), to_update)
    return outcomes


def _process_price(feed: Feed, data, now: datetime) -> list[ItemOutcome]:
    if not isinstance(data, dict) or not isinstance(data.get("Price"), list) or not data["Price"]:
        raise FeedRejected("ERR_EXT_DATA_0801002", "The feed must hold a non-empty 'Price' list.")
    header = data.get("PriceHeader")
    if (
        not isinstance(header, dict)
        or header.get("version") != "1.7"
        or set(header) - {"version", "feedDate", "requestBatchId"}
    ):
        raise FeedRejected("ERR_EXT_DATA_0801003", "PriceHeader.version must be '1.7'.")
    outcomes: list[ItemOutcome] = []
    prices: dict[int, Decimal] = {}
    for index, entry in enumerate(data["Price"]):
        given_sku = entry.get("sku") if isinstance(entry, dict) else None
        sku = given_sku if isinstance(given_sku, str) else ""
        outcome = ItemOutcome(index=index, sku=sku)
        outcomes.append(outcome)
        if not isinstance(entry, dict) or set(entry) - {"sku", "offerId", "replaceAll", "pricing"} or not sku:
            outcome.fail("ERR_EXT_DATA_SCHEMA", "Each price entry needs sku and pricing.")
            continue
        pricing = entry.get("pricing")
        if not isinstance(pricing, list) or not pricing or not isinstance(pricing[0], dict):
            outcome.fail("ERR_EXT_DATA_SCHEMA", "pricing must be a non-empty list.")
            continue
        base = pricing[0]
        if base.get("currentPriceType", "BASE") not in ("BASE", "REDUCED", "CLEARANCE"):
            outcome.fail("ERR_EXT_DATA_SCHEMA", "currentPriceType must be BASE, REDUCED or CLEARANCE.")
            continue
        current = base.get("currentPrice")
        if not isinstance(current, dict) or current.get("currency", "USD") not in ("USD",):
            outcome.fail("ERR_EXT_DATA_SCHEMA", 'currentPrice must be {"currency": "USD", "amount": <number>}.')
            continue
        amount = current.get("amount")
        if not _is_number(amount) or amount <= 0:
            outcome.fail("ERR_EXT_DATA_INVALID_PRICE", f"currentPrice.amount '{amount}' must be a number > 0.")
            continue
        if not _decimal_places_ok(amount, 2):
            outcome.fail(
                "ERR_EXT_DATA_INVALID_PRICE", f"currentPrice.amount '{amount}' has more than two decimal places."
            )
            continue
        prices[index] = Decimal(str(amount)).quantize(Decimal("0.01"))
    _mark_duplicates(outcomes)
    offers = _offers_by_sku(feed.seller, [outcome.sku for outcome in outcomes if outcome.sku])
    to_update = []
    for outcome in outcomes:
        if outcome.errors:
            continue
        offer = offers.get(outcome.sku)
        if offer is None:
            outcome.fail("ERR_EXT_DATA_SKU_NOT_FOUND", f"SKU '{outcome.sku}' is not set up for this seller.")
            continue
        outcome.wpid = offer.wpid
        to_update.append((offer.pk, prices[outcome.index], now))
    bulk_update(Offer, ("price", "updated_at"), to_update)
    return outcomes
