"""Matching, retiring and reading back listings, with Walmart mocked at the HTTP boundary (`responses`)."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import responses
from django.conf import settings

from channel_manager.models import Feed
from listings import services
from listings.models import Listing, StoreAttributeMapping
from listings.services import (
    MatchNotConfigured,
    listings_match,
    listings_reread,
    listings_retire,
    match_feed_poll,
)
from tests.listings.factories import ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db

BASE = "https://walmart.test"
FEEDS = BASE + "/v3/feeds"


@pytest.fixture
def walmart_store(store):
    store.emulator_base_url = BASE
    store.save()
    StoreAttributeMapping.objects.create(store=store, identifiers=["upc", "gtin"])
    return store


@pytest.fixture
def walmart_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        api.add(responses.POST, BASE + "/v3/token", json={"access_token": "tok", "expires_in": 900})
        yield api


def walmart_calls(api, method=None):
    return [
        call
        for call in api.calls
        if "/v3/token" not in call.request.url and (method is None or call.request.method == method)
    ]


def feed_status_body(feed_id, status, items, processing=0):
    succeeded = sum(1 for item in items if item["ingestionStatus"] == "SUCCESS")
    return {
        "feedId": feed_id,
        "feedStatus": status,
        "itemsReceived": len(items),
        "itemsSucceeded": succeeded,
        "itemsFailed": len(items) - succeeded - processing,
        "itemsProcessing": processing,
        "offset": 0,
        "limit": 50,
        "itemDetails": {"itemIngestionStatus": items},
    }


def submitted_feed(store, listings, feed_id="F1@AB"):
    feed = Feed.objects.create(
        store=store,
        feed_type=Feed.FeedType.ITEM_MATCH,
        walmart_feed_id=feed_id,
        status=Feed.Status.RECEIVED,
        item_count=len(listings),
        payload={
            "MPItemFeedHeader": dict(services.MATCH_FEED_HEADER),
            "MPItem": [
                {
                    "Item": {
                        "sku": listing.product.sku,
                        "productIdentifiers": {"productIdType": "UPC", "productId": listing.product.upc},
                        "price": 9.99,
                        "ShippingWeight": 1.25,
                    }
                }
                for listing in listings
            ],
        },
    )
    Listing.objects.filter(pk__in=[listing.pk for listing in listings]).update(
        status=Listing.Status.PROCESSING, match_feed=feed
    )
    return feed


def test_match_records_the_feed_before_sending_and_refuses_what_cannot_be_matched(
    walmart_store, walmart_api, django_capture_on_commit_callbacks
):
    # given one listing with a UPC, one with only an EAN (not mapped) and one without a shipping weight
    good = ListingFactory(store=walmart_store, product=ProductFactory(sku="MUG-1", upc="036000291452"))
    no_identifier = ListingFactory(
        store=walmart_store, product=ProductFactory(sku="MUG-2", upc="", ean="4006381333931")
    )
    no_weight = ListingFactory(store=walmart_store, product=ProductFactory(sku="MUG-3", shipping_weight=None))
    matched = ListingFactory(store=walmart_store, status=Listing.Status.MATCH)
    walmart_api.add(responses.POST, FEEDS, json={"feedId": "F1@AB"})
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = listings_match(store=walmart_store, listings=Listing.objects.all())
    # then the feed exists, PENDING, before anything was sent
    feed = Feed.objects.get()
    assert (feed.status, feed.walmart_feed_id, feed.item_count) == (Feed.Status.PENDING, None, 1)
    assert walmart_calls(walmart_api) == []
    assert result == services.MatchResult(submitted=1, feeds=1, refused=2, skipped=1)
    assert feed.payload == {
        "MPItemFeedHeader": {
            "sellingChannel": "mpsetupbymatch",
            "processMode": "REPLACE",
            "locale": "en",
            "version": "1.0",
        },
        "MPItem": [
            {
                "Item": {
                    "sku": "MUG-1",
                    "productIdentifiers": {"productIdType": "UPC", "productId": "036000291452"},
                    "price": 9.99,
                    "ShippingWeight": 1.25,
                }
            }
        ],
    }
    statuses = dict(Listing.objects.values_list("pk", "status"))
    assert statuses == {good.pk: "processing", no_identifier.pk: "error", no_weight.pk: "error", matched.pk: "match"}
    no_identifier.refresh_from_db()
    assert no_identifier.error_description == (
        "Not sent: this product has none of the identifiers store matches on (UPC, GTIN). Add one to the product, "
        "or change Channel Settings > Map Attributes, then Re-match."
    )
    no_weight.refresh_from_db()
    assert no_weight.error_description == (
        "Not sent: Walmart needs the shipping weight to match. Set it on the product, then Re-match."
    )
    # when the transaction's callbacks run, the feed is sent and Walmart's id saved
    for callback in callbacks:
        callback()
    feed.refresh_from_db()
    assert (feed.status, feed.walmart_feed_id) == (Feed.Status.RECEIVED, "F1@AB")
    [upload] = walmart_calls(walmart_api, "POST")
    assert "feedType=MP_ITEM_MATCH" in upload.request.url
    assert b'"productId":"036000291452"' in upload.request.body


def test_match_payload_validates_against_walmarts_schema(walmart_store, walmart_api):
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = Path(settings.WALMART_API_SPECS_DIR) / "feed-json-schemas" / "MP_ITEM_MATCH_v4.json"
    if not schema_path.exists():
        pytest.skip(f"Walmart's feed schemas are not present at {schema_path}")
    ListingFactory(store=walmart_store, product=ProductFactory(upc="036000291452"))
    ListingFactory(store=walmart_store, product=ProductFactory(upc="", gtin="00012345600012", price=Decimal("0.10")))
    listings_match(store=walmart_store, listings=Listing.objects.all())
    jsonschema.validate(Feed.objects.get().payload, json.loads(schema_path.read_text()))


def test_match_without_mapping_changes_nothing(store):
    listing = ListingFactory(store=store)
    with pytest.raises(MatchNotConfigured, match="Channel Settings > Map Attributes"):
        listings_match(store=store, listings=Listing.objects.all())
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT
    assert Feed.objects.count() == 0


def test_match_refused_while_the_listings_sync_is_off(walmart_store):
    walmart_store.listings_enabled = False
    walmart_store.save()
    listing = ListingFactory(store=walmart_store)
    with pytest.raises(MatchNotConfigured, match="listings sync of store Main Walmart store is off"):
        listings_match(store=walmart_store, listings=Listing.objects.all())
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT
    assert Feed.objects.count() == 0


def test_match_splits_feeds_at_the_item_limit(walmart_store, walmart_api, monkeypatch):
    monkeypatch.setattr(services, "MATCH_FEED_MAX_ITEMS", 2)
    for _ in range(5):
        ListingFactory(store=walmart_store)
    result = listings_match(store=walmart_store, listings=Listing.objects.all())
    assert (result.submitted, result.feeds) == (5, 3)
    assert sorted(Feed.objects.values_list("item_count", flat=True)) == [1, 2, 2]
    assert Listing.objects.filter(status="processing").values("match_feed").distinct().count() == 3


def test_match_twice_sends_nothing_the_second_time(walmart_store, walmart_api):
    ListingFactory(store=walmart_store)
    listings_match(store=walmart_store, listings=Listing.objects.all())
    second = listings_match(store=walmart_store, listings=Listing.objects.all())
    assert (second.submitted, second.skipped) == (0, 1)
    assert Feed.objects.count() == 1


def test_walmart_refusing_the_feed_puts_listings_in_error(
    walmart_store, walmart_api, django_capture_on_commit_callbacks
):
    listing = ListingFactory(store=walmart_store)
    walmart_api.add(
        responses.POST,
        FEEDS,
        status=400,
        json={"errors": {"error": [{"code": "INVALID_REQUEST_CONTENT", "description": "The feed file is malformed"}]}},
    )
    with django_capture_on_commit_callbacks(execute=True):
        listings_match(store=walmart_store, listings=Listing.objects.all())
    feed = Feed.objects.get()
    assert (feed.status, feed.walmart_feed_id) == (Feed.Status.ERROR, None)
    listing.refresh_from_db()
    assert (listing.status, listing.error_description) == (
        Listing.Status.ERROR,
        "Walmart refused the match feed: The feed file is malformed",
    )
    assert len(walmart_calls(walmart_api, "POST")) == 1


def test_walmart_down_is_retried_with_a_cap_then_reported(walmart_store, walmart_api):
    from celery.exceptions import Retry

    from listings.tasks import SUBMIT_MAX_RETRIES, match_feed_submit_task

    listing = ListingFactory(store=walmart_store)
    walmart_api.add(responses.POST, FEEDS, status=503, body="")
    listings_match(store=walmart_store, listings=Listing.objects.all())
    feed = Feed.objects.get()
    # when the first attempt meets a 503, the task asks Celery to retry and nothing else changes
    with pytest.raises(Retry):
        match_feed_submit_task.apply(args=[feed.pk], throw=True)
    feed.refresh_from_db()
    listing.refresh_from_db()
    assert (feed.status, feed.walmart_feed_id, listing.status) == (Feed.Status.PENDING, None, "processing")
    # when the last allowed retry fails too, the feed and its listings go to Error
    match_feed_submit_task.apply(args=[feed.pk], retries=SUBMIT_MAX_RETRIES, throw=True)
    assert len(walmart_calls(walmart_api, "POST")) == 2
    feed.refresh_from_db()
    assert (feed.status, feed.walmart_feed_id) == (Feed.Status.ERROR, None)
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ERROR
    assert listing.error_description.startswith("Could not send for matching (Walmart unreachable or busy:")
    assert listing.error_description.endswith("Re-match to try again.")


def test_poll_applies_each_items_result(walmart_store, walmart_api):
    # given a submitted feed of three listings
    matched = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-1"))
    unknown = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-2", upc="012345678905"))
    unreported = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-3"))
    feed = submitted_feed(walmart_store, [matched, unknown, unreported])
    items = [
        {"sku": "A-1", "wpid": "5Q8KXXRB7Y0A", "index": 0, "ingestionStatus": "SUCCESS", "ingestionErrors": None},
        {
            "sku": "A-2",
            "index": 1,
            "ingestionStatus": "DATA_ERROR",
            "ingestionErrors": {
                "ingestionError": [
                    {
                        "type": "DATA_ERROR",
                        "code": "ERR_EXT_DATA_ITEM_NOT_FOUND",
                        "description": "No item in the Walmart catalog matches UPC '012345678905'.",
                    }
                ]
            },
        },
    ]
    url = re.compile(re.escape(FEEDS + "/F1%40AB"))
    walmart_api.add(responses.GET, url, json=feed_status_body("F1@AB", "PROCESSED", items))
    # when
    match_feed_poll(feed=feed)
    # then
    matched.refresh_from_db()
    unknown.refresh_from_db()
    unreported.refresh_from_db()
    assert (matched.status, matched.walmart_item_id, matched.error_description) == ("match", "5Q8KXXRB7Y0A", "")
    assert matched.last_synced_at is not None
    assert unknown.status == "error"
    assert unknown.error_description == (
        "No item in the Walmart catalog matches UPC '012345678905'. — No Walmart item has UPC 012345678905. "
        "Walmart adds your offer only to an item that already exists in its catalog: check the identifier on the "
        "product (a typo, or the code of another size or pack), or create the item in Seller Center (Add Items > "
        "Full item setup), then Re-match."
    )
    assert (unreported.status, unreported.error_description) == (
        "error",
        "Walmart processed match feed F1@AB but reported no result for this SKU. Re-match.",
    )
    feed.refresh_from_db()
    assert (feed.status, feed.items_received, feed.items_succeeded, feed.items_failed) == ("PROCESSED", 2, 1, 1)
    assert feed.completed_at is not None
    # and polling again asks Walmart nothing more and changes nothing
    calls = len(walmart_calls(walmart_api))
    match_feed_poll(feed=feed)
    assert len(walmart_calls(walmart_api)) == calls


def test_poll_of_a_store_not_live_stages_the_match(walmart_store, walmart_api):
    walmart_store.is_live = False
    walmart_store.save()
    listing = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-1"))
    feed = submitted_feed(walmart_store, [listing])
    items = [{"sku": "A-1", "wpid": "W1", "ingestionStatus": "SUCCESS"}]
    walmart_api.add(responses.GET, re.compile(re.escape(FEEDS)), json=feed_status_body("F1@AB", "PROCESSED", items))
    match_feed_poll(feed=feed)
    listing.refresh_from_db()
    assert (listing.status, listing.get_status_display()) == ("match_in_stage", "Match - Match in Stage")


def test_poll_while_walmart_is_still_processing_changes_no_listing(walmart_store, walmart_api):
    listing = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-1"))
    feed = submitted_feed(walmart_store, [listing])
    walmart_api.add(responses.GET, re.compile(re.escape(FEEDS)), json=feed_status_body("F1@AB", "INPROGRESS", []))
    match_feed_poll(feed=feed)
    listing.refresh_from_db()
    feed.refresh_from_db()
    assert listing.status == "processing"
    assert (feed.status, feed.completed_at) == ("INPROGRESS", None)
    assert len(walmart_calls(walmart_api)) == 1  # no item-details read yet


def test_listing_reset_while_processing_is_not_overwritten(walmart_store, walmart_api):
    listing = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-1"))
    feed = submitted_feed(walmart_store, [listing])
    services.listings_reset_to_draft(listings=Listing.objects.filter(pk=listing.pk))
    items = [{"sku": "A-1", "wpid": "W1", "ingestionStatus": "SUCCESS"}]
    walmart_api.add(responses.GET, re.compile(re.escape(FEEDS)), json=feed_status_body("F1@AB", "PROCESSED", items))
    match_feed_poll(feed=feed)
    listing.refresh_from_db()
    assert (listing.status, listing.match_feed_id, listing.walmart_item_id) == ("draft", None, "")


def test_feed_error_puts_every_processing_listing_in_error(walmart_store, walmart_api):
    listing = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-1"))
    feed = submitted_feed(walmart_store, [listing])
    body = feed_status_body("F1@AB", "ERROR", [])
    body["ingestionErrors"] = {
        "ingestionError": [
            {"type": "DATA_ERROR", "code": "ERR_EXT_DATA_0801002", "description": "MPItem must be a non-empty list."}
        ]
    }
    walmart_api.add(responses.GET, re.compile(re.escape(FEEDS)), json=body)
    match_feed_poll(feed=feed)
    listing.refresh_from_db()
    assert (listing.status, listing.error_description) == (
        "error",
        "Walmart could not process the match feed: MPItem must be a non-empty list.. Re-match to send it again.",
    )


def test_retire_calls_walmart_and_puts_the_listing_back_to_draft(walmart_store, walmart_api):
    listing = ListingFactory(
        store=walmart_store, product=ProductFactory(sku="A/1"), status=Listing.Status.MATCH, walmart_item_id="W1"
    )
    draft = ListingFactory(store=walmart_store)
    walmart_api.add(responses.DELETE, BASE + "/v3/items/A%2F1", json={"sku": "A/1", "message": "Thank you."})
    assert listings_retire(listings=Listing.objects.all()) == (1, 1)
    listing.refresh_from_db()
    assert (listing.status, listing.lifecycle_status, listing.published_status) == ("draft", "RETIRED", "UNPUBLISHED")
    assert listing.retired_at is not None
    assert [call.request.method for call in walmart_calls(walmart_api)] == ["DELETE"]
    draft.refresh_from_db()
    assert draft.lifecycle_status == ""


def test_reread_of_error_listings(walmart_store, walmart_api):
    found = ListingFactory(
        store=walmart_store, product=ProductFactory(sku="A-1"), status=Listing.Status.ERROR, error_description="x"
    )
    missing = ListingFactory(
        store=walmart_store,
        product=ProductFactory(sku="A-2"),
        status=Listing.Status.ERROR,
        error_description="No match",
    )
    walmart_api.add(
        responses.GET,
        BASE + "/v3/items/A-1",
        json={
            "ItemResponse": [{"sku": "A-1", "wpid": "W9", "publishedStatus": "PUBLISHED", "lifecycleStatus": "ACTIVE"}]
        },
    )
    walmart_api.add(responses.GET, BASE + "/v3/items/A-2", status=404, json={"errors": [{"code": "CONTENT_NOT_FOUND"}]})
    assert listings_reread(listings=Listing.objects.all()) == (1, 1)
    found.refresh_from_db()
    missing.refresh_from_db()
    assert (found.status, found.error_description, found.walmart_item_id) == ("match", "", "W9")
    assert (missing.status, missing.error_description) == ("error", "No match")


def test_reread_records_published_status_and_reasons(walmart_store, walmart_api):
    listing = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-1"), status=Listing.Status.MATCH)
    gone = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-2"), status=Listing.Status.MATCH)
    ListingFactory(store=walmart_store, product=ProductFactory(sku="A-3"))  # Draft: not read
    walmart_api.add(
        responses.GET,
        BASE + "/v3/items/A-1",
        json={
            "ItemResponse": [
                {
                    "sku": "A-1",
                    "wpid": "W1",
                    "publishedStatus": "UNPUBLISHED",
                    "lifecycleStatus": "ACTIVE",
                    "unpublishedReasons": {"reason": ["Price is too high compared to other sellers."]},
                }
            ],
            "totalItems": 1,
        },
    )
    walmart_api.add(
        responses.GET,
        BASE + "/v3/items/A-2",
        status=404,
        json={"errors": [{"code": "CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API", "description": "Item not found"}]},
    )
    assert listings_reread(listings=Listing.objects.all()) == (1, 1)
    listing.refresh_from_db()
    assert (listing.published_status, listing.lifecycle_status, listing.walmart_item_id) == (
        "UNPUBLISHED",
        "ACTIVE",
        "W1",
    )
    assert listing.unpublished_reasons == ["Price is too high compared to other sellers."]
    gone.refresh_from_db()
    assert (gone.status, gone.error_description) == (
        "error",
        "Walmart has no item with SKU A-2 (never matched, or retired). Re-match to offer it again.",
    )
    assert len(walmart_calls(walmart_api)) == 2


def test_retire_and_reread_from_the_listings_tab(
    operator_client, walmart_store, walmart_api, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    listing = ListingFactory(store=walmart_store, product=ProductFactory(sku="A-1"), status=Listing.Status.MATCH)
    walmart_api.add(responses.DELETE, BASE + "/v3/items/A-1", json={"sku": "A-1", "message": "Thank you."})
    url = reverse("listings:listing_action", args=[walmart_store.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url, {"action": "retire", "listing": [listing.pk]}, follow=True)
    assert "1 listing queued for retirement on Walmart." in response.content.decode()
    listing.refresh_from_db()
    assert (listing.status, listing.lifecycle_status) == ("draft", "RETIRED")
    # a Draft listing is not on Walmart: re-reading it asks Walmart nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url, {"action": "reread", "all_matching": "1"}, follow=True)
    assert "1 listing queued to be re-read from Walmart." in response.content.decode()
    assert [call.request.method for call in walmart_calls(walmart_api)] == ["DELETE"]
