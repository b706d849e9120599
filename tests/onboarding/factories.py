"""Walmart items as an import leaves them, for the onboarding tests."""

from decimal import Decimal

from django.utils import timezone

from onboarding.models import WalmartItem
from onboarding.services import item_gtin


def walmart_item(store, sku, *, gtin="", upc="", quantity=7, price="12.00", **fields) -> WalmartItem:
    """An imported item, published and active; `gtin` / `upc` as Walmart gives them (checked as the import does)."""
    code, note = item_gtin(gtin=gtin, upc=upc)
    values = {
        "gtin": code,
        "identifier_note": note,
        "quantity": quantity,
        "price": Decimal(price),
        "published_status": "PUBLISHED",
        "lifecycle_status": "ACTIVE",
        "product_name": f"Item {sku}",
        "imported_at": timezone.now(),
    }
    return WalmartItem.objects.create(store=store, sku=sku, **{**values, **fields})
