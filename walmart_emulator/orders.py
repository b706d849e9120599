"""Purchase orders: the customer simulator, and Walmart's rules for acknowledge / ship / cancel / refund.

Statuses are kept per line and quantity (LineStatus rows): Created -> Acknowledged -> Shipped ->
Delivered, or Cancelled from Created / Acknowledged. Every write validates the whole request first and
applies it in one transaction, so a refused request changes nothing. Rules (NOTES §10, §15):
- acknowledge: the whole PO; repeating it is fine; refused when nothing is left to acknowledge.
- ship: only acknowledged quantity; never more than ordered, nothing cancelled; `sellerOrderId`
  required; carrier from Walmart's enum, or `otherCarrier` with `trackingURL`; methodCode from the enum;
  a shipment repeating a tracking number already on the line is refused; a line the customer asked to
  cancel needs `intentToCancelOverride: true`; `processMode: PARTIAL_UPDATE` corrects tracking within
  4 hours of shipping.
- cancel: only Created / Acknowledged quantity; `CUSTOMER_REQUESTED_SELLER_TO_CANCEL` only for lines
  with a customer intent to cancel.
- refund: shipped lines only; negative amounts with at most two decimals; never more (per charge type,
  amount and tax) than was charged for the shipped quantity; all lines full or all partial.
- the customer's intent to cancel (`order_intent_to_cancel`), auto-cancel of quantity not shipped by
  estimated ship date + 4 days (`orders_auto_cancel_due`), delivery 3 days after shipping
  (`orders_deliver_due`), all on the emulator clock.
"""

import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Prefetch

from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError, bad_request, not_found
from walmart_emulator.inventory import inventory_release, inventory_reserve, inventory_ship
from walmart_emulator.models import LineRefund, LineStatus, Offer, Order, OrderLine, Seller

CARRIERS = (
    "UPS",
    "USPS",
    "FedEx",
    "Airborne",
    "OnTrac",
    "DHL Ecommerce - US",
    "DHL",
    "LS",
    "UDS",
    "UPSMI",
    "FDX",
    "PILOT",
    "ESTES",
    "SAIA",
    "FDS Express",
    "Seko Worldwide",
    "HIT Delivery",
    "FEDEXSP",
    "RL Carriers",
    "Metropolitan Warehouse & Delivery",
    "China Post",
    "YunExpress",
    "Yellow Freight Sys",
    "AIT Worldwide Logistics",
    "Chukou1",
    "Sendle",
    "Landmark Global",
    "Sunyou",
    "Yanwen",
    "4PX",
    "GLS",
    "OSM Worldwide",
    "FIRST MILE",
    "AM Trucking",
    "CEVA",
    "India Post",
    "SF Express",
    "CNE",
    "TForce Freight",
    "AxleHire",
    "LSO",
    "Royal Mail",
    "ABF Freight System",
    "WanB",
    "Roadrunner Freight",
    "Meyer Distribution",
    "AAA Cooper",
    "Canada Post",
    "Southeastern Freight Lines",
    "Japan Post",
    "Correos de Mexico",
    "XPO Logistics",
    "JD Logistics",
    "YDH",
    "JCEX",
    "Flyt",
    "Deutsche Post",
    "Better Trucks",
    "Asendia",
    "SFC",
    "UBI",
    "ePost Global",
    "YF Logistics",
    "RXO",
    "Estes Express",
    "Shypmax",
    "WIN.IT America",
    "PITT OHIO",
    "PostNord Sweden",
    "Equick",
    "Whistl",
    "Tusou",
    "Shiprocket",
    "DTDC",
    "PTS",
)
METHOD_CODES = ("Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value")
CANCELLATION_REASONS = (
    "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
    "SELLER_CANCEL_PRICING_ERROR",
    "SELLER_CANCEL_OUT_OF_STOCK",
    "SELLER_CANCEL_FRAUD_STOP_SHIPMENT",
    "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE",
)
REFUND_REASONS = (
    "BillingError",
    "TaxExemptCustomer",
    "ItemNotAsAdvertised",
    "IncorrectItemReceived",
    "CancelledYetShipped",
    "ItemNotReceivedByCustomer",
    "IncorrectShippingPrice",
    "DamagedItem",
    "DefectiveItem",
    "CustomerChangedMind",
    "CustomerReceivedItemLate",
    "Missing Parts / Instructions",
    "Finance -> Goodwill",
    "Finance -> Rollback",
    "Buyer canceled",
    "Customer returned item",
    "General adjustment",
    "Merchandise not received",
    "Quality -> Missing Parts / Instructions",
    "Shipping & Delivery -> Damaged",
    "Shipping & Delivery -> Shipping Price Discrepancy",
    "Others",
)
AUTO_CANCEL_REASON = "AUTO_CANCELLED_NOT_SHIPPED"
TAX_RATE = Decimal("0.0825")
OPEN_STATUSES = (LineStatus.Status.CREATED, LineStatus.Status.ACKNOWLEDGED)
SHIPPED_STATUSES = (LineStatus.Status.SHIPPED, LineStatus.Status.DELIVERED)
CENT = Decimal("0.01")
ADDRESSES = (
    ("Donald Ashley", "6600 Gazebo Drive", "", "Cedar Hill", "MO", "63016", "3143450432"),
    ("Maria Lopez", "1200 Elm Street", "Apt 4B", "Springfield", "IL", "62704", "2175550134"),
    ("Kevin Nguyen", "88 Harbor View Rd", "", "Seattle", "WA", "98101", "2065550199"),
    ("Aisha Johnson", "415 Peachtree St NE", "Suite 210", "Atlanta", "GA", "30308", "4045550171"),
    ("Tom Becker", "9 Prairie Lane", "", "Omaha", "NE", "68102", "4025550112"),
)


class OrderSimulationError(ValueError):
    """The customer simulator cannot place the requested order (no such offer, not enough stock)."""


def api_error(description: str, field: str = "") -> EmulatorError:
    return bad_request(description, field=field, api="GMP_ORDER_API")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def order_queryset():
    return Order.objects.select_related("seller").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.prefetch_related("statuses", "refunds").order_by("line_number"))
    )


def order_snapshot_refresh(*, order_pk: int) -> Order:
    """Re-render the order as the API shows it into `Order.snapshot` (reads serve it as is). Every change
    to an order, its lines, statuses or refunds calls this inside the change's transaction."""
    from walmart_emulator.serializers import order_json

    order = order_queryset().get(pk=order_pk)
    order.snapshot = order_json(order)
    Order.objects.filter(pk=order_pk).update(snapshot=order.snapshot)
    return order


def orders_snapshot_refresh(*, order_pks: list[int]) -> None:
    """`order_snapshot_refresh` for many orders: one prefetch, one UPDATE per 200 orders."""
    from walmart_emulator.serializers import order_json

    orders = list(order_queryset().filter(pk__in=order_pks))
    for order in orders:
        order.snapshot = order_json(order)
    Order.objects.bulk_update(orders, ["snapshot"], batch_size=200)


def order_get(*, seller: Seller, purchase_order_id: str) -> Order:
    order = order_queryset().filter(seller=seller, purchase_order_id=purchase_order_id).first()
    if order is None:
        raise not_found(f"Purchase order '{purchase_order_id}' was not found.", field="purchaseOrderId")
    return order


def _locked_order(seller: Seller, purchase_order_id: str) -> Order:
    if not Order.objects.select_for_update().filter(seller=seller, purchase_order_id=purchase_order_id).exists():
        raise not_found(f"Purchase order '{purchase_order_id}' was not found.", field="purchaseOrderId")
    return order_get(seller=seller, purchase_order_id=purchase_order_id)


def line_quantities(line: OrderLine) -> dict[str, int]:
    totals = dict.fromkeys(LineStatus.Status.values, 0)
    for row in line.statuses.all():
        totals[row.status] += row.quantity
    return totals


def _units_by_sku(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    units: dict[str, int] = {}
    for sku, quantity in pairs:
        units[sku] = units.get(sku, 0) + quantity
    return units


def _digits(count: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(count - 1))


# --- customer simulator -------------------------------------------------------------------------


def order_simulate(
    *,
    seller: Seller,
    lines: list[tuple[str, int]] | None = None,
    method_code: str | None = None,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> Order:
    """Place a customer order like Walmart does: for published, active offers with units available to
    sell, reserving them (walmart_emulator.inventory: reservedQty up, inputQty unchanged). `lines` =
    [(sku, quantity)], or None for 1-3 random offers with quantities up to 3. Emits PO_CREATED. Raises
    OrderSimulationError (and writes nothing) when it cannot, e.g. more units than availToSellQty."""
    rng = rng or random.Random()  # noqa: S311 - simulation
    now = now or emulator_now()
    with transaction.atomic():
        offers = (
            Offer.objects.select_for_update()
            .filter(
                seller=seller,
                published_status=Offer.PublishedStatus.PUBLISHED,
                lifecycle_status=Offer.LifecycleStatus.ACTIVE,
            )
            .order_by("pk")
        )
        if lines is None:
            available = list(offers.filter(quantity__gt=F("reserved_quantity"))[:200])
            if not available:
                raise OrderSimulationError(f"Seller '{seller.name}' has no published offer with stock.")
            chosen = rng.sample(available, k=min(len(available), rng.randint(1, 3)))
            wanted = [(offer, rng.randint(1, min(3, offer.available_to_sell))) for offer in chosen]
        else:
            by_sku = {offer.sku: offer for offer in offers.filter(sku__in=[sku for sku, _ in lines])}
            wanted = []
            for sku, quantity in lines:
                offer = by_sku.get(sku)
                if offer is None:
                    raise OrderSimulationError(f"SKU '{sku}' is not a published, active offer.")
                if quantity < 1 or quantity > offer.available_to_sell:
                    raise OrderSimulationError(
                        f"SKU '{sku}' has {offer.available_to_sell} available to sell; {quantity} ordered."
                    )
                wanted.append((offer, quantity))
        method = method_code or rng.choice(("Standard", "Standard", "Value", "Express"))
        name, address1, address2, city, state, postal_code, phone = rng.choice(ADDRESSES)
        ship_date = now + timedelta(days=1 if method != "Value" else 2)
        order = Order.objects.create(
            seller=seller,
            purchase_order_id=_digits(13),
            customer_order_id=_digits(13),
            customer_email_id=f"{secrets.token_hex(16).upper()}@relay.walmart.com",
            order_date=now,
            last_modified=now,
            phone=phone,
            estimated_ship_date=ship_date,
            estimated_delivery_date=ship_date + timedelta(days=1 if method in ("Express", "OneDay") else 4),
            method_code=method,
            postal_address={
                "name": name,
                "address1": address1,
                "address2": address2,
                "city": city,
                "state": state,
                "postalCode": postal_code,
                "country": "USA",
                "addressType": "RESIDENTIAL",
            },
        )
        for number, (offer, quantity) in enumerate(wanted, start=1):
            product_amount = money(offer.price * quantity)
            shipping_amount = money(Decimal("5.99")) if method == "Express" and number == 1 else Decimal("0.00")
            line = OrderLine.objects.create(
                order=order,
                line_number=number,
                sku=offer.sku,
                product_name=offer.product_name,
                condition=offer.condition,
                quantity=quantity,
                unit_price=offer.price,
                product_amount=product_amount,
                product_tax=money(product_amount * TAX_RATE),
                shipping_amount=shipping_amount,
                shipping_tax=money(shipping_amount * TAX_RATE),
                status_date=now,
            )
            LineStatus.objects.create(line=line, status=LineStatus.Status.CREATED, quantity=quantity)
        inventory_reserve(seller=seller, quantities=_units_by_sku((offer.sku, quantity) for offer, quantity in wanted))
        order = order_snapshot_refresh(order_pk=order.pk)
        from walmart_emulator.webhooks import webhook_event_emit

        webhook_event_emit(seller=seller, event_type="PO_CREATED", payload=po_event_payload(order), now=now)
    return order


def orders_simulate(*, seller: Seller, count: int, rng: random.Random | None = None) -> list[Order]:
    """Up to `count` random orders; stops early (without error) when stock runs out."""
    placed = []
    for _ in range(count):
        try:
            placed.append(order_simulate(seller=seller, rng=rng))
        except OrderSimulationError:
            break
    return placed


def po_event_payload(order: Order, line_numbers: list[int] | None = None) -> dict:
    return {
        "partnerId": order.seller.partner_id,
        "purchaseOrderId": order.purchase_order_id,
        "customerOrderId": order.customer_order_id,
        "orderDate": _iso(order.order_date),
        "estimatedDeliveryDate": _iso(order.estimated_delivery_date),
        "estimatedShipDate": _iso(order.estimated_ship_date),
        "orderLines": [
            {
                "lineNumber": str(line.line_number),
                "sku": line.sku,
                "productName": line.product_name,
                "quantity": {"unitOfMeasure": "EACH", "measurementValue": line.quantity},
            }
            for line in order.lines.all()
            if line_numbers is None or line.line_number in line_numbers
        ],
    }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- acknowledge ----------------------------------------------------------------------------------


def _status_add(line: OrderLine, status: str, quantity: int, **fields) -> None:
    """Add quantity to a status of a line, merging into an existing untracked row of the same status."""
    if not fields:
        existing = line.statuses.filter(status=status, tracking_number="", cancellation_reason="").first()
        if existing is not None:
            LineStatus.objects.filter(pk=existing.pk).update(quantity=existing.quantity + quantity)
            return
    LineStatus.objects.create(line=line, status=status, quantity=quantity, **fields)


def _status_take(line: OrderLine, statuses: tuple[str, ...], quantity: int) -> None:
    """Remove quantity from the rows in `statuses` (in that order); caller has checked there is enough."""
    for status in statuses:
        for row in line.statuses.filter(status=status).order_by("pk"):
            if quantity == 0:
                return
            taken = min(row.quantity, quantity)
            if taken == row.quantity:
                row.delete()
            else:
                LineStatus.objects.filter(pk=row.pk).update(quantity=row.quantity - taken)
            quantity -= taken


def _touch(order: Order, now: datetime, lines: list[OrderLine]) -> Order:
    OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(status_date=now)
    is_open = LineStatus.objects.filter(line__order=order, status__in=OPEN_STATUSES).exists()
    Order.objects.filter(pk=order.pk).update(last_modified=now, is_open=is_open)
    return order_snapshot_refresh(order_pk=order.pk)


def order_acknowledge(*, seller: Seller, purchase_order_id: str, now: datetime | None = None) -> Order:
    """POST /v3/orders/{po}/acknowledge. Raises EmulatorError (404; 400 when nothing is open)."""
    now = now or emulator_now()
    with transaction.atomic():
        order = _locked_order(seller, purchase_order_id)
        lines = list(order.lines.all())
        if not any(line_quantities(line)[status] for line in lines for status in OPEN_STATUSES):
            raise api_error(
                f"Purchase order '{purchase_order_id}' cannot be acknowledged: it has no open quantity "
                "(shipped or cancelled).",
                field="purchaseOrderId",
            )
        for line in lines:
            created = line_quantities(line)[LineStatus.Status.CREATED]
            if created:
                _status_take(line, (LineStatus.Status.CREATED,), created)
                _status_add(line, LineStatus.Status.ACKNOWLEDGED, created)
        return _touch(order, now, lines)


# --- request parsing ------------------------------------------------------------------------------


def _lines_of(body: dict, root: str) -> list[dict]:
    container = body.get(root)
    if not isinstance(container, dict):
        raise api_error(f"{root} is required.", field=root)
    order_lines = (
        (container.get("orderLines") or {}).get("orderLine") if isinstance(container.get("orderLines"), dict) else None
    )
    if (
        not isinstance(order_lines, list)
        or not order_lines
        or not all(isinstance(entry, dict) for entry in order_lines)
    ):
        raise api_error("orderLines.orderLine must be a non-empty list.", field="orderLines")
    return order_lines


def _statuses_of(entry: dict) -> list[dict]:
    statuses = (
        (entry.get("orderLineStatuses") or {}).get("orderLineStatus")
        if isinstance(entry.get("orderLineStatuses"), dict)
        else None
    )
    if not isinstance(statuses, list) or not statuses or not all(isinstance(status, dict) for status in statuses):
        raise api_error(
            f"orderLineStatuses.orderLineStatus is required in line number {entry.get('lineNumber')}.",
            field="orderLineStatuses",
        )
    return statuses


def _quantity_of(status: dict, line_number) -> int:
    quantity = status.get("statusQuantity")
    if not isinstance(quantity, dict) or quantity.get("unitOfMeasurement") not in ("EACH", "EA"):
        raise api_error(
            f"statusQuantity with unitOfMeasurement EACH is required in line number {line_number}.",
            field="statusQuantity",
        )
    amount = quantity.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, str | int) or not str(amount).isdigit() or int(amount) < 1:
        raise api_error(
            f"statusQuantity.amount must be a whole number >= 1 in line number {line_number}.",
            field="statusQuantity.amount",
        )
    return int(amount)


def _line_by_number(order: Order, number) -> OrderLine:
    for line in order.lines.all():
        if str(line.line_number) == str(number):
            return line
    raise api_error(
        f"Line number '{number}' does not exist in purchase order {order.purchase_order_id}.", field="lineNumber"
    )


# --- ship -----------------------------------------------------------------------------------------


@dataclass
class PlannedShipment:
    line: OrderLine
    quantity: int
    carrier: str
    other_carrier: str
    method_code: str
    tracking_number: str
    tracking_url: str
    ship_datetime: datetime
    replaces: LineStatus | None = None


def _tracking_of(status: dict, line_number) -> dict:
    tracking = status.get("trackingInfo")
    if not isinstance(tracking, dict):
        raise api_error(f"trackingInfo is required in line number {line_number}.", field="trackingInfo")
    carrier_name = tracking.get("carrierName")
    if not isinstance(carrier_name, dict) or not (carrier_name.get("carrier") or carrier_name.get("otherCarrier")):
        raise api_error(
            f"carrierName with carrier or otherCarrier is required in line number {line_number}.", field="carrierName"
        )
    carrier, other = carrier_name.get("carrier") or "", carrier_name.get("otherCarrier") or ""
    if carrier and carrier not in CARRIERS:
        raise api_error(f"Carrier '{carrier}' is not supported in line number {line_number}.", field="carrier")
    url = tracking.get("trackingURL") or ""
    if not carrier and not url:
        raise api_error(f"trackingURL is required with otherCarrier in line number {line_number}.", field="trackingURL")
    method = tracking.get("methodCode")
    if method not in METHOD_CODES:
        raise api_error(f"Method code is not supported in line number {line_number}", field="methodCode")
    number = tracking.get("trackingNumber")
    if not isinstance(number, str) or not number.strip():
        raise api_error(f"trackingNumber is required in line number {line_number}.", field="trackingNumber")
    ship_ms = tracking.get("shipDateTime")
    if isinstance(ship_ms, bool) or not isinstance(ship_ms, int) or ship_ms <= 0:
        raise api_error(f"shipDateTime must be epoch milliseconds in line number {line_number}.", field="shipDateTime")
    return {
        "carrier": carrier,
        "other_carrier": other,
        "method_code": method,
        "tracking_number": number.strip(),
        "tracking_url": url,
        "ship_datetime": datetime.fromtimestamp(ship_ms / 1000, tz=UTC),
    }


def order_ship(*, seller: Seller, purchase_order_id: str, body: dict, now: datetime | None = None) -> Order:
    """POST /v3/orders/{po}/shipping (see module rules). All lines validated first; nothing is applied
    when one fails. Raises EmulatorError (404 unknown PO, 400 with Walmart's message)."""
    now = now or emulator_now()
    with transaction.atomic():
        order = _locked_order(seller, purchase_order_id)
        entries = _lines_of(body, "orderShipment")
        partial_update = body["orderShipment"].get("processMode") == "PARTIAL_UPDATE"
        planned: list[PlannedShipment] = []
        seller_order_ids: dict[int, str] = {}
        wanted: dict[int, int] = {}
        for entry in entries:
            number = entry.get("lineNumber")
            line = _line_by_number(order, number)
            seller_order_id = entry.get("sellerOrderId")
            if not isinstance(seller_order_id, str) or not seller_order_id.strip():
                raise api_error(f"sellerOrderId is required in line number {number}.", field="sellerOrderId")
            if len(seller_order_id) > 30:
                raise api_error(
                    f"sellerOrderId must be at most 30 characters in line number {number}.", field="sellerOrderId"
                )
            seller_order_ids[line.pk] = seller_order_id
            if line.intent_to_cancel and entry.get("intentToCancelOverride") is not True and not partial_update:
                raise api_error(
                    f"Line number {number} has a customer request to cancel; "
                    "set intentToCancelOverride to true to ship it.",
                    field="intentToCancelOverride",
                )
            shipped_rows = [row for row in line.statuses.all() if row.status in SHIPPED_STATUSES]
            for status in _statuses_of(entry):
                if status.get("status") != "Shipped":
                    raise api_error(f"status must be Shipped in line number {number}.", field="status")
                quantity = _quantity_of(status, number)
                tracking = _tracking_of(status, number)
                if partial_update:
                    current = ((status.get("currentTrackingInfo") or {}).get("trackingNumber")) or ""
                    row = next((row for row in shipped_rows if row.tracking_number == current), None)
                    if row is None:
                        raise api_error(
                            f"No shipment with tracking number '{current}' in line number {number}.",
                            field="currentTrackingInfo",
                        )
                    if row.shipped_at and now - row.shipped_at > timedelta(hours=4):
                        raise api_error(
                            f"Tracking of line number {number} can only be updated within 4 hours of shipping.",
                            field="currentTrackingInfo",
                        )
                    planned.append(PlannedShipment(line=line, quantity=row.quantity, replaces=row, **tracking))
                    continue
                duplicate = next(
                    (
                        row
                        for row in shipped_rows
                        if row.tracking_number == tracking["tracking_number"]
                        and row.carrier == tracking["carrier"]
                        and row.other_carrier == tracking["other_carrier"]
                    ),
                    None,
                )
                if duplicate is not None:
                    raise api_error(
                        f"Line number {number} is already shipped with tracking number "
                        f"'{tracking['tracking_number']}'.",
                        field="trackingNumber",
                    )
                wanted[line.pk] = wanted.get(line.pk, 0) + quantity
                quantities = line_quantities(line)
                if wanted[line.pk] > quantities[LineStatus.Status.ACKNOWLEDGED]:
                    if quantities[LineStatus.Status.CREATED]:
                        raise api_error(
                            f"Line number {number} must be acknowledged before it can be shipped.", field="status"
                        )
                    raise api_error(
                        f"Quantity {wanted[line.pk]} exceeds the quantity that can be shipped "
                        f"({quantities[LineStatus.Status.ACKNOWLEDGED]}) in line number {number}.",
                        field="statusQuantity",
                    )
                planned.append(PlannedShipment(line=line, quantity=quantity, **tracking))
        for shipment in planned:
            fields = {
                "carrier": shipment.carrier,
                "other_carrier": shipment.other_carrier,
                "method_code": shipment.method_code,
                "tracking_number": shipment.tracking_number,
                "tracking_url": shipment.tracking_url,
                "ship_datetime": shipment.ship_datetime,
            }
            if shipment.replaces is not None:
                LineStatus.objects.filter(pk=shipment.replaces.pk).update(**fields)
                continue
            _status_take(shipment.line, (LineStatus.Status.ACKNOWLEDGED,), shipment.quantity)
            LineStatus.objects.create(
                line=shipment.line,
                status=LineStatus.Status.SHIPPED,
                quantity=shipment.quantity,
                shipped_at=now,
                **fields,
            )
        for line_pk, seller_order_id in seller_order_ids.items():
            OrderLine.objects.filter(pk=line_pk).update(seller_order_id=seller_order_id)
        inventory_ship(
            seller=seller,
            quantities=_units_by_sku(
                (shipment.line.sku, shipment.quantity) for shipment in planned if shipment.replaces is None
            ),
        )
        return _touch(order, now, [shipment.line for shipment in planned])


# --- cancel ---------------------------------------------------------------------------------------


def order_cancel(*, seller: Seller, purchase_order_id: str, body: dict, now: datetime | None = None) -> Order:
    """POST /v3/orders/{po}/cancel. Only Created/Acknowledged quantity; all-or-nothing. Raises EmulatorError."""
    now = now or emulator_now()
    with transaction.atomic():
        order = _locked_order(seller, purchase_order_id)
        planned: list[tuple[OrderLine, int, str]] = []
        wanted: dict[int, int] = {}
        for entry in _lines_of(body, "orderCancellation"):
            number = entry.get("lineNumber")
            line = _line_by_number(order, number)
            for status in _statuses_of(entry):
                if status.get("status") != "Cancelled":
                    raise api_error(f"status must be Cancelled in line number {number}.", field="status")
                reason = status.get("cancellationReason")
                if reason not in CANCELLATION_REASONS:
                    raise api_error(
                        f"cancellationReason '{reason}' is not supported in line number {number}.",
                        field="cancellationReason",
                    )
                if reason == "CUSTOMER_REQUESTED_SELLER_TO_CANCEL" and not line.intent_to_cancel:
                    raise api_error(
                        f"CUSTOMER_REQUESTED_SELLER_TO_CANCEL is only allowed for lines the customer asked to cancel "
                        f"(line number {number}).",
                        field="cancellationReason",
                    )
                quantity = _quantity_of(status, number)
                wanted[line.pk] = wanted.get(line.pk, 0) + quantity
                quantities = line_quantities(line)
                cancellable = quantities[LineStatus.Status.CREATED] + quantities[LineStatus.Status.ACKNOWLEDGED]
                if wanted[line.pk] > cancellable:
                    shipped = quantities[LineStatus.Status.SHIPPED] + quantities[LineStatus.Status.DELIVERED]
                    detail = (
                        f"{shipped} already shipped"
                        if shipped
                        else f"{quantities[LineStatus.Status.CANCELLED]} already cancelled"
                    )
                    raise api_error(
                        f"Quantity {wanted[line.pk]} cannot be cancelled in line number {number}: only {cancellable} "
                        f"is open ({detail}).",
                        field="statusQuantity",
                    )
                planned.append((line, quantity, reason))
        for line, quantity, reason in planned:
            _status_take(line, OPEN_STATUSES, quantity)
            _status_add(line, LineStatus.Status.CANCELLED, quantity, cancellation_reason=reason)
        released = _units_by_sku((line.sku, quantity) for line, quantity, _ in planned)
        inventory_release(seller=seller, quantities=released)
        return _touch(order, now, [line for line, _, _ in planned])


# --- refund ---------------------------------------------------------------------------------------


def _amount(value, *, field: str, number) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise api_error(f"{field} must be a number in line number {number}.", field=field)
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise api_error(f"{field} must be a number in line number {number}.", field=field) from error
    if amount != amount.quantize(CENT):
        raise api_error(f"{field} '{value}' has more than two decimal places in line number {number}.", field=field)
    return amount


def _charged(line: OrderLine, charge_type: str, shipped: int) -> tuple[Decimal, Decimal]:
    """What the customer was charged (amount, tax) of a charge type for the shipped quantity."""
    if charge_type == "SHIPPING":
        return line.shipping_amount, line.shipping_tax
    share = Decimal(shipped) / Decimal(line.quantity)
    return money(line.product_amount * share), money(line.product_tax * share)


def _refunded(line: OrderLine, charge_type: str) -> tuple[Decimal, Decimal]:
    rows = [row for row in line.refunds.all() if row.charge_type == charge_type]
    return -sum((row.amount for row in rows), Decimal("0")), -sum((row.tax_amount for row in rows), Decimal("0"))


def order_refund(*, seller: Seller, purchase_order_id: str, body: dict, now: datetime | None = None) -> Order:
    """POST /v3/orders/{po}/refund (see module rules). All-or-nothing. Raises EmulatorError."""
    now = now or emulator_now()
    with transaction.atomic():
        order = _locked_order(seller, purchase_order_id)
        entries = _lines_of(body, "orderRefund")
        if body["orderRefund"].get("purchaseOrderId") != purchase_order_id:
            raise api_error(
                "orderRefund.purchaseOrderId must match the purchase order in the path.", field="purchaseOrderId"
            )
        full_flags = {bool(entry.get("isFullRefund", False)) for entry in entries}
        if len(full_flags) > 1:
            raise api_error("All lines of one refund must be either full or partial refunds.", field="isFullRefund")
        refund_id = _digits(12)
        planned: list[LineRefund] = []
        totals: dict[tuple[int, str], list[Decimal]] = {}
        for entry in entries:
            number = entry.get("lineNumber")
            line = _line_by_number(order, number)
            quantities = line_quantities(line)
            shipped = quantities[LineStatus.Status.SHIPPED] + quantities[LineStatus.Status.DELIVERED]
            if not shipped:
                raise api_error(
                    f"Line number {number} has not shipped: only shipped lines can be refunded.", field="lineNumber"
                )
            refunds = (entry.get("refunds") or {}).get("refund") if isinstance(entry.get("refunds"), dict) else None
            if not isinstance(refunds, list) or not refunds:
                raise api_error(f"refunds.refund is required in line number {number}.", field="refunds")
            charges = []
            for refund in refunds:
                refund_charges = (
                    (refund.get("refundCharges") or {}).get("refundCharge") if isinstance(refund, dict) else None
                )
                if not isinstance(refund_charges, list) or not refund_charges:
                    raise api_error(
                        f"refundCharges.refundCharge is required in line number {number}.", field="refundCharges"
                    )
                for refund_charge in refund_charges:
                    charges.append((refund, refund_charge))
            for refund, refund_charge in charges:
                reason = refund_charge.get("refundReason")
                if reason not in REFUND_REASONS:
                    raise api_error(
                        f"refundReason '{reason}' is not supported in line number {number}.", field="refundReason"
                    )
                charge = refund_charge.get("charge") if isinstance(refund_charge.get("charge"), dict) else {}
                charge_type = charge.get("chargeType")
                if charge_type not in ("PRODUCT", "SHIPPING"):
                    raise api_error(
                        f"chargeType must be PRODUCT or SHIPPING in line number {number}.", field="chargeType"
                    )
                charged_amount, charged_tax = _charged(line, charge_type, shipped)
                refunded_amount, refunded_tax = _refunded(line, charge_type)
                if entry.get("isFullRefund"):
                    amount, tax = -(charged_amount - refunded_amount), -(charged_tax - refunded_tax)
                    if amount == 0 and tax == 0:
                        raise api_error(f"Line number {number} is already fully refunded.", field="isFullRefund")
                else:
                    amount = _amount(
                        (charge.get("chargeAmount") or {}).get("amount"), field="chargeAmount.amount", number=number
                    )
                    tax_given = charge.get("tax")
                    tax_block = tax_given if isinstance(tax_given, dict) else {}
                    tax = _amount(
                        (tax_block.get("taxAmount") or {}).get("amount", 0), field="taxAmount.amount", number=number
                    )
                    if amount >= 0 or tax > 0:
                        raise api_error(
                            f"Refund amounts must be negative in line number {number}.", field="chargeAmount.amount"
                        )
                key = (line.pk, charge_type)
                running = totals.setdefault(key, [refunded_amount, refunded_tax])
                running[0] += -amount
                running[1] += -tax
                if running[0] > charged_amount or running[1] > charged_tax:
                    raise api_error(
                        f"Refund of {running[0]} (tax {running[1]}) exceeds the {charge_type} charge of "
                        f"{charged_amount} "
                        f"(tax {charged_tax}) for the shipped quantity in line number {number}.",
                        field="chargeAmount.amount",
                    )
                planned.append(
                    LineRefund(
                        line=line,
                        refund_id=refund_id,
                        charge_type=charge_type,
                        charge_name=str(
                            charge.get("chargeName") or ("Item Price" if charge_type == "PRODUCT" else "Shipping")
                        ),
                        amount=amount,
                        tax_amount=tax,
                        reason=reason,
                        comments=str(refund.get("refundComments") or "")[:500],
                        created_at=now,
                    )
                )
        LineRefund.objects.bulk_create(planned)
        return _touch(order, now, [refund.line for refund in planned])


# --- customer side and time-driven changes --------------------------------------------------------


def order_intent_to_cancel(*, seller: Seller, purchase_order_id: str, line_numbers: list[int] | None = None) -> Order:
    """The customer asks to cancel open lines (all by default). Emits INTENT_TO_CANCEL. Raises EmulatorError
    (404, or 400 when no requested line is open)."""
    now = emulator_now()
    with transaction.atomic():
        order = _locked_order(seller, purchase_order_id)
        lines = [
            line
            for line in order.lines.all()
            if (line_numbers is None or line.line_number in line_numbers)
            and any(line_quantities(line)[status] for status in OPEN_STATUSES)
        ]
        if not lines:
            raise api_error("No open line to cancel.", field="lineNumber")
        OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(intent_to_cancel=True)
        order = _touch(order, now, lines)
        from walmart_emulator.webhooks import webhook_event_emit

        webhook_event_emit(
            seller=seller,
            event_type="INTENT_TO_CANCEL",
            payload=po_event_payload(order, [line.line_number for line in lines]),
            now=now,
        )
    return order


def orders_due_for_auto_cancel(cutoff: datetime) -> list[int]:
    """Ids of open orders whose estimated ship date is before `cutoff` (raw SQL: every order read runs it)."""
    table = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE is_open = %s AND estimated_ship_date <= %s LIMIT 500",  # noqa: S608
            [True, connection.ops.adapt_datetimefield_value(cutoff)],
        )
        return [row[0] for row in cursor.fetchall()]


def orders_auto_cancel_due(*, now: datetime | None = None) -> int:
    """Cancel quantity not shipped by estimated ship date + N days (setting, default 4). Emits
    PO_LINE_AUTOCANCELLED per order. Safe to re-run. Returns how many orders were touched."""
    now = now or emulator_now()
    days = getattr(settings, "WALMART_EMULATOR_AUTO_CANCEL_DAYS", 4)
    count = 0
    from walmart_emulator.webhooks import webhook_event_emit

    due = orders_due_for_auto_cancel(now - timedelta(days=days))
    for order in order_queryset().filter(pk__in=due) if due else []:
        with transaction.atomic():
            order = _locked_order(order.seller, order.purchase_order_id)
            cancelled = []
            released: list[tuple[str, int]] = []
            for line in order.lines.all():
                quantities = line_quantities(line)
                open_quantity = sum(quantities[status] for status in OPEN_STATUSES)
                if open_quantity:
                    _status_take(line, OPEN_STATUSES, open_quantity)
                    _status_add(
                        line, LineStatus.Status.CANCELLED, open_quantity, cancellation_reason=AUTO_CANCEL_REASON
                    )
                    cancelled.append(line)
                    released.append((line.sku, open_quantity))
            inventory_release(seller=order.seller, quantities=_units_by_sku(released))
            order = _touch(order, now, cancelled)
            if cancelled:
                count += 1
                webhook_event_emit(
                    seller=order.seller,
                    event_type="PO_LINE_AUTOCANCELLED",
                    payload=po_event_payload(order, [line.line_number for line in cancelled]),
                    now=now,
                )
    return count


DELIVER_BATCH = 200  # orders moved to Delivered per transaction


def orders_deliver_due(*, now: datetime | None = None) -> int:
    """Shipped quantity becomes Delivered N days after its ship date (setting, default 3). Returns rows moved.

    DELIVER_BATCH orders per transaction, their snapshots rendered from one prefetch per batch and written in
    one statement: a backlog of thousands (a soak's days of shipments coming due at once) neither holds their
    rows locked against ship and cancel calls nor takes one of the emulator worker's slots for long (the
    slots that also send webhook deliveries)."""
    now = now or emulator_now()
    days = getattr(settings, "WALMART_EMULATOR_DELIVERY_DAYS", 3)
    rows = LineStatus.objects.filter(status=LineStatus.Status.SHIPPED, ship_datetime__lte=now - timedelta(days=days))
    order_ids = sorted(set(rows.values_list("line__order_id", flat=True)))
    moved = 0
    for start in range(0, len(order_ids), DELIVER_BATCH):
        batch = order_ids[start : start + DELIVER_BATCH]
        with transaction.atomic():
            moved += rows.filter(line__order_id__in=batch).update(status=LineStatus.Status.DELIVERED)
            Order.objects.filter(pk__in=batch).update(last_modified=now)
            orders_snapshot_refresh(order_pks=batch)
    return moved
