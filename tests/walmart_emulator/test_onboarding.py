"""A seller who already sells on Walmart: seeded items, the items listing, the ITEM report, item/offer events."""

import csv
import io
import json
import zipfile
from collections import Counter
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import responses
from django.core.management import call_command

from tests.walmart_emulator.factories import match_item, match_payload, published_offer
from tests.walmart_emulator.spec import assert_matches_spec, requires_specs
from walmart_emulator import item_events, services
from walmart_emulator.identifiers import identifier_to_gtin14
from walmart_emulator.models import CatalogItem, Offer, ReportRequest, WebhookDelivery
from walmart_emulator.reports import INVENTORY_COLUMNS, ITEM_COLUMNS
from walmart_emulator.seeding import seed_plan, seller_items_seed

pytestmark = pytest.mark.django_db
HOOK = "https://shop.example/hooks/walmart"
REPORTS = "/v3/reports/reportRequests"


# --- seeding ----------------------------------------------------------------------------------------


def test_the_seed_plan_mixes_every_kind_with_valid_distinct_identifiers():
    # when
    plan = list(seed_plan(count=2000, seed=7))
    # then
    kinds = Counter(item.kind for item in plan)
    assert set(kinds) == {"sku", "identifier", "ambiguous", "unknown"}
    assert all(share > 100 for share in kinds.values())
    assert {item.id_type for item in plan} == {"UPC", "EAN", "ISBN", "GTIN"}
    for item in plan:
        assert identifier_to_gtin14(id_type=item.id_type, value=item.product_id) == item.gtin
    assert (
        len({item.gtin for item in plan})
        == len({item.item_id for item in plan})
        == len({item.sku for item in plan})
        == 2000
    )
    by_kind = {item.kind: item for item in plan}
    assert by_kind["sku"].catalog_skus == (by_kind["sku"].sku,)
    assert len(by_kind["ambiguous"].catalog_skus) == 2
    assert by_kind["unknown"].catalog_skus == ()
    assert by_kind["identifier"].catalog_skus[0] != by_kind["identifier"].sku
    statuses = Counter((item.published_status, item.lifecycle_status) for item in plan)
    assert statuses[("UNPUBLISHED", "RETIRED")] > 0
    assert statuses[("PUBLISHED", "ACTIVE")] > 1500
    assert all(item.unpublished_reason for item in plan if item.published_status in ("UNPUBLISHED", "SYSTEM_PROBLEM"))
    assert not any(item.unpublished_reason for item in plan if item.published_status in ("PUBLISHED", "IN_PROGRESS"))
    assert list(seed_plan(count=50, seed=7)) == plan[:50]  # the same every time


def test_seeding_makes_the_plans_items_once_and_shares_catalog_items_between_sellers(seller):
    # when
    first = seller_items_seed(seller=seller, count=300, seed=3)
    again = seller_items_seed(seller=seller, count=300, seed=3)
    other = services.seller_create(name="Other seller")
    seller_items_seed(seller=other, count=300, seed=3)
    # then
    assert (first.created, first.skipped, again.created, again.skipped) == (300, 0, 0, 300)
    assert sum(first.by_kind.values()) == 300
    assert CatalogItem.objects.count() == 300
    plan = {item.sku: item for item in seed_plan(count=300, seed=3)}
    offers = Offer.objects.filter(seller=seller).select_related("catalog_item")
    assert offers.count() == 300
    for offer in offers:
        item = plan[offer.sku]
        assert (offer.catalog_item.gtin, offer.catalog_item.item_id, offer.price, offer.quantity) == (
            item.gtin,
            item.item_id,
            item.price,
            item.quantity,
        )
        assert (offer.published_status, offer.lifecycle_status, offer.unpublished_reason) == (
            item.published_status,
            item.lifecycle_status,
            item.unpublished_reason,
        )
        assert offer.catalog_item.upc == (item.product_id if item.id_type == "UPC" else "")


def test_seed_command_writes_the_plan(tmp_path, capsys):
    plan_path = tmp_path / "plan.csv"
    # when
    call_command("emulator_seed_items", items=40, seller="Legacy seller", seed=1, plan_csv=str(plan_path))
    # then
    assert Offer.objects.filter(seller__name="Legacy seller").count() == 40
    rows = list(csv.DictReader(plan_path.open()))
    assert [row["walmart_sku"] for row in rows] == [item.sku for item in seed_plan(count=40, seed=1)]
    assert "Items: 40 created, 0 already there" in capsys.readouterr().out


# --- items listing ------------------------------------------------------------------------------------


@requires_specs
def test_seeded_items_are_listed_by_cursor_in_walmarts_shape(wm, seller):
    seller_items_seed(seller=seller, count=450, seed=5)
    seen, cursor, pages = [], "*", 0
    while cursor:
        body = wm.get("/v3/items", {"nextCursor": cursor, "limit": 200}).json()
        assert_matches_spec("items", "/v3/items", "get", "200", body)
        assert body["totalItems"] == 450
        seen += body["ItemResponse"]
        cursor, pages = body.get("nextCursor"), pages + 1
    assert pages == 3
    assert [item["sku"] for item in seen] == [item.sku for item in seed_plan(count=450, seed=5)]
    unpublished = next(item for item in seen if item["publishedStatus"] == "UNPUBLISHED")
    assert unpublished["unpublishedReasons"]["reason"][0]
    assert wm.get("/v3/items", {"nextCursor": "*", "limit": 201}).status_code == 400


def test_items_listing_has_its_own_rate_limit(wm, seller, settings):
    settings.WALMART_EMULATOR_RATE_LIMITS = {"items_list": {"count": 2, "seconds": 60}}
    assert [wm.get("/v3/items").status_code for _ in range(3)] == [200, 200, 429]
    assert wm.get("/v3/items/count").status_code == 200  # another family


# --- the ITEM report ----------------------------------------------------------------------------------


def request_report(wm, body=None, version="v4", report_type="ITEM"):
    return wm.post(REPORTS, body, query=f"?reportType={report_type}&reportVersion={version}")


def fetch_file(client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")  # no Walmart headers: a pre-signed link


def report_rows(content: bytes) -> list[dict]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (name,) = archive.namelist()
        assert name.endswith(".csv")
        return list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8", newline="")))


@requires_specs
def test_item_report_flow_in_walmarts_shapes(wm, seller, client, settings):
    settings.WALMART_EMULATOR_REPORT_DELAY_SECONDS = 60
    seller_items_seed(seller=seller, count=120, seed=2)
    # when: requested
    created = request_report(wm)
    # then
    assert created.status_code == 200
    body = created.json()
    assert_matches_spec("on-request-reports", REPORTS, "post", "200", body)
    assert (body["reportType"], body["reportVersion"], body["requestStatus"]) == ("ITEM", "v4", "RECEIVED")
    request_id = body["requestId"]
    status = wm.get(f"{REPORTS}/{request_id}").json()
    assert_matches_spec("on-request-reports", f"{REPORTS}/{{requestId}}", "get", "200", status)
    assert status["requestStatus"] == "RECEIVED"
    early = wm.get("/v3/reports/downloadReport", {"requestId": request_id}).json()
    assert "downloadURL" not in early
    # when: due
    services.clock_advance(seconds=61)
    ready = wm.get(f"{REPORTS}/{request_id}").json()
    link = wm.get("/v3/reports/downloadReport", {"requestId": request_id}).json()
    # then
    assert ready["requestStatus"] == "READY"
    assert ready["reportGenerationDate"]
    assert_matches_spec("on-request-reports", "/v3/reports/downloadReport", "get", "200", link)
    assert link["requestStatus"] == "READY"
    assert link["downloadURLExpirationTime"]
    response = fetch_file(client, link["downloadURL"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    rows = report_rows(response.content)
    assert list(rows[0]) == list(ITEM_COLUMNS)
    plan = list(seed_plan(count=120, seed=2))
    assert [row["SKU"] for row in rows] == [item.sku for item in plan]
    first, item = rows[0], plan[0]
    assert (first["Item ID"], first["GTIN"], first["Price"], first["Publish Status"], first["Lifecycle Status"]) == (
        item.item_id,
        item.gtin,
        f"{item.price:.2f}",
        item.published_status,
        item.lifecycle_status,
    )
    retired = next(row for row in rows if row["Lifecycle Status"] == "RETIRED")
    assert retired["Status Change Reason"] == "Retired by the seller."
    listed = wm.get(REPORTS, {"reportType": "ITEM"}).json()
    assert_matches_spec("on-request-reports", REPORTS, "get", "200", listed)
    assert [entry["requestId"] for entry in listed["requests"]] == [request_id]


def test_report_is_a_snapshot_with_filters_and_excluded_columns(wm, seller, client):
    seller_items_seed(seller=seller, count=200, seed=4)
    body = {
        "rowFilters": [{"type": "enumFilter", "columnName": "Publish Status", "values": ["UNPUBLISHED"]}],
        "excludeColumns": ["Shelf Name", "Item Page URL"],
    }
    request_id = request_report(wm, body).json()["requestId"]
    link = wm.get("/v3/reports/downloadReport", {"requestId": request_id}).json()
    Offer.objects.filter(seller=seller).update(published_status="UNPUBLISHED")  # after the report was made
    rows = report_rows(fetch_file(client, link["downloadURL"]).content)
    expected = [item.sku for item in seed_plan(count=200, seed=4) if item.published_status == "UNPUBLISHED"]
    assert [row["SKU"] for row in rows] == expected
    assert list(rows[0]) == [column for column in ITEM_COLUMNS if column not in ("Shelf Name", "Item Page URL")]
    assert ReportRequest.objects.get().row_count == len(expected)


@requires_specs
def test_inventory_report_has_a_row_per_sku_and_node_with_input_and_available_quantities(wm, seller, client):
    seller_items_seed(seller=seller, count=30, seed=5)
    plan = list(seed_plan(count=30, seed=5))
    reserved = plan[0].sku
    Offer.objects.filter(seller=seller, sku=reserved).update(quantity=7, reserved_quantity=2)
    Offer.objects.filter(seller=seller, sku=plan[1].sku).update(quantity=0)
    # when
    created = request_report(wm, version="v1", report_type="INVENTORY")
    body = created.json()
    link = wm.get("/v3/reports/downloadReport", {"requestId": body["requestId"]}).json()
    # then: Walmart's shapes, and a file with Walmart's columns
    assert created.status_code == 200
    assert_matches_spec("on-request-reports", REPORTS, "post", "200", body)
    assert (body["reportType"], body["reportVersion"]) == ("INVENTORY", "v1")
    assert_matches_spec("on-request-reports", "/v3/reports/downloadReport", "get", "200", link)
    rows = report_rows(fetch_file(client, link["downloadURL"]).content)
    assert list(rows[0]) == list(INVENTORY_COLUMNS)
    assert [row["SKU"] for row in rows] == [item.sku for item in plan]
    by_sku = {row["SKU"]: row for row in rows}
    assert (by_sku[reserved]["Input Quantity"], by_sku[reserved]["AvailToSell Quantity"]) == ("7", "5")
    assert (by_sku[plan[1].sku]["Input Quantity"], by_sku[plan[1].sku]["AvailToSell Quantity"]) == ("0", "0")
    assert {(row["Ship Node ID"], row["Ship Node Name"]) for row in rows} == {
        (seller.ship_node, f"{seller.name} warehouse")
    }
    offer = Offer.objects.select_related("catalog_item").get(seller=seller, sku=reserved)
    assert (by_sku[reserved]["Item ID"], by_sku[reserved]["Product Name"]) == (
        offer.catalog_item.item_id,
        offer.product_name,
    )
    # and the INVENTORY report has its own hourly allowance, apart from the ITEM report's
    assert request_report(wm).status_code == 200
    assert request_report(wm, version="v1", report_type="INVENTORY").status_code == 429


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ("?reportType=INVENTORY&reportVersion=v4", None, "reportVersion"),
        (
            "?reportType=INVENTORY&reportVersion=v1",
            {"rowFilters": [{"type": "enumFilter", "columnName": "Publish Status", "values": ["PUBLISHED"]}]},
            "rowFilters",
        ),
        ("?reportType=NOPE&reportVersion=v4", None, "reportType"),
        ("?reportType=BUYBOX&reportVersion=v1", None, "reportType"),
        ("?reportType=ITEM&reportVersion=v2", None, "reportVersion"),
        ("?reportType=ITEM", None, "reportVersion"),
        (
            "?reportType=ITEM&reportVersion=v4",
            {"rowFilters": [{"type": "enumFilter", "columnName": "Color"}]},
            "rowFilters",
        ),
        ("?reportType=ITEM&reportVersion=v4", {"excludeColumns": ["SKU"]}, "excludeColumns"),
        (
            "?reportType=ITEM&reportVersion=v4",
            {"rowFilters": [{"type": "rangeFilter", "columnName": "Price", "from": "x"}]},
            "rowFilters",
        ),
    ],
)
def test_bad_report_requests_are_refused_and_store_nothing(wm, seller, query, body, field):
    response = wm.post(REPORTS, body, query=query)
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == field
    assert not ReportRequest.objects.exists()


def test_one_item_report_an_hour(wm, seller):
    assert request_report(wm).status_code == 200
    refused = request_report(wm)
    assert refused.status_code == 429
    assert ReportRequest.objects.count() == 1
    services.clock_advance(seconds=3601)
    assert request_report(wm).status_code == 200


def test_download_links_expire_and_cannot_be_forged(wm, seller, client):
    seller_items_seed(seller=seller, count=3, seed=1)
    request_id = request_report(wm).json()["requestId"]
    url = wm.get("/v3/reports/downloadReport", {"requestId": request_id}).json()["downloadURL"]
    forged = url.replace("sig=", "sig=0")
    assert fetch_file(client, forged).status_code == 403
    services.clock_advance(seconds=3601)
    assert fetch_file(client, url).status_code == 403
    assert wm.get(f"{REPORTS}/00000000-0000-0000-0000-000000000000").status_code == 404


def test_reports_older_than_30_days_are_gone(wm, seller):
    request_id = request_report(wm).json()["requestId"]
    services.clock_advance(seconds=31 * 86400)
    assert wm.get(f"{REPORTS}/{request_id}").status_code == 404


# --- item and offer events ------------------------------------------------------------------------------


def subscribe(wm, event_type: str, resource: str) -> None:
    event = {
        "eventType": event_type,
        "eventVersion": "V1",
        "resourceName": resource,
        "eventUrl": HOOK,
        "status": "ACTIVE",
    }
    assert wm.post("/v3/webhooks/subscriptions", {"events": [event]}).status_code == 200


def delivered(calls) -> list[dict]:
    return [json.loads(call.request.body) for call in calls]


@requires_specs
def test_event_types_offer_item_price_and_report_events(wm, seller):
    body = wm.get("/v3/webhooks/eventTypes").json()
    assert_matches_spec("notifications", "/v3/webhooks/eventTypes", "get", "200", body)
    pairs = {(event["resourceName"], event["eventType"]) for event in body["eventTypes"]}
    assert pairs >= {
        ("ITEM", "OFFER_PUBLISHED"),
        ("ITEM", "OFFER_UNPUBLISHED"),
        ("PRICE", "BUY_BOX_CHANGED"),
        ("REPORTS", "REPORT_STATUS"),
    }


@responses.activate
def test_retire_and_walmart_unpublishing_send_offer_unpublished(wm, seller, django_capture_on_commit_callbacks):
    responses.add(responses.POST, HOOK, status=200)
    subscribe(wm, "OFFER_UNPUBLISHED", "ITEM")
    subscribe(wm, "ORDER_UPDATES", "ORDER")
    first = published_offer(seller, "SKU-1", index=1)
    published_offer(seller, "SKU-2", index=2)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        wm.delete("/v3/items/SKU-1")
        item_events.offer_unpublish(seller=seller, sku="SKU-2")
        wm.delete("/v3/items/SKU-1")  # already unpublished: no second event
    # then
    bodies = delivered(responses.calls)
    assert [body["source"]["eventType"] for body in bodies] == ["OFFER_UNPUBLISHED", "OFFER_UNPUBLISHED"]
    assert bodies[0]["payload"] == {
        "partnerId": seller.partner_id,
        "sku": "SKU-1",
        "publishStatus": "UNPUBLISHED",
        "lifecycleStatus": "RETIRED",
        "statusChangeReasons": {"RETIRED_BY_THE_SELLER": "Retired by the seller."},
    }
    price = bodies[1]["payload"]
    assert price["statusChangeReasons"] == {"REASONABLE_PRICE_NOT_SATISFIED": "Reasonable Price Not Satisfied"}
    assert price["itemId"] == Offer.objects.get(sku="SKU-2").catalog_item.item_id
    assert first.catalog_item.item_id not in json.dumps(bodies[0])  # only price reasons carry the item
    assert WebhookDelivery.objects.filter(subscription__event_type="ORDER_UPDATES").count() == 0


@responses.activate
def test_match_feed_and_republishing_send_offer_published(wm, seller, django_capture_on_commit_callbacks):
    responses.add(responses.POST, HOOK, status=200)
    subscribe(wm, "OFFER_PUBLISHED", "ITEM")
    item = services.catalog_item_create(gtin="00036000291452", title="Mug", price=Decimal("5.00"))
    published_offer(seller, "SKU-9", index=9)
    item_events.offer_unpublish(seller=seller, sku="SKU-9")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        feed_id = wm.post_feed("MP_ITEM_MATCH", json.dumps(match_payload(match_item("MUG-1", item.upc)))).json()[
            "feedId"
        ]
        wm.get(f"/v3/feeds/{feed_id}")
        item_events.offer_publish(seller=seller, sku="SKU-9")
    # then
    payloads = [body["payload"] for body in delivered(responses.calls)]
    assert [(payload["sku"], payload["publishStatus"]) for payload in payloads] == [
        ("MUG-1", "PUBLISHED"),
        ("SKU-9", "PUBLISHED"),
    ]
    assert (payloads[0]["itemId"], payloads[0]["sellerOfferPrice"]) == (item.item_id, 9.99)


@responses.activate
def test_buy_box_changed(wm, seller, django_capture_on_commit_callbacks):
    responses.add(responses.POST, HOOK, status=200)
    subscribe(wm, "BUY_BOX_CHANGED", "PRICE")
    published_offer(seller, "SKU-1", price="20.00")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        item_events.buy_box_change(seller=seller, sku="SKU-1", winning_price=Decimal("18.50"))
    # then
    payload = delivered(responses.calls)[0]["payload"]
    assert payload["itemInfo"]["sku"] == "SKU-1"
    assert payload["offer"]["currentOffer"]["sellerOfferPrice"] == 20.0
    assert payload["offer"]["winningOffer"]["sellerOfferPrice"] == 18.5
    assert payload["priceDifference"] == 1.5


@responses.activate
def test_report_ready_sends_report_status(wm, seller, django_capture_on_commit_callbacks):
    responses.add(responses.POST, HOOK, status=200)
    subscribe(wm, "REPORT_STATUS", "REPORTS")
    with django_capture_on_commit_callbacks(execute=True):
        request_id = request_report(wm).json()["requestId"]
    payload = delivered(responses.calls)[0]["payload"]
    assert (payload["requestId"], payload["requestStatus"], payload["reportType"]) == (request_id, "READY", "ITEM")


@requires_specs
def test_partner_profile_tells_whether_the_store_is_live(wm, seller):
    live = wm.get("/v3/settings/partnerprofile").json()
    seller.is_live = False
    seller.save()
    onboarding = wm.get("/v3/settings/partnerprofile").json()
    assert_matches_spec("settings", "/v3/settings/partnerprofile", "get", "200", onboarding)
    assert live["configurations"][0] == {"configurationName": "ACCOUNT", "configuration": {"status": "ACTIVE"}}
    assert onboarding["configurations"][0]["configuration"] == {"status": "ONBOARDING_ACTIVE"}
