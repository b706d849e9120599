"""Feeds: MP_ITEM_MATCH, inventory and price, processed when due, with Walmart's per-item results."""

import json
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings

from tests.walmart_emulator.factories import catalog_item, match_item, match_payload, published_offer, upc_with_check
from tests.walmart_emulator.spec import assert_matches_spec, requires_specs
from walmart_emulator import services
from walmart_emulator.feeds import feeds_process_all_due
from walmart_emulator.models import Feed, FeedItemResult, Offer

pytestmark = pytest.mark.django_db

FEED_SCHEMAS = Path(settings.WALMART_API_SPECS_DIR) / "feed-json-schemas"


def feed_schema_validator(name: str):
    """Walmart's feed JSON schema `name` with its sibling files resolvable by their file names."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT4))
        for path in FEED_SCHEMAS.glob("*.json")
    ]
    registry = Registry().with_resources(resources)
    return jsonschema.Draft4Validator(json.loads((FEED_SCHEMAS / name).read_text()), registry=registry)


def submit(wm, feed_type: str, payload, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = wm.post_feed(feed_type, json.dumps(payload))
    assert response.status_code == 200, response.content
    return response.json()["feedId"]


def status(wm, feed_id: str, **params) -> dict:
    response = wm.get(f"/v3/feeds/{feed_id}", {"includeDetails": "true", **params})
    assert response.status_code == 200
    return response.json()


@requires_specs
def test_our_match_payload_is_valid_for_walmarts_schema():
    payload = match_payload(match_item("SKU-1", "012345678905"), version="1.0")
    feed_schema_validator("MP_ITEM_MATCH_v4.json").validate(payload)
    inventory = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": "A", "quantity": {"unit": "EACH", "amount": 3}}],
    }
    feed_schema_validator("InventoryFeed.json").validate(inventory)


@requires_specs
def test_match_feed_creates_published_offers_and_reports_each_item(wm, seller, django_capture_on_commit_callbacks):
    # given two catalog items
    first, second = catalog_item(1), catalog_item(2)
    payload = match_payload(
        match_item("SKU-1", first.upc),
        match_item("SKU-2", second.gtin, id_type="GTIN", price=12.5),
        match_item("SKU-3", upc_with_check("09999999999")),  # valid UPC, not in catalog
        match_item("SKU-4", "012345678901"),  # wrong check digit
        match_item("SKU-5", first.upc[:-1] + "9", price=1.239),  # three decimals (and bad check digit)
    )
    # when
    feed_id = submit(wm, "MP_ITEM_MATCH", payload, django_capture_on_commit_callbacks)
    body = status(wm, feed_id)
    # then
    assert_matches_spec("feeds", "/v3/feeds/{feedId}", "get", "200", body)
    assert (body["feedStatus"], body["itemsReceived"], body["itemsSucceeded"], body["itemsFailed"]) == (
        "PROCESSED",
        5,
        2,
        3,
    )
    results = {item["sku"]: item for item in body["itemDetails"]["itemIngestionStatus"]}
    assert results["SKU-1"]["ingestionStatus"] == "SUCCESS"
    assert results["SKU-1"]["wpid"] == Offer.objects.get(sku="SKU-1").wpid
    assert [error["code"] for error in results["SKU-3"]["ingestionErrors"]["ingestionError"]] == [
        "ERR_EXT_DATA_ITEM_NOT_FOUND"
    ]
    assert results["SKU-3"]["ingestionStatus"] == "DATA_ERROR"
    assert [error["code"] for error in results["SKU-4"]["ingestionErrors"]["ingestionError"]] == [
        "ERR_EXT_DATA_INVALID_PRODUCT_ID"
    ]
    assert "ERR_EXT_DATA_INVALID_PRICE" in [
        error["code"] for error in results["SKU-5"]["ingestionErrors"]["ingestionError"]
    ]
    offers = {offer.sku: offer for offer in Offer.objects.filter(seller=seller)}
    assert set(offers) == {"SKU-1", "SKU-2"}
    assert offers["SKU-1"].catalog_item == first
    assert str(offers["SKU-2"].price) == "12.50"
    assert offers["SKU-1"].published_status == "PUBLISHED"
    assert offers["SKU-1"].quantity == 0


def test_match_for_a_seller_not_live_creates_a_staged_offer(wm, seller, django_capture_on_commit_callbacks):
    seller.is_live = False
    seller.save()
    item = catalog_item(1)
    feed_id = submit(
        wm, "MP_ITEM_MATCH", match_payload(match_item("SKU-1", item.upc)), django_capture_on_commit_callbacks
    )
    assert status(wm, feed_id)["itemsSucceeded"] == 1
    offer = Offer.objects.get(sku="SKU-1")
    assert offer.published_status == "STAGE"
    listed = wm.get("/v3/items", {"sku": "SKU-1"}).json()["ItemResponse"][0]
    assert listed["publishedStatus"] == "STAGE"
    assert listed["unpublishedReasons"] == {"reason": ["Seller is not live yet: the offer is staged."]}


def test_duplicate_sku_in_one_feed_fails_every_occurrence(wm, seller, django_capture_on_commit_callbacks):
    first, second = catalog_item(1), catalog_item(2)
    payload = match_payload(match_item("SKU-1", first.upc), match_item("SKU-1", second.upc))
    feed_id = submit(wm, "MP_ITEM_MATCH", payload, django_capture_on_commit_callbacks)
    body = status(wm, feed_id)
    assert (body["itemsSucceeded"], body["itemsFailed"]) == (0, 2)
    codes = [
        item["ingestionErrors"]["ingestionError"][0]["code"] for item in body["itemDetails"]["itemIngestionStatus"]
    ]
    assert codes == ["ERR_EXT_DATA_DUPLICATE_SKU", "ERR_EXT_DATA_DUPLICATE_SKU"]
    assert not Offer.objects.exists()


def test_sku_already_on_another_item_is_rejected(wm, seller, django_capture_on_commit_callbacks):
    offer = published_offer(seller, "SKU-1", index=1)
    other = catalog_item(2)
    feed_id = submit(
        wm, "MP_ITEM_MATCH", match_payload(match_item("SKU-1", other.upc)), django_capture_on_commit_callbacks
    )
    error = status(wm, feed_id)["itemDetails"]["itemIngestionStatus"][0]["ingestionErrors"]["ingestionError"][0]
    assert error["code"] == "ERR_EXT_DATA_SKU_MISMATCH"
    offer.refresh_from_db()
    assert offer.catalog_item.upc != other.upc


def test_feed_with_bad_header_ends_in_error(wm, seller, django_capture_on_commit_callbacks):
    item = catalog_item(1)
    payload = match_payload(match_item("SKU-1", item.upc))
    payload["MPItemFeedHeader"]["sellingChannel"] = "marketplace"
    feed_id = submit(wm, "MP_ITEM_MATCH", payload, django_capture_on_commit_callbacks)
    body = status(wm, feed_id)
    assert body["feedStatus"] == "ERROR"
    assert body["ingestionErrors"]["ingestionError"][0]["description"] == (
        "MPItemFeedHeader.sellingChannel must be 'mpsetupbymatch'."
    )
    assert not Offer.objects.exists()


def test_feed_waits_for_its_delay_then_finishes_on_its_own(wm, seller, settings, django_capture_on_commit_callbacks):
    # given a 10-second processing delay
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 10
    item = catalog_item(1)
    feed_id = submit(
        wm, "MP_ITEM_MATCH", match_payload(match_item("SKU-1", item.upc)), django_capture_on_commit_callbacks
    )
    # then right after submission it is received, nothing applied
    body = status(wm, feed_id)
    assert (body["feedStatus"], body["itemsProcessing"], body["itemDetails"]["itemIngestionStatus"]) == (
        "RECEIVED",
        1,
        [],
    )
    services.clock_advance(seconds=6)
    assert status(wm, feed_id)["feedStatus"] == "INPROGRESS"
    assert not Offer.objects.exists()
    # when the delay has passed, the periodic sweep processes it
    services.clock_advance(seconds=5)
    assert feeds_process_all_due() == 1
    assert Feed.objects.get().status == "PROCESSED"
    assert status(wm, feed_id)["itemsSucceeded"] == 1
    assert Offer.objects.get().sku == "SKU-1"


def test_feed_read_after_due_time_processes_it_lazily(wm, seller, settings, django_capture_on_commit_callbacks):
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 10
    item = catalog_item(1)
    feed_id = submit(
        wm, "MP_ITEM_MATCH", match_payload(match_item("SKU-1", item.upc)), django_capture_on_commit_callbacks
    )
    services.clock_advance(seconds=11)
    assert status(wm, feed_id)["feedStatus"] == "PROCESSED"
    assert FeedItemResult.objects.get().status == "SUCCESS"


def test_item_details_page_by_offset_and_limit(wm, seller, django_capture_on_commit_callbacks):
    published = [published_offer(seller, f"SKU-{index}", index=index) for index in range(1, 8)]
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": offer.sku, "quantity": {"unit": "EACH", "amount": 5}} for offer in published],
    }
    feed_id = submit(wm, "inventory", payload, django_capture_on_commit_callbacks)
    body = status(wm, feed_id, offset=5, limit=5)
    assert [item["index"] for item in body["itemDetails"]["itemIngestionStatus"]] == [5, 6]
    assert (body["offset"], body["limit"]) == (5, 5)


@requires_specs
def test_inventory_feed_sets_quantities_and_flags_unknown_skus(wm, seller, django_capture_on_commit_callbacks):
    published_offer(seller, "SKU-1", quantity=3)
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [
            {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 42}},
            {"sku": "NOPE", "quantity": {"unit": "EACH", "amount": 1}},
            {"sku": "SKU-1x", "quantity": {"unit": "EACH", "amount": -1}},
        ],
    }
    feed_id = submit(wm, "inventory", payload, django_capture_on_commit_callbacks)
    body = status(wm, feed_id)
    assert_matches_spec("feeds", "/v3/feeds/{feedId}", "get", "200", body)
    assert (body["itemsSucceeded"], body["itemsFailed"]) == (1, 2)
    assert Offer.objects.get(sku="SKU-1").quantity == 42
    codes = [
        item["ingestionErrors"]["ingestionError"][0]["code"] for item in body["itemDetails"]["itemIngestionStatus"][1:]
    ]
    assert codes == ["ERR_EXT_DATA_SKU_NOT_FOUND", "ERR_EXT_DATA_SCHEMA"]


def test_inventory_feed_with_lower_case_key_is_an_error(wm, seller, django_capture_on_commit_callbacks):
    published_offer(seller, "SKU-1", quantity=3)
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "inventory": [{"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 4}}],
    }
    feed_id = submit(wm, "inventory", payload, django_capture_on_commit_callbacks)
    body = status(wm, feed_id)
    assert body["feedStatus"] == "ERROR"
    assert body["ingestionErrors"]["ingestionError"][0]["code"] == "ERR_EXT_DATA_0503009"
    assert Offer.objects.get(sku="SKU-1").quantity == 3


def test_price_feed_updates_prices_and_rejects_three_decimals(wm, seller, django_capture_on_commit_callbacks):
    published_offer(seller, "SKU-1", index=1, price="10.00")
    published_offer(seller, "SKU-2", index=2, price="20.00")
    payload = {
        "PriceHeader": {"version": "1.7"},
        "Price": [
            {
                "sku": "SKU-1",
                "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 11.25}}],
            },
            {
                "sku": "SKU-2",
                "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 21.999}}],
            },
        ],
    }
    feed_id = submit(wm, "price", payload, django_capture_on_commit_callbacks)
    body = status(wm, feed_id)
    assert (body["itemsSucceeded"], body["itemsFailed"]) == (1, 1)
    assert str(Offer.objects.get(sku="SKU-1").price) == "11.25"
    assert str(Offer.objects.get(sku="SKU-2").price) == "20.00"
    error = body["itemDetails"]["itemIngestionStatus"][1]["ingestionErrors"]["ingestionError"][0]
    assert error == {
        "type": "DATA_ERROR",
        "code": "ERR_EXT_DATA_INVALID_PRICE",
        "description": "currentPrice.amount '21.999' has more than two decimal places.",
    }


def test_feed_over_the_size_limit_is_413_and_not_stored(wm, seller, settings):
    settings.WALMART_EMULATOR_FEED_LIMITS = {"inventory": {"max_bytes": 100, "max_items": 10}}
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": f"SKU-{index}", "quantity": {"unit": "EACH", "amount": 1}} for index in range(5)],
    }
    response = wm.post_feed("inventory", json.dumps(payload))
    assert response.status_code == 413
    assert response.json()["errors"]["error"][0]["code"] == "REQUEST_ENTITY_TOO_LARGE.GMP_GATEWAY_API"
    assert not Feed.objects.exists()


def test_feed_over_the_item_limit_is_413_and_not_stored(wm, seller, settings):
    settings.WALMART_EMULATOR_FEED_LIMITS = {"inventory": {"max_bytes": 10_000, "max_items": 3}}
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": f"S{index}", "quantity": {"unit": "EACH", "amount": 1}} for index in range(4)],
    }
    response = wm.post_feed("inventory", json.dumps(payload))
    assert response.status_code == 413
    assert response.json()["errors"]["error"][0]["description"] == "Feed has 4 items; the limit for inventory is 3."
    assert not Feed.objects.exists()


def test_unknown_feed_type_is_400(wm, seller):
    response = wm.post_feed("SOMETHING", "{}")
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == "feedType"
    assert not Feed.objects.exists()


def test_feed_without_file_is_400(wm, seller):
    response = wm.client.post("/walmart-emulator/v3/feeds?feedType=inventory", {}, headers=wm.headers())
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == "file"


@requires_specs
def test_feed_list(wm, seller, django_capture_on_commit_callbacks):
    published_offer(seller, "SKU-1")
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 1}}],
    }
    first = submit(wm, "inventory", payload, django_capture_on_commit_callbacks)
    second = submit(wm, "inventory", payload, django_capture_on_commit_callbacks)
    body = wm.get("/v3/feeds").json()
    assert_matches_spec("feeds", "/v3/feeds", "get", "200", body)
    assert [feed["feedId"] for feed in body["results"]["feed"]] == [second, first]
    assert body["totalResults"] == 2
    assert wm.get("/v3/feeds", {"feedId": first}).json()["results"]["feed"][0]["itemsSucceeded"] == 1


def test_unknown_feed_is_404(wm, seller):
    response = wm.get("/v3/feeds/NOPE@X")
    assert response.status_code == 404
    assert response.json()["errors"]["error"][0]["code"] == "CONTENT_NOT_FOUND.GMP_GATEWAY_API"
