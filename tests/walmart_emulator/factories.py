"""Builders for emulator test data (plain functions over the emulator's services)."""

from decimal import Decimal

from walmart_emulator import services
from walmart_emulator.identifiers import gtin_check_digit
from walmart_emulator.models import CatalogItem, Offer, Seller


def upc_with_check(body11: str) -> str:
    return body11 + gtin_check_digit(body11)


def catalog_item(index: int = 1, *, price: str = "19.99") -> CatalogItem:
    upc = upc_with_check(f"0{index:010d}")
    return services.catalog_item_create(gtin="00" + upc, title=f"Catalog thing {index}", price=Decimal(price))


def published_offer(seller: Seller, sku: str, *, index: int = 1, quantity: int = 10, price: str = "19.99") -> Offer:
    return services.offer_create(
        seller=seller,
        sku=sku,
        catalog_item=catalog_item(index, price=price),
        price=Decimal(price),
        quantity=quantity,
        published_status=Offer.PublishedStatus.PUBLISHED,
    )


def match_payload(*items: dict, version: str = "4.2") -> dict:
    return {
        "MPItemFeedHeader": {
            "processMode": "REPLACE",
            "subset": "EXTERNAL",
            "locale": "en",
            "sellingChannel": "mpsetupbymatch",
            "version": version,
        },
        "MPItem": [{"Item": item} for item in items],
    }


def match_item(sku: str, product_id: str, *, id_type: str = "UPC", price=9.99, weight=1.5) -> dict:
    return {
        "sku": sku,
        "price": price,
        "ShippingWeight": weight,
        "productIdentifiers": {"productIdType": id_type, "productId": product_id},
    }
