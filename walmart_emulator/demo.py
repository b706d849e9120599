"""The demo's Walmart side: one emulated seller with a catalog, made idempotently for `make run`."""

from dataclasses import dataclass, field

from django.db import transaction

from walmart_emulator import services
from walmart_emulator.models import CatalogItem, Seller

DEMO_SELLER_NAME = "Demo Walmart seller"
DEMO_CATALOG_SEED = 20_261_123


@dataclass(frozen=True)
class DemoSeed:
    seller_id: int
    client_id: str
    client_secret: str
    # Each: {"productIdType": "UPC", "productId": "<12 digits>", "gtin": "<14 digits>", "title": ..., "price": "12.34"}
    identifiers: list[dict] = field(default_factory=list)


def emulator_demo_seed(
    *, seller_name: str = DEMO_SELLER_NAME, items: int = 40, is_live: bool = True, simulate_orders: bool = True
) -> DemoSeed:
    """Create (or find) the demo seller and `items` catalog items; return its API keys and the catalog's
    identifiers (the demo catalog's products should use them; add a few others to show match errors).

    Safe to re-run: the seller is found by name and the catalog comes from a fixed seed, so a second call
    returns the same keys and identifiers and adds nothing.
    """
    with transaction.atomic():
        seller = Seller.objects.filter(name=seller_name).first()
        if seller is None:
            seller = services.seller_create(name=seller_name, is_live=is_live, simulate_orders=simulate_orders)
        catalog = services.catalog_seed(count=items, seed=DEMO_CATALOG_SEED)
    return DemoSeed(
        seller_id=seller.pk,
        client_id=seller.client_id,
        client_secret=seller.client_secret,
        identifiers=[_identifier(item) for item in catalog],
    )


def _identifier(item: CatalogItem) -> dict:
    return {
        "productIdType": "UPC",
        "productId": item.upc,
        "gtin": item.gtin,
        "title": item.title,
        "price": str(item.price),
    }
