"""The demo's Walmart side: one emulated seller with a catalog, and items the seller already sells on Walmart
(under its own SKUs, from before the channel manager), made idempotently for `make run`."""

from dataclasses import dataclass, field

from django.db import transaction

from walmart_emulator import services
from walmart_emulator.models import CatalogItem, Seller
from walmart_emulator.seeding import SeededItem, seed_plan, seller_items_seed

DEMO_SELLER_NAME = "Demo Walmart seller"
DEMO_CATALOG_SEED = 20_261_123
DEMO_EXISTING_ITEMS = 24
# A seed whose first 24 items hold every kind (same SKU as a catalog product, identifier only, ambiguous,
# unknown to the catalog) and a few unpublished or retired ones: see walmart_emulator.seeding.
DEMO_EXISTING_SEED = 515


@dataclass(frozen=True)
class DemoSeed:
    seller_id: int
    client_id: str
    client_secret: str
    # Each: {"productIdType": "UPC", "productId": "<12 digits>", "gtin": "<14 digits>", "title": ..., "price": "12.34"}
    identifiers: list[dict] = field(default_factory=list)
    # The items the seller already has on Walmart, each with the catalog SKUs that onboard it (`kind`).
    existing: list[SeededItem] = field(default_factory=list)


def emulator_demo_seed(
    *,
    seller_name: str = DEMO_SELLER_NAME,
    items: int = 40,
    existing_items: int = DEMO_EXISTING_ITEMS,
    is_live: bool = True,
    simulate_orders: bool = True,
) -> DemoSeed:
    """Create (or find) the demo seller, `items` catalog items, and `existing_items` items the seller already
    sells on Walmart (walmart_emulator.seeding: SKUs the demo catalog has, items it knows by identifier only,
    ambiguous ones, unknown ones); return its API keys, the catalog's identifiers (the demo catalog's products
    should use them; add a few others to show match errors) and the existing items (with the catalog SKUs that
    onboard them, for the demo catalog to hold).

    Safe to re-run: the seller is found by name, the catalog and the existing items come from fixed seeds,
    so a second call returns the same keys, identifiers and items and adds nothing.
    """
    with transaction.atomic():
        seller = Seller.objects.filter(name=seller_name).first()
        if seller is None:
            seller = services.seller_create(name=seller_name, is_live=is_live, simulate_orders=simulate_orders)
        catalog = services.catalog_seed(count=items, seed=DEMO_CATALOG_SEED)
        seller_items_seed(seller=seller, count=existing_items, seed=DEMO_EXISTING_SEED)
    existing = list(seed_plan(count=existing_items, seed=DEMO_EXISTING_SEED, is_live=seller.is_live))
    return DemoSeed(
        seller_id=seller.pk,
        client_id=seller.client_id,
        client_secret=seller.client_secret,
        identifiers=[_identifier(item) for item in catalog],
        existing=existing,
    )


def _identifier(item: CatalogItem) -> dict:
    return {
        "productIdType": "UPC",
        "productId": item.upc,
        "gtin": item.gtin,
        "title": item.title,
        "price": str(item.price),
    }
