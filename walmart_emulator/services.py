"""Writes of the emulator: sellers, tokens, catalog, offers, single inventory and price updates.

Feeds, orders, returns and webhooks have their own modules (feeds.py, orders.py, returns.py,
webhooks.py); the names most tests need are re-exported at the bottom of this module.
"""

import random
import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError, not_found
from walmart_emulator.identifiers import upc_generate
from walmart_emulator.models import AccessToken, CatalogItem, Offer, Seller

TOKEN_LIFETIME_SECONDS = 900
PRODUCT_WORDS = (
    "Stainless Steel Water Bottle",
    "Cotton Bath Towel",
    "LED Desk Lamp",
    "Ceramic Coffee Mug",
    "Wireless Mouse",
    "Yoga Mat",
    "Cast Iron Skillet",
    "Bluetooth Speaker",
    "Garden Hose",
    "Kids Backpack",
    "Throw Pillow",
    "Electric Kettle",
    "Camping Lantern",
    "Phone Charger",
    "Bamboo Cutting Board",
    "Running Socks",
)
BRANDS = ("Acme", "Northwind", "Contoso", "Fabrikam", "Globex", "Initech")


def seller_create(
    *,
    name: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    is_live: bool = True,
    simulate_orders: bool = False,
) -> Seller:
    """Create a seller account with fresh API keys (or the given ones). Raises IntegrityError on a taken name/id."""
    return Seller.objects.create(
        name=name,
        partner_id=str(10_000_000 + secrets.randbelow(89_999_999)),
        client_id=client_id or secrets.token_hex(16),
        client_secret=client_secret or secrets.token_urlsafe(48),
        is_live=is_live,
        simulate_orders=simulate_orders,
        ship_node=str(100_000_000 + secrets.randbelow(899_999_999)),
    )


def token_issue(*, client_id: str, client_secret: str) -> AccessToken:
    """A 900-second access token for the seller with these keys. Raises EmulatorError(401) on wrong keys."""
    seller = Seller.objects.filter(client_id=client_id).first()
    if seller is None or not secrets.compare_digest(seller.client_secret, client_secret):
        from walmart_emulator.errors import unauthorized

        raise unauthorized("Invalid client id or client secret.")
    now = emulator_now()
    return AccessToken.objects.create(
        seller=seller,
        token="eyJ" + secrets.token_urlsafe(48),
        issued_at=now,
        expires_at=now + timedelta(seconds=TOKEN_LIFETIME_SECONDS),
    )


def catalog_seed(*, count: int, seed: int | None = None, start_index: int = 0) -> list[CatalogItem]:
    """Add `count` catalog items with valid UPCs (GTIN-14 = "00" + UPC). Safe to re-run with the same
    `seed` (identifiers already in the catalog are skipped, so the same items come back)."""
    rng = random.Random(seed)  # noqa: S311 - test data
    candidates: dict[str, CatalogItem] = {}
    while len(candidates) < count:
        upc = upc_generate(rng)
        index = start_index + len(candidates)
        name = f"{rng.choice(BRANDS)} {rng.choice(PRODUCT_WORDS)} #{index + 1}"
        candidates.setdefault(
            upc,
            CatalogItem(
                item_id=str(100_000_000 + rng.randint(0, 899_999_999)),
                gtin="00" + upc,
                upc=upc,
                title=name,
                brand=name.split()[0],
                product_type="General Merchandise",
                price=Decimal(rng.randint(399, 9999)) / 100,
            ),
        )
    existing = set(
        CatalogItem.objects.filter(gtin__in=[item.gtin for item in candidates.values()]).values_list("gtin", flat=True)
    )
    CatalogItem.objects.bulk_create(
        [item for item in candidates.values() if item.gtin not in existing], ignore_conflicts=True, batch_size=500
    )
    return list(CatalogItem.objects.filter(gtin__in=[item.gtin for item in candidates.values()]).order_by("pk"))


def catalog_item_create(
    *, gtin: str, title: str, price: Decimal = Decimal("9.99"), item_id: str | None = None
) -> CatalogItem:
    """One catalog item with a given GTIN-14 (tests). Raises IntegrityError when the GTIN exists."""
    return CatalogItem.objects.create(
        item_id=item_id or str(100_000_000 + secrets.randbelow(899_999_999)),
        gtin=gtin.zfill(14),
        upc=gtin.zfill(14)[2:] if gtin.zfill(14).startswith("00") else "",
        title=title,
        brand=title.split()[0],
        product_type="General Merchandise",
        price=price,
    )


def wpid_generate() -> str:
    """A Walmart product id: 12 upper-case hex characters."""
    return secrets.token_hex(6).upper()


def offer_create(
    *,
    seller: Seller,
    sku: str,
    catalog_item: CatalogItem,
    price: Decimal,
    quantity: int = 0,
    published_status: str | None = None,
) -> Offer:
    """An offer set up directly (tests, demo); feeds use the same rules in bulk. Staged when not live."""
    now = emulator_now()
    status = published_status or (Offer.PublishedStatus.PUBLISHED if seller.is_live else Offer.PublishedStatus.STAGE)
    return Offer.objects.create(
        seller=seller,
        sku=sku,
        catalog_item=catalog_item,
        wpid=wpid_generate(),
        product_name=catalog_item.title,
        price=price,
        quantity=quantity,
        published_status=status,
        created_at=now,
        updated_at=now,
        unpublished_reason="" if status == Offer.PublishedStatus.PUBLISHED else _unpublished_reason(status),
    )


def _unpublished_reason(status: str) -> str:
    if status == Offer.PublishedStatus.STAGE:
        return "Seller is not live yet: the offer is staged."
    return "The item is not published."


def offer_get(*, seller: Seller, sku: str) -> Offer:
    offer = Offer.objects.filter(seller=seller, sku=sku).select_related("catalog_item").first()
    if offer is None:
        raise not_found(f"SKU '{sku}' was not found.", field="sku", api="GMP_ITEM_INGESTOR_API")
    return offer


def offer_retire(*, seller: Seller, sku: str) -> Offer:
    """Retire (unpublish and deactivate) an offer; a published one emits OFFER_UNPUBLISHED. Raises
    EmulatorError(404) for an unknown SKU. Safe to re-run."""
    from walmart_emulator.item_events import offer_unpublished_payload

    with transaction.atomic():
        offer = offer_get(seller=seller, sku=sku)
        was_published = offer.published_status == Offer.PublishedStatus.PUBLISHED
        offer.lifecycle_status = Offer.LifecycleStatus.RETIRED
        offer.published_status = Offer.PublishedStatus.UNPUBLISHED
        offer.unpublished_reason = "Retired by the seller."
        offer.updated_at = emulator_now()
        offer.save(update_fields=["lifecycle_status", "published_status", "unpublished_reason", "updated_at"])
        if was_published:
            webhook_event_emit(seller=seller, event_type="OFFER_UNPUBLISHED", payload=offer_unpublished_payload(offer))
    return offer


def inventory_update(*, seller: Seller, sku: str, quantity) -> Offer:
    """Set an offer's inputQty (PUT /v3/inventory, PUT /v3/inventories/{sku}); reservedQty is unchanged
    (walmart_emulator.inventory). Raises EmulatorError (400 bad amount, 404 unknown SKU)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int | float) or quantity != int(quantity) or quantity < 0:
        raise EmulatorError(
            "quantity.amount must be a whole number >= 0.",
            field="quantity.amount",
            code="INVALID_REQUEST_CONTENT.GMP_INVENTORY_API",
        )
    offer = offer_get(seller=seller, sku=sku)
    Offer.objects.filter(pk=offer.pk).update(quantity=int(quantity), updated_at=emulator_now())
    offer.quantity = int(quantity)
    return offer


def price_amount_parse(value, *, field: str, api: str = "GMP_PRICE_API") -> Decimal:
    """A price amount: a positive number with at most two decimals. Raises EmulatorError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EmulatorError(f"{field} must be a number.", field=field, code=f"INVALID_REQUEST_CONTENT.{api}")
    try:
        amount = Decimal(str(value))
    except ArithmeticError as error:
        raise EmulatorError(f"{field} must be a number.", field=field, code=f"INVALID_REQUEST_CONTENT.{api}") from error
    if not amount.is_finite() or amount <= 0:
        raise EmulatorError(f"{field} must be greater than 0.", field=field, code=f"INVALID_REQUEST_CONTENT.{api}")
    if amount != amount.quantize(Decimal("0.01")):
        raise EmulatorError(
            f"{field} '{value}' has more than two decimal places.", field=field, code=f"INVALID_REQUEST_CONTENT.{api}"
        )
    return amount


def price_update(*, seller: Seller, body: dict) -> Offer:
    """Apply a PUT /v3/price body (BASE price). Raises EmulatorError (400 bad body/amount, 404 unknown SKU)."""
    sku = body.get("sku")
    pricing = body.get("pricing")
    if not isinstance(sku, str) or not sku:
        raise EmulatorError("sku is required.", field="sku", code="INVALID_REQUEST_CONTENT.GMP_PRICE_API")
    if not isinstance(pricing, list) or not pricing or not isinstance(pricing[0], dict):
        raise EmulatorError(
            "pricing must be a non-empty list.", field="pricing", code="INVALID_REQUEST_CONTENT.GMP_PRICE_API"
        )
    entry = pricing[0]
    if entry.get("currentPriceType", "BASE") not in ("BASE", "REDUCED", "CLEARANCE"):
        raise EmulatorError(
            "currentPriceType is not supported.", field="currentPriceType", code="INVALID_REQUEST_CONTENT.GMP_PRICE_API"
        )
    current = entry.get("currentPrice") or {}
    if current.get("currency", "USD") != "USD":
        raise EmulatorError(
            "currency must be USD.", field="currentPrice.currency", code="INVALID_REQUEST_CONTENT.GMP_PRICE_API"
        )
    amount = price_amount_parse(current.get("amount"), field="currentPrice.amount")
    with transaction.atomic():
        offer = offer_get(seller=seller, sku=sku)
        Offer.objects.filter(pk=offer.pk).update(price=amount, updated_at=emulator_now())
    offer.price = amount
    return offer


def emulator_sweep(*, now=None) -> dict[str, int]:
    """Apply every time-driven change that is due on the emulator clock. Safe to re-run."""
    from walmart_emulator.feeds import feeds_process_all_due
    from walmart_emulator.reports import reports_process_all_due

    now = now or emulator_now()
    expired_tokens, _ = AccessToken.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return {
        "tokens_purged": expired_tokens,
        "feeds_processed": feeds_process_all_due(now=now),
        "reports_made": reports_process_all_due(now=now),
        "status_rows_delivered": orders_deliver_due(now=now),
        "orders_auto_cancelled": orders_auto_cancel_due(now=now),
        "returns_auto_refunded": returns_auto_refund_due(now=now),
    }


def order_trickle() -> int:
    """One simulated customer order for each seller with `simulate_orders` (the demo). Returns orders placed."""
    from walmart_emulator.orders import OrderSimulationError

    placed = 0
    for seller in Seller.objects.filter(simulate_orders=True):
        try:
            order_simulate(seller=seller)
        except OrderSimulationError:
            continue
        placed += 1
    return placed


# Re-exports: the functions tests and the demo use, in one place.
from walmart_emulator.clock import clock_advance, clock_reset  # noqa: E402, F401
from walmart_emulator.faults import fault_clear, fault_set  # noqa: E402, F401
from walmart_emulator.orders import (  # noqa: E402, F401
    order_intent_to_cancel,
    order_simulate,
    orders_auto_cancel_due,
    orders_deliver_due,
    orders_simulate,
)
from walmart_emulator.ratelimits import rate_limit_reset  # noqa: E402, F401
from walmart_emulator.returns import return_simulate, returns_auto_refund_due  # noqa: E402, F401
from walmart_emulator.webhooks import webhook_event_emit  # noqa: E402
