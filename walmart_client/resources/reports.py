"""On-request reports: request a report, follow its status, download the file (the ITEM and INVENTORY reports
row by row).

https://developer.walmart.com/us-marketplace/docs/request-an-item-report (and the 2024-12
on-request-reports spec): `POST /v3/reports/reportRequests?reportType=ITEM&reportVersion=v4` -> a
`requestId`; `GET /v3/reports/reportRequests/{requestId}` until READY (Walmart: 15-45 minutes; each report
type once an hour); `GET /v3/reports/downloadReport?requestId=` -> a time-limited `downloadURL` to a zip
holding one CSV file. The file link is fetched without Walmart's headers (it is pre-signed; the access token
never goes to the file host), streamed to a temporary file (a zip is read from its end), and the CSV is read
one row at a time: memory stays flat whatever the catalog size.

The INVENTORY report (`reportType=INVENTORY&reportVersion=v1`, us-marketplace/docs/request-an-inventory-report)
has one row per item and ship node (SKU, Item ID, Product Name, Ship Node ID, Ship Node Name, Input Quantity,
AvailToSell Quantity): a whole catalog's quantities in one file, where `GET /v3/inventories` needs a call per
50 SKUs.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any
from urllib.parse import parse_qsl

from walmart_client.errors import WalmartReportFailed, WalmartReportFileError, WalmartReportNotReady
from walmart_client.models import InventoryReportRow, ItemReportRow, ReportDownload, ReportRequest, from_epoch_ms
from walmart_client.requestor import Requestor
from walmart_client.resources._common import date_param, path_part
from walmart_client.transport import Retry

ITEM_REPORT_VERSION = "v4"
INVENTORY_REPORT_VERSION = "v1"
REPORT_TYPES = frozenset(
    {
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
    }
)
FILTER_TYPES = frozenset({"enumFilter", "multiValueFilter", "rangeFilter"})
DOWNLOAD_ENDPOINT = "GET report file"


def _row_filters(row_filters: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Row filters as Walmart's examples send them (`type`, `columnName`, `values` or `from`/`to`)."""
    checked = []
    for entry in row_filters or []:
        kind, column = entry.get("type"), entry.get("columnName")
        if kind not in FILTER_TYPES or not isinstance(column, str) or not column:
            raise ValueError(f"a row filter needs a type in {sorted(FILTER_TYPES)} and a columnName: {entry!r}")
        if kind == "rangeFilter":
            if entry.get("from") is None and entry.get("to") is None:
                raise ValueError(f"the range filter on {column!r} needs from, to or both")
        elif not isinstance(entry.get("values"), list | tuple) or not entry.get("values"):
            raise ValueError(f"the {kind} on {column!r} needs a non-empty list of values")
        checked.append({key: list(value) if key == "values" else value for key, value in entry.items()})
    return checked


class Reports:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def request(
        self,
        report_type: str,
        *,
        version: str,
        row_filters: Sequence[Mapping[str, Any]] | None = None,
        exclude_columns: Sequence[str] | None = None,
    ) -> ReportRequest:
        """Ask Walmart for a report. A write, not retried once it may have been sent (a second request of the
        same type within the hour is refused with 429: look for the first one with `iter_requests`).
        Raises ValueError before sending for an unknown type or a malformed filter."""
        if report_type not in REPORT_TYPES:
            raise ValueError(f"report_type must be one of {sorted(REPORT_TYPES)}")
        if not version:
            raise ValueError("version is required (e.g. 'v4' for ITEM)")
        body: dict[str, Any] = {}
        filters = _row_filters(row_filters)
        if filters:
            body["rowFilters"] = filters
        if exclude_columns:
            body["excludeColumns"] = [str(name) for name in exclude_columns]
        data = self._requestor.request(
            "POST",
            "/v3/reports/reportRequests",
            family=f"reports.request.{report_type}",
            retry=Retry.WRITE,
            params={"reportType": report_type, "reportVersion": version},
            json_body=body,
        )
        return ReportRequest.from_api(data or {})

    def request_item_report(
        self,
        *,
        version: str = ITEM_REPORT_VERSION,
        row_filters: Sequence[Mapping[str, Any]] | None = None,
        exclude_columns: Sequence[str] | None = None,
    ) -> ReportRequest:
        """Ask for the ITEM report (every item of the seller, v4 columns)."""
        return self.request("ITEM", version=version, row_filters=row_filters, exclude_columns=exclude_columns)

    def request_inventory_report(self, *, version: str = INVENTORY_REPORT_VERSION) -> ReportRequest:
        """Ask for the INVENTORY report (every item at every ship node: inputQty and availToSellQty)."""
        return self.request("INVENTORY", version=version)

    def status(self, request_id: str) -> ReportRequest:
        """Where a report request is (RECEIVED, INPROGRESS, READY, ERROR). Raises WalmartNotFound (unknown or
        older than 30 days)."""
        data = self._requestor.get(f"/v3/reports/reportRequests/{path_part(request_id)}", family="reports.status")
        return ReportRequest.from_api(data or {})

    def iter_requests(
        self,
        report_type: str,
        *,
        status: str | None = None,
        version: str | None = None,
        submitted_since: datetime | None = None,
        submitted_until: datetime | None = None,
    ) -> Iterator[ReportRequest]:
        """The report requests of the last 30 days for one type, following `nextCursor` (a query string
        replayed as is); stops on a page without one, an empty page or a repeated cursor."""
        if report_type not in REPORT_TYPES:
            raise ValueError(f"report_type must be one of {sorted(REPORT_TYPES)}")
        params: Mapping[str, Any] = {
            "reportType": report_type,
            "reportVersion": version,
            "requestStatus": status,
            "requestSubmissionStartDate": date_param(submitted_since),
            "requestSubmissionEndDate": date_param(submitted_until),
        }
        cursor: str | None = None
        while True:
            data = self._requestor.get_or_none("/v3/reports/reportRequests", family="reports.list", params=params) or {}
            entries = [entry for entry in data.get("requests") or [] if isinstance(entry, Mapping)]
            for entry in entries:
                yield ReportRequest.from_api(entry)
            next_cursor = data.get("nextCursor")
            if not entries or not next_cursor or next_cursor == cursor:
                return
            cursor = str(next_cursor)
            params = dict(parse_qsl(cursor.lstrip("?"), keep_blank_values=True))

    def download_link(self, request_id: str) -> ReportDownload:
        """The time-limited link to a READY report's file. Raises WalmartReportFailed (the report ended in
        ERROR), WalmartReportNotReady (no link yet) or WalmartNotFound."""
        data = self._requestor.get(
            "/v3/reports/downloadReport", family="reports.download", params={"requestId": request_id}
        )
        data = data or {}
        status = data.get("requestStatus")
        if status == "ERROR":
            raise WalmartReportFailed(
                f"Walmart could not make report {request_id}", endpoint="GET /v3/reports/downloadReport"
            )
        url = data.get("downloadURL")
        if not url:
            raise WalmartReportNotReady(
                f"Report {request_id} is not ready (status {status})",
                request_status=status,
                endpoint="GET /v3/reports/downloadReport",
            )
        expires = data.get("downloadURLExpirationTime")
        try:
            expires_at = from_epoch_ms(expires) if expires else None
        except ValueError:
            expires_at = None
        return ReportDownload(request_id=request_id, url=str(url), expires_at=expires_at, status=status)

    def download_file(self, request_id: str, dest: IO[bytes]) -> int:
        """Write a READY report's file (the zip, as Walmart serves it) into `dest`; returns its size in bytes.
        Raises what `download_link` raises, WalmartReportFileError (link refused or expired, HTTP error) or
        WalmartConnectionError."""
        link = self.download_link(request_id)
        status, size = self._requestor.transport.download(link.url, dest, endpoint=DOWNLOAD_ENDPOINT)
        if not 200 <= status < 300:
            raise WalmartReportFileError(
                f"The file link of report {request_id} answered HTTP {status}",
                status=status,
                endpoint=DOWNLOAD_ENDPOINT,
            )
        return size

    def download(self, request_id: str) -> Iterator[ItemReportRow]:
        """The rows of a READY ITEM report, one at a time (columns read by header name). The file goes to a
        temporary file that is removed when the iteration ends or is closed. Raises what `download_file`
        raises, and WalmartReportFileError when the file is not a zip holding one CSV with a SKU column."""
        with tempfile.TemporaryFile(prefix="walmart-report-") as handle:
            self.download_file(request_id, handle)
            handle.seek(0)
            yield from iter_item_report(handle)

    def download_inventory(self, request_id: str) -> Iterator[InventoryReportRow]:
        """The rows of a READY INVENTORY report (one per SKU and ship node), one at a time, like `download`."""
        with tempfile.TemporaryFile(prefix="walmart-report-") as handle:
            self.download_file(request_id, handle)
            handle.seek(0)
            yield from iter_inventory_report(handle)


def iter_item_report(handle: IO[bytes]) -> Iterator[ItemReportRow]:
    """The rows of an ITEM report file (a zip holding one CSV) read from a seekable binary file, one at a
    time. Raises WalmartReportFileError for anything else."""
    for row in _iter_report_csv(handle, required=("SKU",)):
        yield ItemReportRow.from_row(row)


def iter_inventory_report(handle: IO[bytes]) -> Iterator[InventoryReportRow]:
    """The rows of an INVENTORY report file (a zip holding one CSV with SKU and Input Quantity columns), one
    at a time. Raises WalmartReportFileError for anything else."""
    for row in _iter_report_csv(handle, required=("SKU", "Input Quantity")):
        yield InventoryReportRow.from_row(row)


def _iter_report_csv(handle: IO[bytes], *, required: Sequence[str]) -> Iterator[dict[str, str]]:
    """The rows (with a SKU) of the one CSV file in a report zip, as dicts keyed by header name."""
    try:
        archive = zipfile.ZipFile(handle)
    except zipfile.BadZipFile as error:
        raise WalmartReportFileError("The report file is not a zip file", endpoint=DOWNLOAD_ENDPOINT) from error
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        if len(names) != 1 or not names[0].lower().endswith(".csv"):
            raise WalmartReportFileError(
                f"The report zip holds {names!r}, not one CSV file", endpoint=DOWNLOAD_ENDPOINT
            )
        with archive.open(names[0]) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.DictReader(text)
            missing = [name for name in required if name not in (reader.fieldnames or ())]
            if missing:
                raise WalmartReportFileError(
                    f"The report CSV has no {', '.join(missing)} column", endpoint=DOWNLOAD_ENDPOINT
                )
            try:
                for row in reader:
                    if row.get("SKU"):
                        yield row
            except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, zlib.error, EOFError) as error:
                raise WalmartReportFileError(
                    f"The report CSV is damaged near line {reader.line_num}", endpoint=DOWNLOAD_ENDPOINT
                ) from error
