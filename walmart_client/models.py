"""Typed results, parsed from Walmart's JSON with `from_api`.

Conventions: quantities are `int` (Walmart sends order quantities as strings), money is `Decimal`,
epoch-millisecond timestamps become timezone-aware UTC `datetime`s, and each object keeps the JSON it
came from in `raw` (excluded from repr and equality) for storage and debugging. Parsing is lenient about
fields Walmart leaves out, strict about the ones a result cannot exist without (a missing
`purchaseOrderId` raises KeyError).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from walmart_client.errors import WalmartErrorDetail, error_details_from_body

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_ZERO = Decimal(0)


def to_int(value: Any, default: int = 0) -> int:
    """Walmart's quantities ("2", 2, "2.0") as int; `default` for a missing one."""
    if type(value) is int:
        return value
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return int(Decimal(str(value)))


def to_decimal(value: Any) -> Decimal | None:
    """Money as Decimal (JSON numbers already arrive as Decimal from `decode_json`); floats via repr."""
    if type(value) is Decimal:
        return value
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value) if isinstance(value, int) else Decimal(str(value))


def from_epoch_ms(value: Any) -> datetime | None:
    """Epoch milliseconds (int or numeric string) -> aware UTC datetime; ISO strings are accepted too."""
    if type(value) is int:
        return _EPOCH + timedelta(milliseconds=value)
    if value is None or value == "":
        return None
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return _EPOCH + timedelta(milliseconds=int(value))


def to_epoch_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("datetimes sent to Walmart must be timezone-aware")
    return int((value - _EPOCH).total_seconds() * 1000)


def _list(value: Any, key: str | None = None) -> list[Any]:
    """Walmart's wrapped lists: `{"orderLine": [...]}`, a bare list, a single object, or nothing."""
    if value is None:
        return []
    if key is not None and isinstance(value, Mapping):
        value = value.get(key)
        if value is None:
            return []
    if isinstance(value, list):
        return value
    return [value]


# --------------------------------------------------------------------------------------------- auth


@dataclass(slots=True)
class TokenDetail:
    """`GET /v3/token/detail`: the API key's permission per API category."""

    scopes: dict[str, str]
    is_valid: bool
    is_channel_match: bool | None
    issued_at: datetime | None
    expire_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> TokenDetail:
        return cls(
            scopes={str(k): str(v) for k, v in (data.get("scopes") or {}).items()},
            is_valid=bool(data.get("is_valid")),
            is_channel_match=data.get("is_channel_match"),
            issued_at=from_epoch_ms(data.get("issued_at")),
            expire_at=from_epoch_ms(data.get("expire_at")),
            raw=dict(data),
        )


# ------------------------------------------------------------------------------------------- orders


@dataclass(slots=True)
class PostalAddress:
    name: str
    address1: str
    address2: str | None
    city: str
    state: str
    postal_code: str
    country: str
    address_type: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PostalAddress:
        get = data.get
        return cls(
            get("name") or "",
            get("address1") or "",
            get("address2"),
            get("city") or "",
            get("state") or "",
            get("postalCode") or "",
            get("country") or "",
            get("addressType"),
        )


@dataclass(slots=True)
class ShippingInfo:
    phone: str | None
    estimated_delivery_date: datetime | None
    estimated_ship_date: datetime | None
    method_code: str | None
    postal_address: PostalAddress

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ShippingInfo:
        return cls(
            phone=data.get("phone"),
            estimated_delivery_date=from_epoch_ms(data.get("estimatedDeliveryDate")),
            estimated_ship_date=from_epoch_ms(data.get("estimatedShipDate")),
            method_code=data.get("methodCode"),
            postal_address=PostalAddress.from_api(data.get("postalAddress") or {}),
        )


@dataclass(slots=True)
class Charge:
    """One charge of an order line (PRODUCT or SHIPPING) with its tax."""

    charge_type: str
    name: str
    amount: Decimal
    currency: str
    tax_amount: Decimal
    tax_name: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Charge:
        amount = data.get("chargeAmount") or _EMPTY
        tax = data.get("tax") or _EMPTY
        tax_amount = tax.get("taxAmount") or _EMPTY
        return cls(
            data.get("chargeType") or "",
            data.get("chargeName") or "",
            to_decimal(amount.get("amount")) or _ZERO,
            amount.get("currency") or tax_amount.get("currency") or "USD",
            to_decimal(tax_amount.get("amount")) or _ZERO,
            tax.get("taxName"),
        )


@dataclass(slots=True)
class TrackingInfo:
    ship_datetime: datetime | None
    carrier: str | None
    other_carrier: str | None
    method_code: str | None
    tracking_number: str | None
    tracking_url: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> TrackingInfo:
        carrier_name = data.get("carrierName") or {}
        return cls(
            ship_datetime=from_epoch_ms(data.get("shipDateTime")),
            carrier=carrier_name.get("carrier"),
            other_carrier=carrier_name.get("otherCarrier"),
            method_code=data.get("methodCode"),
            tracking_number=data.get("trackingNumber"),
            tracking_url=data.get("trackingURL"),
        )


@dataclass(slots=True)
class LineStatus:
    """One (status, quantity) slice of an order line: a line of 3 can be 1 Shipped + 2 Cancelled."""

    status: str
    quantity: int
    cancellation_reason: str | None = None
    tracking_info: TrackingInfo | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> LineStatus:
        tracking = data.get("trackingInfo")
        return cls(
            data.get("status") or "",
            to_int((data.get("statusQuantity") or _EMPTY).get("amount")),
            data.get("cancellationReason"),
            TrackingInfo.from_api(tracking) if tracking else None,
        )


@dataclass(slots=True)
class RefundCharge:
    reason: str
    charge: Charge

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RefundCharge:
        return cls(reason=data.get("refundReason") or "", charge=Charge.from_api(data.get("charge") or {}))


@dataclass(slots=True)
class OrderRefund:
    """Refunds already recorded on an order line."""

    refund_id: str | None
    comments: str | None
    charges: list[RefundCharge]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OrderRefund:
        return cls(
            refund_id=data.get("refundId"),
            comments=data.get("refundComments"),
            charges=[RefundCharge.from_api(c) for c in _list(data.get("refundCharges"), "refundCharge")],
        )

    @property
    def total(self) -> Decimal:
        return sum((c.charge.amount + c.charge.tax_amount for c in self.charges), Decimal(0))


@dataclass(slots=True)
class WalmartOrderLine:
    line_number: str
    sku: str
    product_name: str
    quantity: int
    charges: list[Charge]
    statuses: list[LineStatus]
    status_date: datetime | None = None
    condition: str | None = None
    unit_of_measurement: str | None = None
    refund: OrderRefund | None = None
    fulfillment_option: str | None = None
    ship_method: str | None = None
    intent_to_cancel: str | None = None
    seller_order_id: str | None = None
    return_order_id: str | None = None
    original_carrier_method: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> WalmartOrderLine:
        # Positional arguments in field order: this runs for every line of every order page (hot path).
        get = data.get
        item = get("item") or _EMPTY
        quantity = get("orderLineQuantity") or _EMPTY
        refund = get("refund")
        fulfillment = get("fulfillment") or _EMPTY
        return cls(
            str(data["lineNumber"]),  # line_number
            item.get("sku") or "",  # sku
            item.get("productName") or "",  # product_name
            to_int(quantity.get("amount")),  # quantity
            [Charge.from_api(c) for c in _list(get("charges"), "charge")],  # charges
            [LineStatus.from_api(s) for s in _list(get("orderLineStatuses"), "orderLineStatus")],  # statuses
            from_epoch_ms(get("statusDate")),  # status_date
            item.get("condition"),  # condition
            quantity.get("unitOfMeasurement"),  # unit_of_measurement
            OrderRefund.from_api(refund) if refund else None,  # refund
            fulfillment.get("fulfillmentOption"),  # fulfillment_option
            fulfillment.get("shipMethod"),  # ship_method
            get("intentToCancel"),  # intent_to_cancel
            get("sellerOrderId"),  # seller_order_id
            get("returnOrderId"),  # return_order_id
            get("originalCarrierMethod"),  # original_carrier_method
        )

    def quantity_in(self, status: str) -> int:
        """How many units of this line are in `status` (e.g. "Shipped")."""
        return sum(s.quantity for s in self.statuses if s.status == status)

    @property
    def quantity_by_status(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for s in self.statuses:
            result[s.status] = result.get(s.status, 0) + s.quantity
        return result

    @property
    def product_amount(self) -> Decimal:
        return sum((c.amount for c in self.charges if c.charge_type == "PRODUCT"), Decimal(0))

    @property
    def tax_amount(self) -> Decimal:
        return sum((c.tax_amount for c in self.charges), Decimal(0))


@dataclass(slots=True)
class ShipNode:
    type: str | None
    name: str | None
    id: str | None


@dataclass(slots=True)
class WalmartOrder:
    purchase_order_id: str
    customer_order_id: str
    customer_email_id: str | None
    order_date: datetime | None
    shipping_info: ShippingInfo
    lines: list[WalmartOrderLine]
    order_type: str | None = None
    original_customer_order_id: str | None = None
    ship_node: ShipNode | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> WalmartOrder:
        node = data.get("shipNode")
        return cls(
            purchase_order_id=str(data["purchaseOrderId"]),
            customer_order_id=str(data.get("customerOrderId") or ""),
            customer_email_id=data.get("customerEmailId"),
            order_date=from_epoch_ms(data.get("orderDate")),
            shipping_info=ShippingInfo.from_api(data.get("shippingInfo") or {}),
            lines=[WalmartOrderLine.from_api(line) for line in _list(data.get("orderLines"), "orderLine")],
            order_type=data.get("orderType"),
            original_customer_order_id=data.get("originalCustomerOrderID"),
            ship_node=ShipNode(type=node.get("type"), name=node.get("name"), id=node.get("id")) if node else None,
            raw=data if isinstance(data, dict) else dict(data),
        )

    def line(self, line_number: str | int) -> WalmartOrderLine:
        """The line with this number. Raises KeyError."""
        wanted = str(line_number)
        for line in self.lines:
            if line.line_number == wanted:
                return line
        raise KeyError(f"order {self.purchase_order_id} has no line {wanted}")


@dataclass(slots=True)
class OrdersPage:
    orders: list[WalmartOrder]
    total_count: int | None
    next_cursor: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> OrdersPage:
        if not data:
            return cls(orders=[], total_count=0, next_cursor=None)
        body = data.get("list") or data
        meta = body.get("meta") or {}
        orders = [WalmartOrder.from_api(o) for o in _list(body.get("elements"), "order")]
        return cls(orders=orders, total_count=meta.get("totalCount"), next_cursor=meta.get("nextCursor") or None)


# ------------------------------------------------------------------------------------------- returns


@dataclass(slots=True)
class ReturnTrackingStatus:
    status: str
    status_time: datetime | None
    current_refund_status: str | None
    quantity: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ReturnTrackingStatus:
        return cls(
            status=data.get("status") or "",
            status_time=from_epoch_ms(data.get("statusTime")),
            current_refund_status=data.get("currentRefundStatus"),
            quantity=to_int((data.get("quantity") or {}).get("measurementValue")),
        )


@dataclass(slots=True)
class ReturnCharge:
    charge_category: str | None
    charge_name: str | None
    amount: Decimal
    currency: str
    tax_amount: Decimal

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ReturnCharge:
        amount = data.get("chargePerUnit") or data.get("chargeAmount") or {}
        tax_total = Decimal(0)
        for tax in _list(data.get("tax")):
            tax_total += to_decimal((tax.get("taxPerUnit") or tax.get("taxAmount") or {}).get("currencyAmount")) or 0
        return cls(
            charge_category=data.get("chargeCategory"),
            charge_name=data.get("chargeName"),
            amount=to_decimal(amount.get("currencyAmount")) or Decimal(0),
            currency=amount.get("currencyUnit") or "USD",
            tax_amount=tax_total,
        )


@dataclass(slots=True)
class ReturnLine:
    return_order_line_number: int
    sku: str
    product_name: str | None
    quantity: int
    return_reason: str | None
    purchase_order_id: str | None
    purchase_order_line_number: int | None
    sales_order_line_number: int | None
    seller_order_id: str | None
    is_keep_it: bool | None
    refunded_qty: int
    refund_channel: str | None
    charges: list[ReturnCharge]
    tracking_statuses: list[ReturnTrackingStatus]
    current_refund_status: str | None = None
    current_delivery_status: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ReturnLine:
        item = data.get("item") or {}
        po_line = data.get("purchaseOrderLineNumber")
        so_line = data.get("salesOrderLineNumber")
        return cls(
            return_order_line_number=to_int(data.get("returnOrderLineNumber")),
            sku=item.get("sku") or "",
            product_name=item.get("productName"),
            quantity=to_int((data.get("quantity") or {}).get("measurementValue")),
            return_reason=data.get("returnReason"),
            purchase_order_id=data.get("purchaseOrderId"),
            purchase_order_line_number=to_int(po_line) if po_line is not None else None,
            sales_order_line_number=to_int(so_line) if so_line is not None else None,
            seller_order_id=data.get("sellerOrderId"),
            is_keep_it=data.get("isKeepIt"),
            refunded_qty=to_int(data.get("refundedQty")),
            refund_channel=data.get("refundChannel"),
            charges=[ReturnCharge.from_api(c) for c in _list(data.get("charges"))],
            tracking_statuses=[ReturnTrackingStatus.from_api(s) for s in _list(data.get("currentTrackingStatuses"))],
            current_refund_status=data.get("currentRefundStatus"),
            current_delivery_status=data.get("currentDeliveryStatus"),
        )


@dataclass(slots=True)
class WalmartReturn:
    return_order_id: str
    customer_order_id: str | None
    customer_name: str | None
    return_order_date: datetime | None
    return_by_date: datetime | None
    refund_mode: str | None
    total_refund_amount: Decimal | None
    currency: str | None
    return_channel: str | None
    lines: list[ReturnLine]
    return_type: str | None = None
    customer_email_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> WalmartReturn:
        total = data.get("totalRefundAmount") or {}
        customer = data.get("customerName")
        if isinstance(customer, Mapping):
            customer = " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
        channel = data.get("returnChannel")
        if isinstance(channel, Mapping):
            channel = channel.get("channelName")
        return cls(
            return_order_id=str(data["returnOrderId"]),
            customer_order_id=data.get("customerOrderId"),
            customer_name=customer,
            return_order_date=from_epoch_ms(data.get("returnOrderDate")),
            return_by_date=from_epoch_ms(data.get("returnByDate")),
            refund_mode=data.get("refundMode"),
            total_refund_amount=to_decimal(total.get("currencyAmount")),
            currency=total.get("currencyUnit"),
            return_channel=channel,
            lines=[ReturnLine.from_api(line) for line in _list(data.get("returnOrderLines"))],
            return_type=data.get("returnType"),
            customer_email_id=data.get("customerEmailId"),
            raw=dict(data),
        )


# --------------------------------------------------------------------------------------------- feeds


@dataclass(frozen=True, slots=True)
class FeedAck:
    """Walmart accepted a feed file. `correlation_id` is the one sent with the upload."""

    feed_id: str
    correlation_id: str


@dataclass(slots=True)
class FeedItemResult:
    """One item's outcome in a feed. `item_id` is Walmart's item id (`itemid`), falling back to the
    `wpid` when Walmart sends only that; `wpid` is kept on its own too."""

    sku: str | None
    status: str
    item_id: str | None = None
    index: int | None = None
    errors: list[WalmartErrorDetail] = field(default_factory=list)
    wpid: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> FeedItemResult:
        item_id = data.get("itemid") or data.get("itemId")
        return cls(
            sku=data.get("sku"),
            status=data.get("ingestionStatus") or "",
            item_id=str(item_id) if item_id else data.get("wpid"),
            index=data.get("index"),
            errors=_ingestion_errors(data.get("ingestionErrors")),
            wpid=data.get("wpid"),
        )

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"


def _ingestion_errors(value: Any) -> list[WalmartErrorDetail]:
    result = []
    for err in _list(value, "ingestionError"):
        if isinstance(err, Mapping):
            result.append(
                WalmartErrorDetail(
                    code=str(err.get("code") or ""),
                    field=err.get("field"),
                    description=err.get("description"),
                    category=err.get("type"),
                )
            )
    return result


@dataclass(slots=True)
class FeedStatus:
    feed_id: str
    feed_status: str
    items_received: int
    items_succeeded: int
    items_failed: int
    items_processing: int
    offset: int
    limit: int
    item_details: list[FeedItemResult]
    ingestion_errors: list[WalmartErrorDetail] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> FeedStatus:
        return cls(
            feed_id=str(data.get("feedId") or ""),
            feed_status=data.get("feedStatus") or "",
            items_received=to_int(data.get("itemsReceived")),
            items_succeeded=to_int(data.get("itemsSucceeded")),
            items_failed=to_int(data.get("itemsFailed")),
            items_processing=to_int(data.get("itemsProcessing")),
            offset=to_int(data.get("offset")),
            limit=to_int(data.get("limit")),
            item_details=[FeedItemResult.from_api(i) for i in _list(data.get("itemDetails"), "itemIngestionStatus")],
            ingestion_errors=_ingestion_errors(data.get("ingestionErrors")) + error_details_from_body(data),
            raw=dict(data),
        )


@dataclass(slots=True)
class FeedSummary:
    feed_id: str
    feed_type: str | None
    feed_status: str
    items_received: int
    items_succeeded: int
    items_failed: int
    items_processing: int
    feed_date: datetime | None
    modified_at: datetime | None
    partner_id: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> FeedSummary:
        return cls(
            feed_id=str(data.get("feedId") or ""),
            feed_type=data.get("feedType"),
            feed_status=data.get("feedStatus") or "",
            items_received=to_int(data.get("itemsReceived")),
            items_succeeded=to_int(data.get("itemsSucceeded")),
            items_failed=to_int(data.get("itemsFailed")),
            items_processing=to_int(data.get("itemsProcessing")),
            feed_date=from_epoch_ms(data.get("feedDate")),
            modified_at=from_epoch_ms(data.get("modifiedDtm")),
            partner_id=data.get("partnerId"),
        )


# --------------------------------------------------------------------------------------------- items


@dataclass(slots=True)
class Item:
    """A seller item (`GET /v3/items`)."""

    sku: str
    wpid: str | None
    upc: str | None
    gtin: str | None
    product_name: str | None
    product_type: str | None
    price: Decimal | None
    currency: str | None
    published_status: str | None
    lifecycle_status: str | None
    unpublished_reasons: list[str]
    condition: str | None = None
    mart: str | None = None
    variant_group_id: str | None = None
    shelf: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Item:
        price = data.get("price") or {}
        return cls(
            sku=str(data["sku"]),
            wpid=data.get("wpid"),
            upc=data.get("upc"),
            gtin=data.get("gtin"),
            product_name=data.get("productName"),
            product_type=data.get("productType"),
            price=to_decimal(price.get("amount")),
            currency=price.get("currency"),
            published_status=data.get("publishedStatus"),
            lifecycle_status=data.get("lifecycleStatus"),
            unpublished_reasons=[str(r) for r in _list(data.get("unpublishedReasons"), "reason")],
            condition=data.get("condition"),
            mart=data.get("mart"),
            variant_group_id=data.get("variantGroupId"),
            shelf=data.get("shelf"),
            raw=dict(data),
        )


@dataclass(slots=True)
class CatalogItem:
    """An item of Walmart's catalog (`GET /v3/items/walmart/search`), a candidate to match an offer to."""

    item_id: str | None
    title: str | None
    brand: str | None
    product_type: str | None
    price: Decimal | None
    currency: str | None
    is_marketplace_item: bool | None
    image_urls: list[str]
    upc: str | None = None
    gtin: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CatalogItem:
        price = data.get("price") or {}
        properties = data.get("properties") or {}
        return cls(
            item_id=str(data["itemId"]) if data.get("itemId") is not None else None,
            title=data.get("title"),
            brand=data.get("brand"),
            product_type=data.get("productType"),
            price=to_decimal(price.get("amount")),
            currency=price.get("currency"),
            is_marketplace_item=data.get("isMarketPlaceItem"),
            image_urls=[i["url"] for i in _list(data.get("images")) if isinstance(i, Mapping) and i.get("url")],
            upc=data.get("upc") or properties.get("upc"),
            gtin=data.get("gtin") or properties.get("gtin"),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class RetireResult:
    sku: str
    message: str | None


# ----------------------------------------------------------------------------------------- inventory


@dataclass(slots=True)
class Inventory:
    """Quantity of one SKU (at one ship node when `ship_node` is set)."""

    sku: str
    quantity: int
    ship_node: str | None = None
    unit: str = "EACH"
    available_to_sell: int | None = None
    reserved: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, ship_node: str | None = None) -> Inventory:
        quantity = data.get("quantity") or {}
        return cls(
            sku=str(data["sku"]),
            quantity=to_int(quantity.get("amount")),
            ship_node=ship_node or data.get("shipNode"),
            unit=quantity.get("unit") or "EACH",
        )

    @classmethod
    def from_node(cls, sku: str, node: Mapping[str, Any]) -> Inventory:
        input_qty = node.get("inputQty") or {}
        avail = node.get("availToSellQty")
        reserved = node.get("reservedQty")
        return cls(
            sku=sku,
            quantity=to_int(input_qty.get("amount")),
            ship_node=node.get("shipNode"),
            unit=input_qty.get("unit") or "EACH",
            available_to_sell=to_int(avail.get("amount")) if isinstance(avail, Mapping) else None,
            reserved=to_int(reserved.get("amount")) if isinstance(reserved, Mapping) else None,
        )


@dataclass(slots=True)
class NodeUpdateResult:
    ship_node: str
    status: str
    errors: list[WalmartErrorDetail]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> NodeUpdateResult:
        errors = data.get("errors") or []
        return cls(
            ship_node=str(data.get("shipNode") or ""),
            status=data.get("status") or "",
            errors=[WalmartErrorDetail.from_api(e) for e in _list(errors) if isinstance(e, Mapping)],
        )

    @property
    def succeeded(self) -> bool:
        return self.status.lower() == "success"


# --------------------------------------------------------------------------------------------- price


@dataclass(frozen=True, slots=True)
class PriceUpdateResult:
    sku: str
    message: str | None
    mart: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None, *, sku: str) -> PriceUpdateResult:
        # The spec's example wraps the answer in "ItemPriceResponse"; its schema does not. Accept both.
        body = (data or {}).get("ItemPriceResponse") or data or {}
        return cls(sku=str(body.get("sku") or sku), message=body.get("message"), mart=body.get("mart"))


# ------------------------------------------------------------------------------------ notifications


@dataclass(frozen=True, slots=True)
class EventType:
    resource_name: str
    event_type: str
    event_version: str
    description: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> EventType:
        return cls(
            resource_name=data.get("resourceName") or "",
            event_type=data.get("eventType") or "",
            event_version=data.get("eventVersion") or "",
            description=data.get("description"),
        )


@dataclass(slots=True)
class Subscription:
    subscription_id: str | None
    event_type: str
    event_version: str
    resource_name: str
    event_url: str | None
    status: str | None
    partner_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Subscription:
        # Never keep authDetails (it may hold the webhook password/secret) in the parsed object.
        raw = {k: v for k, v in data.items() if k != "authDetails"}
        return cls(
            subscription_id=data.get("subscriptionId"),
            event_type=data.get("eventType") or "",
            event_version=data.get("eventVersion") or "",
            resource_name=data.get("resourceName") or "",
            event_url=data.get("eventUrl"),
            status=data.get("status"),
            partner_id=data.get("partnerId"),
            raw=raw,
        )


# ------------------------------------------------------------------------------------------ settings


@dataclass(frozen=True, slots=True)
class FeedThrottle:
    """One seller-specific feed limit from the partner profile: `count` feeds per `window_seconds`."""

    feed_type: str
    count: int | None
    window_seconds: int | None
    max_file_bytes: int | None
    throttle_type: str | None = None


_UNIT_SECONDS = {"SECOND": 1, "SECONDS": 1, "MINUTE": 60, "MINUTES": 60, "HOUR": 3600, "HOURS": 3600, "DAY": 86400}
_UNIT_BYTES = {"BYTES": 1, "BYTE": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


# The seller account statuses of the partner profile's ACCOUNT configuration (2024-12 settings spec).
ACCOUNT_STATUSES = frozenset(
    {"ACTIVE", "ONBOARDING_ACTIVE", "ONBOARDING_INACTIVE", "SUSPENDED", "TNS_DECLINED", "TERMINATED"}
)


@dataclass(slots=True)
class PartnerProfile:
    """`GET /v3/settings/partnerprofile`: the seller's feed throttles and account status."""

    feed_limits: list[FeedThrottle]
    partner_id: str | None = None
    partner_name: str | None = None
    account_status: str | None = None
    partner_display_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_store_live(self) -> bool | None:
        """Whether the seller's store is live on Walmart: its account status is ACTIVE (onboarding, suspended or
        terminated accounts are not). None when Walmart did not say (no ACCOUNT configuration)."""
        if self.account_status is None:
            return None
        return self.account_status == "ACTIVE"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PartnerProfile:
        limits: list[FeedThrottle] = []
        account_status: str | None = None
        for configuration in _list(data.get("configurations")):
            if configuration.get("configurationName") == "ACCOUNT":
                status = (configuration.get("configuration") or {}).get("status")
                account_status = str(status) if status else None
            if configuration.get("configurationName") != "FEED":
                continue
            for value in _list((configuration.get("configuration") or {}).get("values")):
                for throttle in _list(value.get("throttleConfigurations")):
                    rate = throttle.get("rate") or {}
                    window = rate.get("replenishTimeWindow") or {}
                    size = throttle.get("fileSize") or {}
                    window_seconds = None
                    if window.get("value") is not None:
                        unit = str(window.get("unitOfMeasurement") or "SECOND").upper()
                        window_seconds = to_int(window["value"]) * _UNIT_SECONDS.get(unit, 1)
                    max_bytes = None
                    if size.get("value") is not None:
                        unit = str(size.get("unitOfMeasurement") or "BYTES").upper()
                        max_bytes = to_int(size["value"]) * _UNIT_BYTES.get(unit, 1)
                    limits.append(
                        FeedThrottle(
                            feed_type=str(value.get("feedType") or ""),
                            count=to_int(rate["count"]) if rate.get("count") is not None else None,
                            window_seconds=window_seconds,
                            max_file_bytes=max_bytes,
                            throttle_type=throttle.get("type"),
                        )
                    )
        partner = data.get("partner") or {}
        return cls(
            feed_limits=limits,
            partner_id=partner.get("partnerId"),
            partner_name=partner.get("partnerName"),
            account_status=account_status,
            partner_display_name=partner.get("partnerDisplayName"),
            raw=dict(data),
        )

    def feed_limit(self, feed_type: str) -> FeedThrottle | None:
        for limit in self.feed_limits:
            if limit.feed_type.lower() == feed_type.lower():
                return limit
        return None


# ------------------------------------------------------------------------------------------ reports

REPORT_STATUSES = frozenset({"RECEIVED", "INPROGRESS", "READY", "ERROR"})


def _iso_datetime(value: Any) -> datetime | None:
    """Walmart's report dates (`2024-05-01T10:00:00Z`, with or without fractions) as aware UTC datetimes."""
    if not value:
        return None
    try:
        return from_epoch_ms(value)
    except ValueError:
        return None


@dataclass(slots=True)
class ReportRequest:
    """One on-request report (`POST /v3/reports/reportRequests`, `GET .../reportRequests/{requestId}`)."""

    request_id: str
    report_type: str | None
    report_version: str | None
    status: str | None
    submitted_at: datetime | None
    generated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ReportRequest:
        return cls(
            request_id=str(data["requestId"]),
            report_type=data.get("reportType"),
            report_version=data.get("reportVersion"),
            status=data.get("requestStatus"),
            submitted_at=_iso_datetime(data.get("requestSubmissionDate")),
            generated_at=_iso_datetime(data.get("reportGenerationDate")),
            raw=dict(data),
        )

    @property
    def is_ready(self) -> bool:
        return self.status == "READY"


@dataclass(frozen=True, slots=True)
class ReportDownload:
    """`GET /v3/reports/downloadReport`: the time-limited link to the report file."""

    request_id: str
    url: str
    expires_at: datetime | None
    status: str | None


@dataclass(frozen=True, slots=True)
class ItemReportRow:
    """One row of the ITEM report (v4), read by column name. Every column is also in `columns`, as sent."""

    sku: str
    item_id: str | None
    product_name: str | None
    lifecycle_status: str | None
    published_status: str | None
    status_change_reason: str | None
    product_category: str | None
    price: Decimal | None
    currency: str | None
    brand: str | None
    wpid: str | None
    gtin: str | None
    upc: str | None
    columns: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> ItemReportRow:
        def text(name: str) -> str | None:
            value = (row.get(name) or "").strip()
            return value or None

        price = text("Price")
        try:
            amount = Decimal(price) if price is not None else None
        except ArithmeticError:
            amount = None
        return cls(
            sku=str(row.get("SKU") or "").strip(),
            item_id=text("Item ID"),
            product_name=text("Product Name"),
            lifecycle_status=text("Lifecycle Status"),
            published_status=text("Publish Status"),
            status_change_reason=text("Status Change Reason"),
            product_category=text("Product Category"),
            price=amount,
            currency=text("Currency"),
            brand=text("Brand"),
            wpid=text("WPID"),
            gtin=text("GTIN"),
            upc=text("UPC"),
            columns=MappingProxyType(dict(row)),
        )


@dataclass(frozen=True, slots=True)
class InventoryReportRow:
    """One row of the INVENTORY report (v1): one item at one ship node, read by column name
    (us-marketplace/docs/request-an-inventory-report). `input_quantity` is inputQty (units sold and not yet
    shipped included), `available_to_sell` availToSellQty; None when the cell is empty or not a whole number.
    Every column is also in `columns`, as sent."""

    sku: str
    item_id: str | None
    product_name: str | None
    ship_node: str | None
    ship_node_name: str | None
    input_quantity: int | None
    available_to_sell: int | None
    columns: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> InventoryReportRow:
        def text(name: str) -> str | None:
            value = (row.get(name) or "").strip()
            return value or None

        def whole(name: str) -> int | None:
            value = text(name)
            try:
                return int(Decimal(value)) if value is not None and Decimal(value) % 1 == 0 else None
            except ArithmeticError:
                return None

        return cls(
            sku=str(row.get("SKU") or "").strip(),
            item_id=text("Item ID"),
            product_name=text("Product Name"),
            ship_node=text("Ship Node ID"),
            ship_node_name=text("Ship Node Name"),
            input_quantity=whole("Input Quantity"),
            available_to_sell=whole("AvailToSell Quantity"),
            columns=MappingProxyType(dict(row)),
        )


# ------------------------------------------------------------------------------- requests (outbound)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipLine:
    """Units of one order line shipped in one package. `carrier` must be one of Walmart's named carriers
    (`walmart_client.enums.CARRIERS`); any other carrier goes in `other_carrier` (or an unknown `carrier`
    is sent as `otherCarrier`) and then needs `tracking_url`. `ship_datetime` must be timezone-aware.

    `intent_to_cancel_override=True` ships a line the customer asked to cancel. `replaces_tracking_number`
    turns the call into a tracking correction (`processMode: PARTIAL_UPDATE`, allowed within 4 hours of
    marking the line shipped): the package with that tracking number gets this line's tracking."""

    line_number: str | int
    quantity: int
    tracking_number: str
    method_code: str
    ship_datetime: datetime
    carrier: str | None = None
    other_carrier: str | None = None
    tracking_url: str | None = None
    intent_to_cancel_override: bool = False
    replaces_tracking_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelLine:
    """Units of one order line to cancel, with a reason from `walmart_client.enums.CANCEL_REASONS`."""

    line_number: str | int
    quantity: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundLine:
    """A partial refund of one shipped order line. `amount` and `tax` are negative (Walmart's sign for a
    refund), at most two decimals. `quantity` is informational: Walmart's refund payload has no quantity
    field, so it is not sent."""

    line_number: str | int
    amount: Decimal
    reason: str
    tax: Decimal = Decimal("0")
    quantity: int | None = None
    charge_type: str = "PRODUCT"
    charge_name: str = "Item Price"
    tax_name: str = "Item Price Tax"
    currency: str = "USD"
    comments: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnRefundLine:
    """Units of one return line to refund (`POST /v3/returns/{returnOrderId}/refund`)."""

    return_order_line_number: int
    quantity: int
    unit_of_measure: str = "EA"


@dataclass(slots=True)
class ReturnRefundResult:
    return_order_id: str
    customer_order_id: str | None
    lines: list[ReturnRefundLine]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None, *, return_order_id: str) -> ReturnRefundResult:
        data = data or {}
        lines = [
            ReturnRefundLine(
                return_order_line_number=to_int(line.get("returnOrderLineNumber")),
                quantity=to_int((line.get("quantity") or {}).get("measurementValue")),
                unit_of_measure=(line.get("quantity") or {}).get("unitOfMeasure") or "EA",
            )
            for line in _list(data.get("refundLines"))
        ]
        return cls(
            return_order_id=return_order_id,
            customer_order_id=data.get("customerOrderId"),
            lines=lines,
            raw=dict(data),
        )
