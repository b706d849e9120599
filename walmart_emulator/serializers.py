"""Emulator rows -> Walmart's JSON shapes (as in the 2024-12 OpenAPI specs and their examples)."""

from datetime import datetime
from decimal import Decimal

from walmart_emulator.clock import epoch_ms
from walmart_emulator.models import CatalogItem, Feed, FeedItemResult, Offer


def money(value: Decimal) -> float:
    return float(value)


def offer_json(offer: Offer) -> dict:
    item = offer.catalog_item
    data = {
        "mart": "WALMART_US",
        "sku": offer.sku,
        "condition": offer.condition,
        "wpid": offer.wpid,
        "upc": item.upc,
        "gtin": item.gtin,
        "productName": offer.product_name,
        "shelf": '["Home Page"]',
        "productType": item.product_type,
        "price": {"currency": offer.currency, "amount": money(offer.price)},
        "publishedStatus": offer.published_status,
        "lifecycleStatus": offer.lifecycle_status,
    }
    if offer.unpublished_reason:
        data["unpublishedReasons"] = {"reason": [offer.unpublished_reason]}
    return data


def catalog_item_json(item: CatalogItem) -> dict:
    return {
        "itemId": item.item_id,
        "isMarketPlaceItem": False,
        "images": [{"url": f"https://i5.walmartimages.com/asr/{item.item_id}.jpeg"}],
        "customerRating": "4.5",
        "price": {"amount": str(item.price), "currency": "USD"},
        "description": item.title,
        "title": item.title,
        "brand": item.brand,
        "productType": item.product_type,
        "properties": {"categories": [item.product_type], "next_day_eligible": False},
    }


def feed_summary_json(feed: Feed, status: str) -> dict:
    final = feed.is_final
    return {
        "feedId": feed.feed_id,
        "feedSource": "MARKETPLACE_PARTNER",
        "feedType": feed.feed_type,
        "partnerId": feed.seller.partner_id,
        "itemsReceived": feed.items_received,
        "itemsSucceeded": feed.items_succeeded if final else 0,
        "itemsFailed": feed.items_failed if final else 0,
        "itemsProcessing": 0 if final else feed.items_received,
        "feedStatus": status,
        "feedDate": epoch_ms(feed.received_at),
        "modifiedDtm": epoch_ms(feed.processed_at or feed.received_at),
    }


def feed_item_json(result: FeedItemResult) -> dict:
    data = {
        "martId": 0,
        "sku": result.sku,
        "wpid": result.wpid,
        "index": result.index,
        "ingestionStatus": result.status,
    }
    data["ingestionErrors"] = {"ingestionError": result.errors}
    return data


def feed_detail_json(feed: Feed, status: str, results: list[FeedItemResult], offset: int, limit: int) -> dict:
    final = feed.is_final
    return {
        "feedId": feed.feed_id,
        "feedStatus": status,
        "ingestionErrors": {"ingestionError": feed.ingestion_errors},
        "itemsReceived": feed.items_received,
        "itemsSucceeded": feed.items_succeeded if final else 0,
        "itemsFailed": feed.items_failed if final else 0,
        "itemsProcessing": 0 if final else feed.items_received,
        "offset": offset,
        "limit": limit,
        "itemDetails": {"itemIngestionStatus": [feed_item_json(result) for result in results]},
    }


def quantity_json(amount: int) -> dict:
    return {"unit": "EACH", "amount": amount}


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
