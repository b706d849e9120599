"""Walmart's webhook deliveries, typed: the envelope, and the item, offer, price and report events.

Envelope `{"source": {"eventType", "eventTime", "eventId"}, "payload": {...}}` (NOTES §12). Payloads, from
developer.walmart.com us-marketplace/docs: offer-published-event, offer-unpublished-event,
buy-box-changed-event, report-status-notification. Order events keep their payload as `raw_payload` (the
order desk reads the order back through the API: an event is a hint). Subscribe with
`client.notifications.create_subscription(events=[build_event(event_type=..., resource_name=...)])` using the
(resource, event type) pairs in `ITEM_EVENT_TYPES` / `REPORT_EVENT_TYPES`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from walmart_client.models import from_epoch_ms, to_decimal, to_int

ITEM_EVENT_TYPES: tuple[tuple[str, str], ...] = (
    ("ITEM", "OFFER_PUBLISHED"),
    ("ITEM", "OFFER_UNPUBLISHED"),
    ("PRICE", "BUY_BOX_CHANGED"),
)
REPORT_EVENT_TYPES: tuple[tuple[str, str], ...] = (("REPORTS", "REPORT_STATUS"),)


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None or value == "" else str(value)


def _time(value: Any) -> datetime | None:
    try:
        return from_epoch_ms(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class OfferPublished:
    partner_id: str | None
    sku: str
    item_id: str | None
    published_status: str | None
    lifecycle_status: str | None
    item_name: str | None
    category: str | None
    price: Decimal | None
    shipping_price: Decimal | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OfferPublished:
        return cls(
            partner_id=_text(data, "partnerId"),
            sku=str(data["sku"]),
            item_id=_text(data, "itemId"),
            published_status=_text(data, "publishStatus"),
            lifecycle_status=_text(data, "lifecycleStatus"),
            item_name=_text(data, "itemName"),
            category=_text(data, "category"),
            price=to_decimal(data.get("sellerOfferPrice")),
            shipping_price=to_decimal(data.get("sellerShippingPrice")),
        )


@dataclass(frozen=True, slots=True)
class OfferUnpublished:
    partner_id: str | None
    sku: str
    published_status: str | None
    lifecycle_status: str | None
    reasons: Mapping[str, str]
    item_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OfferUnpublished:
        reasons = data.get("statusChangeReasons")
        return cls(
            partner_id=_text(data, "partnerId"),
            sku=str(data["sku"]),
            published_status=_text(data, "publishStatus"),
            lifecycle_status=_text(data, "lifecycleStatus"),
            reasons={str(k): str(v) for k, v in reasons.items()} if isinstance(reasons, Mapping) else {},
            item_id=_text(data, "itemId"),
        )


@dataclass(frozen=True, slots=True)
class BuyBoxOffer:
    seller_name: str | None
    price: Decimal | None
    shipping_price: Decimal | None
    shipping_speed: str | None
    is_wfs: bool | None

    @classmethod
    def from_api(cls, data: Any) -> BuyBoxOffer | None:
        if not isinstance(data, Mapping):
            return None
        wfs = data.get("isWFS")
        return cls(
            seller_name=_text(data, "sellerName"),
            price=to_decimal(data.get("sellerOfferPrice")),
            shipping_price=to_decimal(data.get("sellerShippingPrice")),
            shipping_speed=_text(data, "sellerShippingSpeed"),
            is_wfs=wfs if isinstance(wfs, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class BuyBoxChanged:
    partner_id: str | None
    sku: str
    item_id: str | None
    item_name: str | None
    total_offers: int | None
    current_offer: BuyBoxOffer | None
    winning_offer: BuyBoxOffer | None
    price_difference: Decimal | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BuyBoxChanged:
        item = data.get("itemInfo") or {}
        offer = data.get("offer") or {}
        total = item.get("totalNumberOfOffers", item.get("totalNumberOffers"))
        return cls(
            partner_id=_text(data, "partnerId"),
            sku=str(item["sku"]),
            item_id=_text(item, "itemId"),
            item_name=_text(item, "itemName"),
            total_offers=to_int(total) if total is not None else None,
            current_offer=BuyBoxOffer.from_api(offer.get("currentOffer")),
            winning_offer=BuyBoxOffer.from_api(offer.get("winningOffer")),
            price_difference=to_decimal(data.get("priceDifference")),
        )

    @property
    def seller_wins(self) -> bool | None:
        """Whether the seller's own offer holds the buy box (same seller name and price), when both are given."""
        if self.current_offer is None or self.winning_offer is None:
            return None
        return self.current_offer == self.winning_offer


@dataclass(frozen=True, slots=True)
class ReportStatus:
    partner_id: str | None
    request_id: str
    status: str | None
    report_type: str | None
    report_version: str | None
    submitted_at: datetime | None
    generated_at: datetime | None
    error_description: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ReportStatus:
        return cls(
            partner_id=_text(data, "partnerId"),
            request_id=str(data["requestId"]),
            status=_text(data, "requestStatus"),
            report_type=_text(data, "reportType"),
            report_version=_text(data, "reportVersion"),
            submitted_at=_time(data.get("requestSubmissionDate")),
            generated_at=_time(data.get("reportGenerationDate")),
            error_description=_text(data, "errorDescription"),
        )


EventPayload = OfferPublished | OfferUnpublished | BuyBoxChanged | ReportStatus
_PAYLOADS: dict[str, type[OfferPublished] | type[OfferUnpublished] | type[BuyBoxChanged] | type[ReportStatus]] = {
    "OFFER_PUBLISHED": OfferPublished,
    "OFFER_UNPUBLISHED": OfferUnpublished,
    "BUY_BOX_CHANGED": BuyBoxChanged,
    "REPORT_STATUS": ReportStatus,
}


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One delivery: `payload` is typed for the event types above, None for others (orders...)."""

    event_type: str
    event_id: str | None
    event_time: datetime | None
    payload: EventPayload | None
    raw_payload: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def parse_event(body: bytes | str | Mapping[str, Any]) -> WebhookEvent:
    """A delivery's body as a typed event. Raises ValueError when it is not Walmart's envelope or a known
    event's payload lacks its key field (sku / requestId)."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body, parse_float=Decimal)
        except ValueError as error:
            raise ValueError("the event body is not JSON") from error
    if not isinstance(data, Mapping) or not isinstance(data.get("source"), Mapping):
        raise ValueError("the event body has no source object")
    source = data["source"]
    event_type = _text(source, "eventType")
    if event_type is None:
        raise ValueError("the event has no eventType")
    payload = data.get("payload")
    payload = payload if isinstance(payload, Mapping) else {}
    parser = _PAYLOADS.get(event_type)
    try:
        typed = parser.from_api(payload) if parser is not None else None
    except (KeyError, TypeError, ArithmeticError) as error:
        raise ValueError(f"the {event_type} event payload is incomplete: {error}") from error
    return WebhookEvent(
        event_type=event_type,
        event_id=_text(source, "eventId"),
        event_time=_time(source.get("eventTime")),
        payload=typed,
        raw_payload=dict(payload),
    )
