"""Sellers who already sell on Walmart: pre-existing items, seeded fast and deterministically.

`seller_items_seed(seller=, count=, seed=)` gives a seller `count` live items (catalog item, offer with item
id, wpid, lifecycle / published status and unpublished reason, price, inputQty). `seed_plan(count=, seed=)`
yields the same items as `SeededItem`s without touching the database, each with the role it plays for a
product catalog that onboards this seller (`kind`), so tests, the demo and benchmarks can build that catalog:

- `sku`: the catalog holds a product with the same SKU (`catalog_skus == (sku,)`);
- `identifier`: the catalog holds one product with another SKU and the same identifier;
- `ambiguous`: the catalog holds two products sharing the identifier (never to be linked automatically);
- `unknown`: the catalog has no product for it.

Identifiers come in the four kinds Walmart takes (UPC-12, EAN-13, ISBN-13, GTIN-14), with valid check
digits, built from (seed, index) so they are distinct without checking and the same on every run; a catalog
item another seller already offers is shared (Walmart's catalog is one). Safe to re-run: SKUs the seller
already has are skipped. Writes go in chunks of `CHUNK` rows (multi-row inserts), so 100,000 items take seconds
and memory stays flat.
"""

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from walmart_emulator.clock import emulator_now
from walmart_emulator.identifiers import gtin_check_digit
from walmart_emulator.models import CatalogItem, Offer, Seller
from walmart_emulator.services import BRANDS, PRODUCT_WORDS, wpid_generate

CHUNK = 5000
BLOCK = 1000
KINDS = (("sku", 40), ("identifier", 30), ("ambiguous", 10), ("unknown", 20))
ID_TYPES = (("UPC", 55), ("EAN", 20), ("ISBN", 15), ("GTIN", 10))
UNPUBLISHED_REASONS = (
    "Reasonable Price Not Satisfied",
    "End Date Issue",
    "No Primary Image",
    "Start Date Issue",
    "No Price",
)
RETIRED_REASON = "Retired by the seller."
STATUSES = (
    (("PUBLISHED", "ACTIVE"), 82),
    (("UNPUBLISHED", "ACTIVE"), 8),
    (("SYSTEM_PROBLEM", "ACTIVE"), 3),
    (("IN_PROGRESS", "ACTIVE"), 3),
    (("UNPUBLISHED", "RETIRED"), 4),
)
CATEGORIES = ("Home", "Kitchen", "Toys", "Electronics", "Sports", "Books", "Garden")


@dataclass(frozen=True, slots=True)
class SeededItem:
    index: int
    sku: str
    kind: str
    id_type: str
    product_id: str
    gtin: str
    item_id: str
    title: str
    brand: str
    category: str
    price: Decimal
    quantity: int
    published_status: str
    lifecycle_status: str
    unpublished_reason: str
    catalog_skus: tuple[str, ...]


@dataclass(frozen=True)
class SeedResult:
    seller_id: int
    created: int
    skipped: int
    by_kind: dict[str, int]


def _weighted(rng: random.Random, choices: tuple) -> Any:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


def _identifier(id_type: str, seed: int, index: int) -> tuple[str, str]:
    """(product id as the seller knows it, GTIN-14), unique per (seed, index) within each type, and the four
    types never share a GTIN (different leading digits)."""
    tag = f"{seed % 1000:03d}"
    if id_type == "UPC":
        body = f"6{tag}{index:07d}"
        upc = body + gtin_check_digit(body)
        return upc, "00" + upc
    if id_type == "EAN":
        body = f"40{tag}{index:07d}"
        ean = body + gtin_check_digit(body)
        return ean, "0" + ean
    if id_type == "ISBN":
        body = f"979{tag[1:]}{index:07d}"
        isbn = body + gtin_check_digit(body)
        return isbn, "0" + isbn
    body = f"17{tag}{index:08d}"
    gtin = body + gtin_check_digit(body)
    return gtin, gtin


def seed_plan(*, count: int, seed: int = 0, start: int = 0, is_live: bool = True) -> Iterator[SeededItem]:
    """The items `seller_items_seed` makes for these arguments, in order, without touching the database.
    Item `i` is the same whatever `start` and `count` (one random stream per block of `BLOCK` indexes, each
    item drawing the same number of values)."""
    if count < 0 or start < 0 or count + start > 10_000_000:
        raise ValueError("count and start must be >= 0 and count + start at most 10,000,000")
    type_digit = {"UPC": "1", "EAN": "2", "ISBN": "3", "GTIN": "4"}
    rng = random.Random()  # noqa: S311 - test data
    for index in range(start - start % BLOCK, start + count):
        if index % BLOCK == 0 or index == start - start % BLOCK:
            rng.seed(seed * 10_000_019 + index // BLOCK)
        kind = _weighted(rng, KINDS)
        id_type = _weighted(rng, ID_TYPES)
        (published, lifecycle) = _weighted(rng, STATUSES)
        unpublished_reason = rng.choice(UNPUBLISHED_REASONS)
        brand, word, category = rng.choice(BRANDS), rng.choice(PRODUCT_WORDS), rng.choice(CATEGORIES)
        cents, out_of_stock, quantity = rng.randint(399, 19999), rng.random() < 0.1, rng.randint(1, 120)
        if index < start:
            continue  # the same draws as when listed from the block's start
        product_id, gtin = _identifier(id_type, seed, index)
        if published == "PUBLISHED" and not is_live:
            published = "STAGE"
        reason = ""
        if lifecycle == "RETIRED":
            reason = RETIRED_REASON
        elif published == "UNPUBLISHED":
            reason = unpublished_reason
        elif published == "SYSTEM_PROBLEM":
            reason = "Walmart could not process the item; it will be retried."
        elif published == "STAGE":
            reason = "Seller is not live yet: the offer is staged."
        sku = {"sku": f"MP-{index:07d}", "unknown": f"LEGACY-{index:07d}"}.get(kind, f"WM-{index:07d}")
        catalog_skus = {
            "sku": (sku,),
            "identifier": (f"CAT-{index:07d}",),
            "ambiguous": (f"CAT-{index:07d}-A", f"CAT-{index:07d}-B"),
            "unknown": (),
        }[kind]
        yield SeededItem(
            index=index,
            sku=sku,
            kind=kind,
            id_type=id_type,
            product_id=product_id,
            gtin=gtin,
            item_id=f"9{type_digit[id_type]}{seed % 1000:03d}{index:07d}",
            title=f"{brand} {word} #{index + 1}",
            brand=brand,
            category=category,
            price=Decimal(cents) / 100,
            quantity=0 if out_of_stock else quantity,
            published_status=published,
            lifecycle_status=lifecycle,
            unpublished_reason=reason,
            catalog_skus=catalog_skus,
        )


def _chunks(items: Iterator[SeededItem]) -> Iterator[list[SeededItem]]:
    chunk: list[SeededItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seller_items_seed(*, seller: Seller, count: int, seed: int = 0, start: int = 0) -> SeedResult:
    """Give `seller` the items of `seed_plan(count=, seed=, start=)` (see module docstring). Each chunk is its own
    transaction; a re-run skips what exists. Raises ValueError for a bad count or start."""
    created = skipped = 0
    by_kind: Counter[str] = Counter()
    for chunk in _chunks(seed_plan(count=count, seed=seed, start=start, is_live=seller.is_live)):
        with transaction.atomic():
            existing_skus = set(
                Offer.objects.filter(seller=seller, sku__in=[item.sku for item in chunk]).values_list("sku", flat=True)
            )
            fresh = [item for item in chunk if item.sku not in existing_skus]
            skipped += len(chunk) - len(fresh)
            catalog = _catalog_items(fresh)
            now = emulator_now()
            created += len(
                Offer.objects.bulk_create(
                    [
                        Offer(
                            seller_id=seller.pk,
                            sku=item.sku,
                            catalog_item_id=catalog[item.gtin],
                            wpid=wpid_generate(),
                            product_name=item.title,
                            price=item.price,
                            shipping_weight=Decimal("1.000"),
                            published_status=item.published_status,
                            unpublished_reason=item.unpublished_reason,
                            lifecycle_status=item.lifecycle_status,
                            quantity=item.quantity,
                            created_at=now,
                            updated_at=now,
                        )
                        for item in fresh
                    ],
                    batch_size=1000,
                )
            )
            by_kind.update(item.kind for item in fresh)
    return SeedResult(seller_id=seller.pk, created=created, skipped=skipped, by_kind=dict(by_kind))


def _catalog_items(items: list[SeededItem]) -> dict[str, int]:
    """GTIN -> catalog item pk for `items`, inserting the ones Walmart's catalog does not hold yet."""
    found = dict(CatalogItem.objects.filter(gtin__in=[item.gtin for item in items]).values_list("gtin", "pk"))
    missing = [item for item in items if item.gtin not in found]
    CatalogItem.objects.bulk_create(
        [
            CatalogItem(
                item_id=item.item_id,
                gtin=item.gtin,
                upc=item.product_id if item.id_type == "UPC" else "",
                title=item.title,
                brand=item.brand,
                product_type=item.category,
                price=item.price,
            )
            for item in missing
        ],
        batch_size=1000,
    )
    if missing:
        found.update(CatalogItem.objects.filter(gtin__in=[item.gtin for item in missing]).values_list("gtin", "pk"))
    return found
