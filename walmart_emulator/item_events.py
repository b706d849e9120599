"""Item and offer events: OFFER_PUBLISHED, OFFER_UNPUBLISHED (resource ITEM) and BUY_BOX_CHANGED (PRICE).

Payloads follow developer.walmart.com us-marketplace/docs offer-published-event, offer-unpublished-event and
buy-box-changed-event:
- OFFER_PUBLISHED: partnerId, itemId, sku, publishStatus, lifecycleStatus, itemName, category,
  totalNumberOfOffers, sellerOfferPrice, sellerShippingPrice;
- OFFER_UNPUBLISHED: partnerId, sku, publishStatus, lifecycleStatus, statusChangeReasons (a map: the emulator
  keys each reason by its upper-case code), plus itemId, itemName, category only when the reason is
  REASONABLE_PRICE_NOT_SATISFIED;
- BUY_BOX_CHANGED: partnerId, itemInfo {itemId, itemName, category, productType, brand, sku, totalNumberOfOffers},
  offer {currentOffer, winningOffer: {sellerName, sellerOfferPrice, sellerShippingSpeed, sellerShippingPrice,
  proSellerBadge, isWFS}}, priceDifference.

Walmart-side changes that emit them: `offer_unpublish` / `offer_publish` (Walmart's own decisions, e.g. a price
outside its reasonable range) and `buy_box_change` (a competitor moved). The match feed and retire emit them
for the changes they make.
"""

import re
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError
from walmart_emulator.models import Offer, Seller, WebhookSubscription
from walmart_emulator.webhooks import webhook_event_emit, webhook_events_emit

PRICE_REASON = "REASONABLE_PRICE_NOT_SATISFIED"


def _refused(description: str) -> EmulatorError:
    return EmulatorError(description, field="sku", code="INVALID_REQUEST_CONTENT.GMP_ITEM_API")


def reason_code(text: str) -> str:
    """An unpublished reason's code: its words in upper case joined by underscores."""
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_") or "UNKNOWN"


def offer_published_payload(offer: Offer) -> dict:
    item = offer.catalog_item
    return {
        "partnerId": offer.seller.partner_id,
        "itemId": item.item_id,
        "sku": offer.sku,
        "publishStatus": offer.published_status,
        "lifecycleStatus": offer.lifecycle_status,
        "itemName": offer.product_name,
        "category": item.product_type,
        "totalNumberOfOffers": 1,
        "sellerOfferPrice": float(offer.price),
        "sellerShippingPrice": 0.0,
    }


def offer_unpublished_payload(offer: Offer) -> dict:
    reason = offer.unpublished_reason or "Unpublished"
    payload = {
        "partnerId": offer.seller.partner_id,
        "sku": offer.sku,
        "publishStatus": offer.published_status,
        "lifecycleStatus": offer.lifecycle_status,
        "statusChangeReasons": {reason_code(reason): reason},
    }
    if reason_code(reason) == PRICE_REASON:
        payload.update(
            {
                "itemId": offer.catalog_item.item_id,
                "itemName": offer.product_name,
                "category": offer.catalog_item.product_type,
            }
        )
    return payload


def offers_published_emit(*, seller: Seller, skus: Iterable[str]) -> int:
    """OFFER_PUBLISHED for the seller's offers that just became PUBLISHED (a match feed's). Reads the offers
    only when someone subscribed. Returns the deliveries recorded."""
    skus = list(skus)
    subscribed = WebhookSubscription.objects.filter(seller=seller, status="ACTIVE", event_type="OFFER_PUBLISHED")
    if not skus or not subscribed.exists():
        return 0
    payloads = []
    for start in range(0, len(skus), 2000):
        offers = Offer.objects.filter(seller=seller, sku__in=skus[start : start + 2000]).select_related(
            "catalog_item", "seller"
        )
        payloads += [offer_published_payload(offer) for offer in offers.order_by("pk")]
    return len(webhook_events_emit(seller=seller, event_type="OFFER_PUBLISHED", payloads=payloads))


def _offer_locked(seller: Seller, sku: str) -> Offer:
    from walmart_emulator.services import offer_get

    offer_get(seller=seller, sku=sku)  # 404 in Walmart's shape
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("catalog_item", "seller")
        .get(seller=seller, sku=sku)
    )


def offer_unpublish(*, seller: Seller, sku: str, reason: str = "Reasonable Price Not Satisfied") -> Offer:
    """Walmart unpublishes a published offer (its own decision). Emits OFFER_UNPUBLISHED. Raises EmulatorError
    (404 unknown SKU, 400 when the offer is not published)."""
    with transaction.atomic():
        offer = _offer_locked(seller, sku)
        if offer.published_status != Offer.PublishedStatus.PUBLISHED:
            raise _refused(f"SKU '{sku}' is not published.")
        offer.published_status = Offer.PublishedStatus.UNPUBLISHED
        offer.unpublished_reason = reason
        offer.updated_at = emulator_now()
        offer.save(update_fields=["published_status", "unpublished_reason", "updated_at"])
        webhook_event_emit(seller=seller, event_type="OFFER_UNPUBLISHED", payload=offer_unpublished_payload(offer))
    return offer


def offer_publish(*, seller: Seller, sku: str) -> Offer:
    """Walmart publishes an active offer again. Emits OFFER_PUBLISHED. Raises EmulatorError (404; 400 when it is
    already published or retired)."""
    with transaction.atomic():
        offer = _offer_locked(seller, sku)
        if (
            offer.published_status == Offer.PublishedStatus.PUBLISHED
            or offer.lifecycle_status != Offer.LifecycleStatus.ACTIVE
        ):
            raise _refused(f"SKU '{sku}' is already published or not active.")
        offer.published_status = Offer.PublishedStatus.PUBLISHED
        offer.unpublished_reason = ""
        offer.updated_at = emulator_now()
        offer.save(update_fields=["published_status", "unpublished_reason", "updated_at"])
        webhook_event_emit(seller=seller, event_type="OFFER_PUBLISHED", payload=offer_published_payload(offer))
    return offer


def _offer_json(name: str, price: Decimal, shipping: Decimal) -> dict:
    return {
        "sellerName": name,
        "sellerOfferPrice": float(price),
        "sellerShippingSpeed": "STANDARD",
        "sellerShippingPrice": float(shipping),
        "proSellerBadge": False,
        "isWFS": False,
    }


def buy_box_change(
    *,
    seller: Seller,
    sku: str,
    winning_price: Decimal,
    seller_wins: bool = False,
    competitor: str = "Other Marketplace Seller",
    total_offers: int = 3,
) -> dict:
    """A competitor moved on one of the seller's published items: emits BUY_BOX_CHANGED and returns its payload.
    Raises EmulatorError (404 unknown SKU, 400 not published or a price that is not positive)."""
    from walmart_emulator.services import offer_get, price_amount_parse

    offer = offer_get(seller=seller, sku=sku)
    if offer.published_status != Offer.PublishedStatus.PUBLISHED:
        raise _refused(f"SKU '{sku}' is not published.")
    price = price_amount_parse(str(winning_price), field="winning_price")
    current = _offer_json(seller.name, offer.price, Decimal("0"))
    item = offer.catalog_item
    payload = {
        "partnerId": seller.partner_id,
        "itemInfo": {
            "itemId": item.item_id,
            "itemName": offer.product_name,
            "category": item.product_type,
            "productType": item.product_type,
            "brand": item.brand,
            "sku": offer.sku,
            "totalNumberOfOffers": total_offers,
        },
        "offer": {
            "currentOffer": current,
            "winningOffer": current if seller_wins else _offer_json(competitor, price, Decimal("0")),
        },
        "priceDifference": float((offer.price - price) if not seller_wins else Decimal("0")),
    }
    webhook_event_emit(seller=seller, event_type="BUY_BOX_CHANGED", payload=payload)
    return payload
