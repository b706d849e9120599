"""On-request reports: the ITEM report (version v4) and the INVENTORY report (version v1), made as Walmart
serves them, a zipped CSV.

Flow (2024-12 on-request-reports spec; developer.walmart.com us-marketplace/docs/request-an-item-report and
request-and-download-a-report): `POST /v3/reports/reportRequests?reportType=ITEM&reportVersion=v4` (optional
body `{"rowFilters": [...], "excludeColumns": [...]}`) -> `{requestId, requestStatus: RECEIVED, ...}`; the status
(`GET /v3/reports/reportRequests/{requestId}`) goes RECEIVED -> INPROGRESS -> READY (or ERROR); then
`GET /v3/reports/downloadReport?requestId=` -> `{downloadURL, downloadURLExpirationTime, ...}`, a time-limited
URL that needs no Walmart headers (a pre-signed file link), serving a zip that holds one CSV file.

Walmart's guide says a report takes 15 to 45 minutes, is kept 30 days, and each report type can be requested
once an hour (the hourly limit is the `reports` rate-limit family). The emulator makes the report
`WALMART_EMULATOR_REPORT_DELAY_SECONDS` (default 10) after the request, on the emulator clock, the same three
ways as feeds: `report_process_task` after commit, the periodic sweep, or lazily when the status is read. The
file is a snapshot of the seller's items when it is made.

Columns: Walmart's v4 field table (global-marketplace/docs/request-an-item-report1) starts `SKU, Item ID,
Product Name, Lifecycle Status, Publish Status`, in that order; the other column names below are ones
Walmart's report pages and the spec's rowFilter / excludeColumns examples use (Price, Currency, GTIN, UPC,
Shelf Name, Offer Start Date, ...) but their positions are the emulator's: clients must read columns by
header name. Values: dates `YYYY-MM-DD` (the spec's rangeFilter example), prices with two decimals.

INVENTORY report v1 (us-marketplace/docs/request-an-inventory-report): one row per item and ship node, columns
`SKU, Item ID, Product Name, Ship Node ID, Ship Node Name, Input Quantity, AvailToSell Quantity` (Walmart's
field table, in its order): Input Quantity is inputQty (units sold and not yet shipped included), AvailToSell
Quantity is availToSellQty. The emulated seller has one ship node, so one row per offer, zero quantities
included. Walmart's US page names no row filter for this report: the emulator accepts none.
"""

import csv
import hashlib
import hmac
import io
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction

from walmart_emulator.clock import emulator_now, waiting_status
from walmart_emulator.errors import EmulatorError, not_found
from walmart_emulator.models import Offer, ReportRequest, Seller

API = "GMP_REPORTS_API"
REPORT_TYPES = (
    "ITEM",
    "INVENTORY",
    "CANCELLATION",
    "DELIVERY_DEFECT",
    "ITEM_PERFORMANCE",
    "PROMO",
    "RETURN_OVERRIDES",
    "CPA",
    "SHIPPING_CONFIGURATION",
    "SHIPPING_PROGRAM",
    "FITMENT_MISSING_ATTR",
    "FITMENT_ACES_COVERAGE",
    "BUYBOX",
    "ASSORTMENT_RECOMMENDATIONS",
)
SUPPORTED = {"ITEM": ("v4",), "INVENTORY": ("v1",)}
ITEM_COLUMNS = (
    "SKU",
    "Item ID",
    "Product Name",
    "Lifecycle Status",
    "Publish Status",
    "Status Change Reason",
    "Product Category",
    "Price",
    "Currency",
    "Brand",
    "Condition",
    "WPID",
    "GTIN",
    "UPC",
    "Item Page URL",
    "Shelf Name",
    "Offer Start Date",
    "Offer End Date",
    "Item Creation Date",
    "Item Last Updated",
)
INVENTORY_COLUMNS = (
    "SKU",
    "Item ID",
    "Product Name",
    "Ship Node ID",
    "Ship Node Name",
    "Input Quantity",
    "AvailToSell Quantity",
)
# rowFilters the emulator applies: column (upper case) -> Offer field; enum/multiValue filters match exactly,
# range filters compare (dates as YYYY-MM-DD, prices as numbers).
ENUM_FILTERS = {
    "PUBLISH STATUS": "published_status",
    "LIFECYCLE STATUS": "lifecycle_status",
    "PRODUCT CATEGORY": "catalog_item__product_type",
    "CATEGORY": "catalog_item__product_type",
    "BRAND": "catalog_item__brand",
}
RANGE_FILTERS = {"PRICE": "price", "ITEM CREATION DATE": "created_at", "ITEM LAST UPDATED": "updated_at"}
URL_LIFETIME = timedelta(hours=1)
RETENTION = timedelta(days=30)
CHUNK = 5000


def report_delay_seconds() -> float:
    return float(getattr(settings, "WALMART_EMULATOR_REPORT_DELAY_SECONDS", 10.0))


def _error(description: str, field: str, code: str = "INVALID_REQUEST_PARAM") -> EmulatorError:
    return EmulatorError(description, field=field, code=f"{code}.{API}")


def _body_error(description: str, field: str = "rowFilters") -> EmulatorError:
    return _error(description, field, "INVALID_REQUEST_CONTENT")


def _filters_checked(payload: dict, report_type: str = "ITEM") -> dict:
    """The request body's rowFilters / excludeColumns, checked. Raises EmulatorError (400)."""
    if not isinstance(payload, dict) or set(payload) - {"rowFilters", "excludeColumns"}:
        raise _body_error("The body may only hold rowFilters and excludeColumns.", "body")
    if report_type == "INVENTORY":
        for name in ("rowFilters", "excludeColumns"):
            if payload.get(name):
                raise _body_error(f"The INVENTORY report takes no {name}.", name)
        return {}
    filters = payload.get("rowFilters") or []
    excluded = payload.get("excludeColumns") or []
    if not isinstance(filters, list) or not all(isinstance(entry, dict) for entry in filters):
        raise _body_error("rowFilters must be a list of objects.", "rowFilters")
    for entry in filters:
        column = str(entry.get("columnName") or "").upper()
        kind = entry.get("type") or entry.get("rowFilterType")
        if kind in ("enumFilter", "multiValueFilter") and column in ENUM_FILTERS:
            values = entry.get("values")
            if not isinstance(values, list) or not values or not all(isinstance(value, str) for value in values):
                raise _body_error(f"values of the {column} filter must be a non-empty list.", "rowFilters")
        elif kind == "rangeFilter" and column in RANGE_FILTERS:
            if entry.get("from") in (None, "") and entry.get("to") in (None, ""):
                raise _body_error(f"The {column} range filter needs from, to or both.", "rowFilters")
            for bound in ("from", "to"):
                if entry.get(bound) not in (None, ""):
                    _range_value(column, entry[bound])
        else:
            raise _body_error(f"rowFilter {kind} on column '{entry.get('columnName')}' is not supported.")
    known = {column.upper() for column in ITEM_COLUMNS}
    if not isinstance(excluded, list) or not all(isinstance(name, str) for name in excluded):
        raise _body_error("excludeColumns must be a list of column names.", "excludeColumns")
    for name in excluded:
        if name.upper() not in known or name.upper() == "SKU":
            raise _body_error(f"Column '{name}' cannot be excluded.", "excludeColumns")
    return {"rowFilters": filters, "excludeColumns": excluded} if (filters or excluded) else {}


def _range_value(column: str, value) -> Decimal | datetime:
    if column == "PRICE":
        try:
            return Decimal(str(value))
        except InvalidOperation as error:
            raise _body_error(f"'{value}' is not a price.", "rowFilters") from error
    try:
        return datetime.strptime(str(value), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as error:
        raise _body_error(f"'{value}' is not a date (YYYY-MM-DD).", "rowFilters") from error


def report_request_create(*, seller: Seller, report_type: str, report_version: str, payload: dict) -> ReportRequest:
    """Accept a report request. Raises EmulatorError (400: unknown/unsupported type or version, bad filters);
    nothing is stored then. The report is made when due (module docstring)."""
    if report_type not in REPORT_TYPES:
        raise _error(f"reportType '{report_type}' is invalid.", "reportType")
    if report_type not in SUPPORTED:
        raise _error(f"reportType '{report_type}' is not supported by the Walmart emulator.", "reportType")
    if not report_version:
        raise _error("reportVersion is required.", "reportVersion", "MISSING_REQUEST_PARAM")
    if report_version not in SUPPORTED[report_type]:
        raise _error(
            f"reportVersion '{report_version}' is not supported for {report_type} "
            f"({', '.join(SUPPORTED[report_type])}).",
            "reportVersion",
        )
    checked = _filters_checked(payload, report_type)
    now = emulator_now()
    delay = report_delay_seconds()
    report = ReportRequest.objects.create(
        seller=seller,
        request_id=str(uuid.uuid4()),
        report_type=report_type,
        report_version=report_version,
        payload=checked,
        submitted_at=now,
        due_at=now + timedelta(seconds=delay),
    )
    from walmart_emulator.tasks import report_process_task

    transaction.on_commit(lambda: report_process_task.apply_async((report.pk,), countdown=delay))
    return report


def report_get(*, seller: Seller, request_id: str) -> ReportRequest:
    """A report request of the last 30 days. Raises EmulatorError(404)."""
    report = (
        ReportRequest.objects.filter(seller=seller, request_id=request_id)
        .defer("file")
        .select_related("seller")
        .first()
    )
    if report is None or report.submitted_at < emulator_now() - RETENTION:
        raise not_found(f"Report request '{request_id}' was not found.", field="requestId", api=API)
    return report


def report_display_status(report: ReportRequest, now: datetime) -> str:
    if report.is_final:
        return report.status
    return waiting_status(received_at=report.submitted_at, due_at=report.due_at, now=now)


def report_process_due(*, report: ReportRequest, now: datetime | None = None) -> ReportRequest:
    """Make the report if it is due and not made yet; returns the fresh row (file deferred). Safe any time."""
    now = now or emulator_now()
    if report.is_final or report.due_at > now:
        return report
    report_process(report_pk=report.pk, now=now)
    return ReportRequest.objects.defer("file").select_related("seller").get(pk=report.pk)


def reports_process_all_due(*, now: datetime | None = None) -> int:
    """Make every due report (periodic sweep). Returns how many were made."""
    now = now or emulator_now()
    due = ReportRequest.objects.filter(
        status__in=[ReportRequest.Status.RECEIVED, ReportRequest.Status.INPROGRESS], due_at__lte=now
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due):
        report_process(report_pk=pk, now=now)
        count += 1
    return count


def report_process(*, report_pk: int, now: datetime | None = None) -> None:
    """Make one due report now (row-locked; a final report is left alone). Emits REPORT_STATUS."""
    now = now or emulator_now()
    with transaction.atomic():
        report = (
            ReportRequest.objects.select_for_update(of=("self",))
            .select_related("seller")
            .defer("file")
            .get(pk=report_pk)
        )
        if report.is_final or report.due_at > now:
            return
        make = inventory_report_zip if report.report_type == "INVENTORY" else item_report_zip
        content, rows = make(seller=report.seller, payload=report.payload, made_at=now)
        ReportRequest.objects.filter(pk=report.pk).update(
            status=ReportRequest.Status.READY, generated_at=now, file=content, row_count=rows
        )
        report.status, report.generated_at = ReportRequest.Status.READY, now
        from walmart_emulator.webhooks import webhook_event_emit

        webhook_event_emit(seller=report.seller, event_type="REPORT_STATUS", payload=report_status_payload(report))


def _offers(seller: Seller, payload: dict):
    queryset = Offer.objects.filter(seller=seller)
    for entry in payload.get("rowFilters") or []:
        column = str(entry["columnName"]).upper()
        if column in ENUM_FILTERS:
            queryset = queryset.filter(**{f"{ENUM_FILTERS[column]}__in": entry["values"]})
            continue
        field = RANGE_FILTERS[column]
        if entry.get("from") not in (None, ""):
            queryset = queryset.filter(**{f"{field}__gte": _range_value(column, entry["from"])})
        if entry.get("to") not in (None, ""):
            upper = _range_value(column, entry["to"])
            lookup = "lte" if column == "PRICE" else "lt"
            queryset = queryset.filter(
                **{f"{field}__{lookup}": upper + timedelta(days=1) if isinstance(upper, datetime) else upper}
            )
    return queryset.order_by("pk")


def _item_rows(seller: Seller, payload: dict) -> Iterator[tuple]:
    fields = (
        "sku",
        "catalog_item__item_id",
        "product_name",
        "lifecycle_status",
        "published_status",
        "unpublished_reason",
        "catalog_item__product_type",
        "price",
        "currency",
        "catalog_item__brand",
        "condition",
        "wpid",
        "catalog_item__gtin",
        "catalog_item__upc",
        "created_at",
        "updated_at",
    )
    for row in _offers(seller, payload).values_list(*fields).iterator(chunk_size=CHUNK):
        (sku, item_id, name, lifecycle, published, reason, category, price, currency, brand, condition, wpid, gtin, upc,
         created, updated) = row  # fmt: skip
        yield (
            sku,
            item_id,
            name,
            lifecycle,
            published,
            reason,
            category,
            f"{price:.2f}",
            currency,
            brand,
            condition,
            wpid,
            gtin,
            upc,
            f"https://www.walmart.com/ip/{item_id}",
            '["Home Page"]',
            created.date().isoformat(),
            "",
            created.date().isoformat(),
            updated.date().isoformat(),
        )


def item_report_zip(*, seller: Seller, payload: dict, made_at: datetime) -> tuple[bytes, int]:
    """The ITEM report file: a zip holding one UTF-8 CSV (header row, then one row per item). Returns
    (zip bytes, rows). Reads the offers in chunks; the CSV is compressed as it is written."""
    excluded = {name.upper() for name in payload.get("excludeColumns") or []}
    keep = [index for index, column in enumerate(ITEM_COLUMNS) if column.upper() not in excluded]
    buffer = io.BytesIO()
    rows = 0
    name = f"ItemReport_{seller.partner_id}_{made_at:%Y-%m-%dT%H%M%S}.csv"
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            writer = csv.writer(text)
            writer.writerow([ITEM_COLUMNS[index] for index in keep])
            for row in _item_rows(seller, payload):
                writer.writerow([row[index] for index in keep])
                rows += 1
    return buffer.getvalue(), rows


def inventory_report_zip(*, seller: Seller, payload: dict, made_at: datetime) -> tuple[bytes, int]:
    """The INVENTORY report file: a zip holding one UTF-8 CSV, one row per offer at the seller's node.
    Returns (zip bytes, rows). Reads the offers in chunks; the CSV is compressed as it is written."""
    buffer = io.BytesIO()
    rows = 0
    name = f"InventoryReport_{seller.partner_id}_{made_at:%Y-%m-%dT%H%M%S}.csv"
    node_name = f"{seller.name} warehouse"
    offers = (
        Offer.objects.filter(seller=seller)
        .order_by("pk")
        .values_list("sku", "catalog_item__item_id", "product_name", "quantity", "reserved_quantity")
    )
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            writer = csv.writer(text)
            writer.writerow(INVENTORY_COLUMNS)
            for sku, item_id, product_name, quantity, reserved in offers.iterator(chunk_size=CHUNK):
                writer.writerow(
                    (sku, item_id, product_name, seller.ship_node, node_name, quantity, max(0, quantity - reserved))
                )
                rows += 1
    return buffer.getvalue(), rows


def report_file(*, request_id: str) -> tuple[ReportRequest, bytes]:
    """The file of a READY report (the download link's view). Raises EmulatorError(404)."""
    report = ReportRequest.objects.filter(request_id=request_id, status=ReportRequest.Status.READY).first()
    if report is None or report.file is None:
        raise not_found("The report file was not found.", field="requestId", api=API)
    return report, bytes(report.file)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def report_request_json(report: ReportRequest, status: str) -> dict:
    data = {
        "requestId": report.request_id,
        "requestStatus": status,
        "requestSubmissionDate": _iso(report.submitted_at),
        "reportType": report.report_type,
        "reportVersion": report.report_version,
    }
    if report.payload:
        data["payload"] = report.payload
    if status == ReportRequest.Status.READY:
        data["reportGenerationDate"] = _iso(report.generated_at)
    return data


def report_status_payload(report: ReportRequest) -> dict:
    """The REPORT_STATUS event payload (us-marketplace/docs/report-status-notification)."""
    payload = {
        "partnerId": report.seller.partner_id,
        "requestId": report.request_id,
        "requestStatus": report.status,
        "requestSubmissionDate": _iso(report.submitted_at),
        "reportGenerationDate": _iso(report.generated_at),
        "reportType": report.report_type,
        "reportVersion": report.report_version,
    }
    if report.error_description:
        payload["errorDescription"] = report.error_description
    return payload


def download_signature(request_id: str, expires: int) -> str:
    """The download link's signature (like a pre-signed storage URL): HMAC of the request id and expiry."""
    message = f"{request_id}:{expires}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def download_link_check(*, request_id: str, expires: str, signature: str, now: datetime) -> None:
    """Raises EmulatorError(403) when the link was not made by the emulator or has expired."""
    if not expires.isdigit() or not hmac.compare_digest(download_signature(request_id, int(expires)), signature):
        raise EmulatorError(
            "The download link is invalid.", status=403, code=f"FORBIDDEN.{API}", field="sig", category="REQUEST"
        )
    if int(expires) < now.timestamp():
        raise EmulatorError(
            "The download link has expired.", status=403, code=f"FORBIDDEN.{API}", field="se", category="REQUEST"
        )
