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

from walmart_client.models import (
    LineStatus,
    PostalAddress,
    ShippingInfo,
    WalmartOrder,
    WalmartOrderLine,
    from_epoch_ms,
    to_decimal,
    to_int,
)

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


@dataclass(frozen=True, slots=True)
class PoCreatedLine:
    line_number: str
    sku: str
    product_name: str
    quantity: int
    unit_of_measure: str | None


@dataclass(frozen=True, slots=True)
class PoCreated:
    """The PO_CREATED payload (developer.walmart.com us-marketplace/docs/purchase-order-po-created-event; NOTES
    §12): the purchase order's ids, dates and lines (SKU, name, quantity), and no charges, address or line
    statuses. Also ORDER_UPDATES with `subEventType` PO_CREATED (`po_created_from_envelope`)."""

    partner_id: str | None
    purchase_order_id: str
    customer_order_id: str | None
    order_date: datetime | None
    estimated_delivery_date: datetime | None
    estimated_ship_date: datetime | None
    lines: tuple[PoCreatedLine, ...]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PoCreated:
        """Raises ValueError naming what is missing or malformed (no purchase order id, no lines, a line without
        its number, SKU or a positive whole quantity, a date that is not one)."""
        purchase_order_id = _text(data, "purchaseOrderId")
        if purchase_order_id is None:
            raise ValueError("the PO_CREATED payload has no purchaseOrderId")
        raw_lines = data.get("orderLines")
        if not isinstance(raw_lines, list) or not raw_lines:
            raise ValueError("the PO_CREATED payload has no orderLines")
        lines = []
        for raw in raw_lines:
            if not isinstance(raw, Mapping):
                raise ValueError("an orderLines entry is not an object")
            quantity = raw.get("quantity")
            amount = quantity.get("measurementValue") if isinstance(quantity, Mapping) else None
            line_number, sku = _text(raw, "lineNumber"), _text(raw, "sku")
            if line_number is None or sku is None:
                raise ValueError("an order line has no lineNumber or sku")
            try:
                units = to_int(amount)
            except (TypeError, ValueError, ArithmeticError) as error:
                raise ValueError(f"line {line_number}: quantity.measurementValue is not a number") from error
            if units < 1 or Decimal(str(amount)) != units:
                raise ValueError(f"line {line_number}: quantity.measurementValue must be a positive whole number")
            unit = quantity.get("unitOfMeasure") if isinstance(quantity, Mapping) else None
            lines.append(PoCreatedLine(line_number, sku, _text(raw, "productName") or "", units, unit))
        if len({line.line_number for line in lines}) != len(lines):
            raise ValueError("the PO_CREATED payload repeats a lineNumber")
        try:
            dates = [
                from_epoch_ms(data.get(name)) for name in ("orderDate", "estimatedDeliveryDate", "estimatedShipDate")
            ]
        except (TypeError, ValueError) as error:
            raise ValueError(f"the PO_CREATED payload has a malformed date: {error}") from error
        return cls(
            partner_id=_text(data, "partnerId"),
            purchase_order_id=purchase_order_id,
            customer_order_id=_text(data, "customerOrderId"),
            order_date=dates[0],
            estimated_delivery_date=dates[1],
            estimated_ship_date=dates[2],
            lines=tuple(lines),
        )

    def as_order(self) -> WalmartOrder:
        """The purchase order as far as the payload tells it, in the shape of an order read from the API: every
        unit Created (a new order's status), no charges, no address or customer (empty), no status dates. Only
        for an order not stored yet: Walmart's own copy replaces it when read."""
        return WalmartOrder(
            purchase_order_id=self.purchase_order_id,
            customer_order_id=self.customer_order_id or "",
            customer_email_id=None,
            order_date=self.order_date,
            shipping_info=ShippingInfo(
                phone=None,
                estimated_delivery_date=self.estimated_delivery_date,
                estimated_ship_date=self.estimated_ship_date,
                method_code=None,
                postal_address=PostalAddress.from_api({}),
            ),
            lines=[
                WalmartOrderLine(
                    line_number=line.line_number,
                    sku=line.sku,
                    product_name=line.product_name,
                    quantity=line.quantity,
                    charges=[],
                    statuses=[LineStatus(status="Created", quantity=line.quantity)],
                    unit_of_measurement=line.unit_of_measure,
                )
                for line in self.lines
            ],
        )


def po_created_from_envelope(envelope: Mapping[str, Any]) -> PoCreated | None:
    """The PO_CREATED payload of a delivery (`source.eventType` PO_CREATED, or ORDER_UPDATES whose
    `payload.subEventType` is PO_CREATED); None for any other event. Raises ValueError when it is one and its
    payload is incomplete (`PoCreated.from_api`)."""
    source = envelope.get("source")
    payload = envelope.get("payload")
    if not isinstance(source, Mapping) or not isinstance(payload, Mapping):
        return None
    event_type = _text(source, "eventType")
    if event_type == "ORDER_UPDATES":
        event_type = _text(payload, "subEventType")
    if event_type != "PO_CREATED":
        return None
    return PoCreated.from_api(payload)


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
