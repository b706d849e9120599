"""Onboarding reads: the ITEM and INVENTORY reports (link, file download, rows), cursors that stop, store-live,
item events."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
import responses

from tests.walmart_client.conftest import BASE_URL, calls_to
from walmart_client import (
    PartnerProfile,
    WalmartConnectionError,
    WalmartReportFailed,
    WalmartReportFileError,
    WalmartReportNotReady,
)
from walmart_client.events import BuyBoxChanged, OfferPublished, OfferUnpublished, ReportStatus, parse_event

REQUEST_ID = "6da7357b-1c3b-4c1d-9685-ca2931eb96b4"
FILE_URL = "https://files.walmart.test/reports/ItemReport.zip?se=1&sig=abc"
LINK_URL = BASE_URL + "/v3/reports/downloadReport"


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def add_link(api, status: str = "READY", url: str | None = FILE_URL) -> None:
    body = {"requestId": REQUEST_ID, "requestStatus": status, "reportType": "ITEM", "reportVersion": "v4"}
    if url:
        body["downloadURL"] = url
    api.add(responses.GET, LINK_URL, json=body)


REPORT = zipped({"ItemReport.csv": "SKU,Item ID,Publish Status\nA-1,111,PUBLISHED\nB-2,222,UNPUBLISHED\n"})


# -------------------------------------------------------------------------------------- report file


def test_a_link_before_the_report_is_ready_is_refused_with_its_status(api, client):
    add_link(api, status="INPROGRESS", url=None)
    with pytest.raises(WalmartReportNotReady) as raised:
        list(client.reports.download(REQUEST_ID))
    assert raised.value.request_status == "INPROGRESS"
    assert calls_to(api, "/v3/reports/downloadReport") != []


def test_a_failed_report_raises_report_failed(api, client):
    add_link(api, status="ERROR", url=None)
    with pytest.raises(WalmartReportFailed):
        client.reports.download_link(REQUEST_ID)


def test_the_file_download_is_retried_after_a_5xx_and_a_broken_connection(api, client, sleeps):
    add_link(api)
    api.add(responses.GET, FILE_URL, status=503)
    api.add(responses.GET, FILE_URL, body=requests.ConnectionError("reset by peer"))
    api.add(responses.GET, FILE_URL, body=REPORT)
    dest = io.BytesIO(b"left over from an earlier attempt " * 100)
    # when
    size = client.reports.download_file(REQUEST_ID, dest)
    # then
    assert dest.getvalue() == REPORT
    assert size == len(REPORT)
    assert len(sleeps.waits) == 2


def test_the_file_download_gives_up_after_the_retry_cap(api, client):
    add_link(api)
    for _ in range(4):
        api.add(responses.GET, FILE_URL, body=requests.ConnectionError("reset"))
    with pytest.raises(WalmartConnectionError) as raised:
        client.reports.download_file(REQUEST_ID, io.BytesIO())
    assert "sig=abc" not in str(raised.value)  # the link's signature is never in an error text
    assert len([call for call in api.calls if call.request.url == FILE_URL]) == 4


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"<Error>AuthenticationFailed</Error>", 403, "answered HTTP 403"),
        (b"not a zip at all", 200, "not a zip file"),
        (zipped({"a.csv": "SKU\n1\n", "b.csv": "SKU\n2\n"}), 200, "not one CSV file"),
        (zipped({"ItemReport.csv": "Item ID,Price\n1,2\n"}), 200, "no SKU column"),
    ],
    ids=["expired-link", "not-zip", "two-files", "no-sku-column"],
)
def test_a_file_that_is_not_the_report_raises_report_file_error(api, client, body, status, message):
    add_link(api)
    api.add(responses.GET, FILE_URL, body=body, status=status)
    with pytest.raises(WalmartReportFileError, match=message):
        list(client.reports.download(REQUEST_ID))


def test_inventory_report_rows_are_read_by_header_name(api, client):
    csv_text = (
        "Ship Node Name,SKU,Item ID,Product Name,Ship Node ID,Input Quantity,AvailToSell Quantity\n"
        "West,A-1,111,Mug,701,12,9\n"
        "East,A-1,111,Mug,702,3,3\n"
        "West,B-2,222,Bowl,701,,\n"
        "West,C-3,333,Cup,701,2.5,x\n"
    )
    add_link(api)
    api.add(responses.GET, FILE_URL, body=zipped({"InventoryReport.csv": csv_text}))
    # when
    rows = list(client.reports.download_inventory(REQUEST_ID))
    # then: one row per SKU and node; a missing or fractional quantity is None, never guessed
    assert [(row.sku, row.ship_node, row.input_quantity, row.available_to_sell) for row in rows] == [
        ("A-1", "701", 12, 9),
        ("A-1", "702", 3, 3),
        ("B-2", "701", None, None),
        ("C-3", "701", None, None),
    ]
    assert (rows[0].item_id, rows[0].product_name, rows[0].ship_node_name) == ("111", "Mug", "West")
    assert "WM_SEC.ACCESS_TOKEN" not in api.calls[-1].request.headers


def test_an_inventory_report_without_its_quantity_column_is_refused(api, client):
    add_link(api)
    api.add(responses.GET, FILE_URL, body=zipped({"InventoryReport.csv": "SKU,Item ID\nA-1,111\n"}))
    with pytest.raises(WalmartReportFileError, match="no Input Quantity column"):
        list(client.reports.download_inventory(REQUEST_ID))


def test_report_rows_are_streamed_with_flat_memory(api, client):
    header = "SKU,Item ID,Product Name,Lifecycle Status,Publish Status,Price,Currency,GTIN\n"
    rows = "".join(
        f"SKU-{i:06d},{10**8 + i},A fairly long product name #{i},ACTIVE,PUBLISHED,19.99,USD,0{i:013d}\n"
        for i in range(60_000)
    )
    add_link(api)
    api.add(responses.GET, FILE_URL, body=zipped({"ItemReport.csv": header + rows}))
    # when
    tracemalloc.start()
    count = 0
    last = None
    for row in client.reports.download(REQUEST_ID):
        count += 1
        last = row
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # then: 60,000 rows (7 MB of CSV) never all in memory at once
    assert count == 60_000
    assert (last.sku, last.price, last.gtin) == ("SKU-059999", Decimal("19.99"), "00000000059999")
    assert peak < 4 * 1024 * 1024, peak


def test_a_report_request_is_checked_before_sending(api, client):
    with pytest.raises(ValueError, match="report_type must be one of"):
        client.reports.request("ITEMS", version="v4")
    with pytest.raises(ValueError, match="needs a non-empty list of values"):
        client.reports.request_item_report(row_filters=[{"type": "enumFilter", "columnName": "Publish Status"}])
    with pytest.raises(ValueError, match="needs from, to or both"):
        client.reports.request_item_report(row_filters=[{"type": "rangeFilter", "columnName": "Price"}])
    assert len(api.calls) == 0


# ----------------------------------------------------------------------------------- repeated cursors


def test_iterators_stop_on_a_repeated_cursor(api, client):
    item = {"sku": "A", "publishedStatus": "PUBLISHED"}
    for _ in range(3):
        api.add(responses.GET, BASE_URL + "/v3/items", json={"ItemResponse": [item], "nextCursor": "C1"})
    inventory = {"sku": "A", "nodes": [{"shipNode": "1", "inputQty": {"unit": "EACH", "amount": 2}}]}
    for _ in range(3):
        api.add(
            responses.GET,
            BASE_URL + "/v3/inventories",
            json={"meta": {"nextCursor": "N1"}, "elements": {"inventories": [inventory]}},
        )
    request = {"requestId": REQUEST_ID, "requestStatus": "READY"}
    for _ in range(3):
        api.add(
            responses.GET,
            BASE_URL + "/v3/reports/reportRequests",
            json={"requests": [request], "nextCursor": "reportType=ITEM&page=2"},
        )
    # when
    items = list(client.items.iter_all())
    inventories = list(client.inventory.iter_all())
    requests_ = list(client.reports.iter_requests("ITEM"))
    # then: the second page repeats the cursor it was asked with, and iteration ends there
    assert (len(items), len(inventories), len(requests_)) == (2, 2, 2)
    assert len(calls_to(api, "/v3/items")) == len(calls_to(api, "/v3/inventories")) == 2
    assert len(calls_to(api, "/v3/reports/reportRequests")) == 2


def test_item_pages_are_at_most_200(api, client):
    with pytest.raises(ValueError, match="between 1 and 200"):
        list(client.items.iter_all(page_size=201))
    assert len(api.calls) == 0


# ------------------------------------------------------------------------------------------ store live


@pytest.mark.parametrize(
    ("configurations", "status", "live"),
    [
        ([{"configurationName": "ACCOUNT", "configuration": {"status": "ACTIVE"}}], "ACTIVE", True),
        (
            [{"configurationName": "ACCOUNT", "configuration": {"status": "ONBOARDING_ACTIVE"}}],
            "ONBOARDING_ACTIVE",
            False,
        ),
        ([{"configurationName": "ACCOUNT", "configuration": {"status": "SUSPENDED"}}], "SUSPENDED", False),
        ([{"configurationName": "FEED", "configuration": {"values": []}}], None, None),
    ],
)
def test_store_live_comes_from_the_account_status(configurations, status, live):
    profile = PartnerProfile.from_api({"partner": {"partnerId": "1"}, "configurations": configurations})
    assert (profile.account_status, profile.is_store_live) == (status, live)


# -------------------------------------------------------------------------------------------- events


def envelope(event_type: str, payload: dict) -> bytes:
    source = {"eventType": event_type, "eventTime": "2024-05-01T10:00:00.000Z", "eventId": "e-1"}
    return json.dumps({"source": source, "payload": payload}).encode()


def test_item_offer_price_and_report_events_are_typed():
    published = parse_event(
        envelope(
            "OFFER_PUBLISHED",
            {"partnerId": "1", "itemId": "9", "sku": "A", "publishStatus": "PUBLISHED", "sellerOfferPrice": 12.5},
        )
    )
    unpublished = parse_event(
        envelope(
            "OFFER_UNPUBLISHED",
            {"sku": "A", "publishStatus": "UNPUBLISHED", "statusChangeReasons": {"END_DATE_ISSUE": "End Date Issue"}},
        )
    )
    buy_box = parse_event(
        envelope(
            "BUY_BOX_CHANGED",
            {
                "partnerId": "1",
                "itemInfo": {"itemId": "9", "sku": "A", "totalNumberOfOffers": 3},
                "offer": {
                    "currentOffer": {"sellerName": "Me", "sellerOfferPrice": 20.0},
                    "winningOffer": {"sellerName": "Them", "sellerOfferPrice": 18.5},
                },
                "priceDifference": 1.5,
            },
        )
    )
    report = parse_event(envelope("REPORT_STATUS", {"requestId": REQUEST_ID, "requestStatus": "READY"}))
    order = parse_event(envelope("PO_CREATED", {"purchaseOrderId": "1"}))
    assert published.payload == OfferPublished(
        partner_id="1",
        sku="A",
        item_id="9",
        published_status="PUBLISHED",
        lifecycle_status=None,
        item_name=None,
        category=None,
        price=Decimal("12.5"),
        shipping_price=None,
    )
    assert (published.event_id, published.event_time) == ("e-1", datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    assert isinstance(unpublished.payload, OfferUnpublished)
    assert unpublished.payload.reasons == {"END_DATE_ISSUE": "End Date Issue"}
    assert isinstance(buy_box.payload, BuyBoxChanged)
    assert (buy_box.payload.sku, buy_box.payload.total_offers, buy_box.payload.seller_wins) == ("A", 3, False)
    assert buy_box.payload.winning_offer.price == Decimal("18.5")
    assert isinstance(report.payload, ReportStatus)
    assert report.payload.status == "READY"
    assert order.payload is None
    assert order.raw_payload == {"purchaseOrderId": "1"}


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"payload": {}}', json.dumps({"source": {"eventType": "OFFER_PUBLISHED"}, "payload": {}}).encode()],
    ids=["not-json", "no-source", "no-sku"],
)
def test_a_body_that_is_not_an_event_is_refused(body):
    with pytest.raises(ValueError, match="event"):
        parse_event(body)
