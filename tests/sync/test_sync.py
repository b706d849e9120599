"""The sync engine against Walmart's API mocked at the HTTP boundary."""

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from django.utils import timezone
from responses import matchers

from channel_manager.models import Feed
from inventory.services import ReservationMove, reservations_apply, stock_set
from listings.models import Listing, Product
from pricing.models import PriceRule
from sync.models import ItemUpdate, StoreSyncSettings, SyncFailure, SyncState
from sync.services import feed_poll, sync_run
from tests.inventory.factories import listings_create

pytestmark = pytest.mark.django_db


def calls_to(walmart, method, path):
    return [c for c in walmart.calls if c.request.method == method and urlparse(c.request.url).path.endswith(path)]


def feed_body(call):
    """The JSON feed file of a multipart POST /v3/feeds."""
    body = call.request.body
    start = body.index(b"{")
    end = body.rindex(b"}") + 1
    return json.loads(body[start:end])


def inventory_put_ok(walmart, base_url):
    def answer(request):
        return 200, {}, request.body

    walmart.add_callback(responses.PUT, f"{base_url}/v3/inventory", callback=answer, content_type="application/json")


def feed_submit_ok(walmart, base_url, feed_id="FEED-1@AB"):
    """Walmart accepts feeds: the first gets `feed_id`, the next ones FEED-2@AB, FEED-3@AB..."""
    numbers = iter(range(2, 1000))

    def answer(request):
        given = feed_id if not walmart_feed_ids_used(walmart) else f"FEED-{next(numbers)}@AB"
        return 200, {}, json.dumps({"feedId": given})

    walmart.add_callback(responses.POST, f"{base_url}/v3/feeds", callback=answer, content_type="application/json")


def walmart_feed_ids_used(walmart):
    return Feed.objects.exclude(walmart_feed_id=None).exists()


def settings_for(store, **values):
    return StoreSyncSettings.objects.update_or_create(store=store, defaults=values)[0]


def test_quantity_to_zero_goes_as_a_single_update_before_the_feed(walmart, base_url, store, api_client):
    # given: 30 changed listings, one of which drops to zero; budget for one single call per run
    settings_for(store, single_calls_per_tick=1)
    listings = listings_create(store, 30, quantity=7, confirmed_quantity=8)
    zero = listings[17]
    Product.objects.filter(pk=zero.product_id).update(quantity=0)
    inventory_put_ok(walmart, base_url)
    feed_submit_ok(walmart, base_url)
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then: the zero went first, alone, then one feed with the 29 others
    writes = [c for c in walmart.calls if c.request.method in {"PUT", "POST"} and "/token" not in c.request.url]
    assert [c.request.method for c in writes] == ["PUT", "POST"]
    assert parse_qs(urlparse(writes[0].request.url).query)["sku"] == ["SKU-000017"]
    assert json.loads(writes[0].request.body) == {"sku": "SKU-000017", "quantity": {"unit": "EACH", "amount": 0}}
    payload = feed_body(writes[1])
    assert len(payload["Inventory"]) == 29
    assert "SKU-000017" not in {item["sku"] for item in payload["Inventory"]}
    assert (result.singles_sent, result.feeds_sent, result.feed_items) == (1, 1, 29)
    zero.refresh_from_db()
    assert zero.confirmed_quantity == 0
    assert zero.confirmed_quantity_at is not None
    update = ItemUpdate.objects.get()
    assert (update.sku, update.value, update.status) == ("SKU-000017", "0", ItemUpdate.Status.SUCCEEDED)
    feed = Feed.objects.get()
    assert (feed.feed_type, feed.status, feed.walmart_feed_id) == ("inventory", "RECEIVED", "FEED-1@AB")
    assert feed.item_count == 29
    assert feed.payload == payload
    # the feed's listings are not confirmed until Walmart has processed it
    assert Listing.objects.filter(confirmed_quantity=8).count() == 29


def test_ten_thousand_changes_become_one_feed_per_type_within_limits(walmart, base_url, store, api_client):
    # given: 10,000 matched listings whose quantity and price both changed
    listings_create(store, 10_000, quantity=3, confirmed_quantity=4, price="5.00", confirmed_price="6.00")
    feed_submit_ok(walmart, base_url)
    # when
    inventory = sync_run(store=store, stream="inventory", client=api_client)
    price = sync_run(store=store, stream="price", client=api_client)
    # then
    posts = calls_to(walmart, "POST", "/v3/feeds")
    assert [parse_qs(urlparse(c.request.url).query)["feedType"] for c in posts] == [["inventory"], ["price"]]
    assert (inventory.feeds_sent, inventory.feed_items, price.feeds_sent, price.feed_items) == (1, 10_000, 1, 10_000)
    assert len(feed_body(posts[0])["Inventory"]) == 10_000
    assert len(feed_body(posts[1])["Price"]) == 10_000
    assert len(posts[0].request.body) < 5 * 1024 * 1024
    assert len(posts[1].request.body) < 10 * 1000 * 1000
    assert calls_to(walmart, "PUT", "/v3/inventory") == []
    assert sorted(Feed.objects.values_list("feed_type", "item_count")) == [("inventory", 10_000), ("price", 10_000)]


def test_a_change_during_an_in_flight_feed_is_sent_by_the_next_run(walmart, base_url, store, api_client):
    # given: a feed in flight with 20 quantities of 5
    settings_for(store, single_calls_per_tick=3)
    listings = listings_create(store, 20, quantity=5, confirmed_quantity=9)
    feed_submit_ok(walmart, base_url)
    sync_run(store=store, stream="inventory", client=api_client)
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds/FEED-1%40AB",
        json={"feedId": "FEED-1@AB", "feedStatus": "INPROGRESS", "itemsReceived": 20, "itemsProcessing": 20},
    )
    inventory_put_ok(walmart, base_url)
    # when: one quantity changes again while the feed is processed, and the next run comes
    stock_set(product=listings[4].product, quantity=2, reason="manual", actor="alice")
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then: only the new value goes (as a single call); the 19 in flight are not resent
    puts = calls_to(walmart, "PUT", "/v3/inventory")
    assert [json.loads(c.request.body) for c in puts] == [
        {"sku": "SKU-000004", "quantity": {"unit": "EACH", "amount": 2}}
    ]
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 1
    assert (result.singles_sent, result.feeds_sent, result.plan["in_flight"]) == (1, 0, 19)
    assert Feed.objects.get().status == Feed.Status.INPROGRESS
    listings[4].refresh_from_db()
    assert listings[4].confirmed_quantity == 2


def feed_processed(walmart, base_url, feed_id, details, *, status="PROCESSED"):
    encoded = feed_id.replace("@", "%40")
    succeeded = sum(1 for d in details if d["ingestionStatus"] == "SUCCESS")
    summary = {
        "feedId": feed_id,
        "feedStatus": status,
        "itemsReceived": len(details),
        "itemsSucceeded": succeeded,
        "itemsFailed": len(details) - succeeded,
        "itemsProcessing": 0,
    }
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds/{encoded}",
        json=summary,
        match=[matchers.query_param_matcher({"includeDetails": "false"}, strict_match=False)],
    )
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds/{encoded}",
        json={**summary, "itemDetails": {"itemIngestionStatus": details}},
        match=[matchers.query_param_matcher({"includeDetails": "true"}, strict_match=False)],
    )


def test_per_item_feed_errors_land_on_the_right_listing(walmart, base_url, store, api_client):
    # given: a processed price feed: A and C succeeded, B refused
    settings_for(store, single_calls_per_tick=0)
    a, b, c = listings_create(store, 3, price="20.00", confirmed_price="10.00")
    feed_submit_ok(walmart, base_url, "PF-1")
    sync_run(store=store, stream="price", client=api_client)
    feed_processed(
        walmart,
        base_url,
        "PF-1",
        [
            {"sku": "SKU-000000", "ingestionStatus": "SUCCESS"},
            {
                "sku": "SKU-000001",
                "ingestionStatus": "DATA_ERROR",
                "ingestionErrors": {
                    "ingestionError": [{"type": "DATA_ERROR", "code": "ERR_PDI_0034", "description": "Price too high"}]
                },
            },
            {"sku": "SKU-000002", "ingestionStatus": "SUCCESS"},
        ],
    )
    # when
    assert feed_poll(feed=Feed.objects.get(), client=api_client) is True
    # then
    for listing in (a, b, c):
        listing.refresh_from_db()
    assert (a.confirmed_price, a.price_error) == (Decimal("20.00"), "")
    assert (c.confirmed_price, c.price_error) == (Decimal("20.00"), "")
    assert b.confirmed_price == Decimal("10.00")
    assert b.price_error == "Walmart refused 20.00: ERR_PDI_0034: Price too high"
    assert list(SyncFailure.objects.values_list("listing_id", "stream", "value")) == [(b.pk, "price", "20.00")]
    feed = Feed.objects.get()
    assert (feed.status, feed.items_succeeded, feed.items_failed) == ("PROCESSED", 2, 1)
    assert feed.completed_at is not None
    # and the refused value is not sent again by the next run (no retry storm)
    result = sync_run(store=store, stream="price", client=api_client)
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 1
    assert calls_to(walmart, "PUT", "/v3/price") == []
    assert (result.plan["changes"], result.plan["blocked"]) == (0, 1)


def test_a_single_call_429_delays_the_next_send_by_walmarts_wait(walmart, base_url, store, api_client):
    # given: Walmart answers 429 and asks for 120 s
    listings_create(store, 3, quantity=1, confirmed_quantity=2)
    walmart.add(
        responses.PUT,
        f"{base_url}/v3/inventory",
        status=429,
        headers={"Retry-After": "120"},
        json={"errors": {"error": [{"code": "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"}]}},
    )
    before = timezone.now()
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then: one call made, nothing else tried, the stream waits 120 s
    assert len(calls_to(walmart, "PUT", "/v3/inventory")) == 1
    assert result.rate_limited is True
    assert list(ItemUpdate.objects.order_by("id").values_list("status", flat=True)) == [
        "rate_limited",
        "not_sent",
        "not_sent",
    ]
    state = SyncState.objects.get(store=store, stream="inventory")
    assert before + timedelta(seconds=119) <= state.single_not_before <= timezone.now() + timedelta(seconds=121)
    assert Listing.objects.filter(confirmed_quantity=1).count() == 0
    # when: the next run comes within the wait
    feed_submit_ok(walmart, base_url)
    again = sync_run(store=store, stream="inventory", client=api_client)
    # then: no single call; the three go in one feed instead (a separate bucket)
    assert len(calls_to(walmart, "PUT", "/v3/inventory")) == 1
    assert (again.singles_sent, again.feeds_sent, again.feed_items) == (0, 1, 3)
    # when: the wait is over and a quantity changes again
    SyncState.objects.filter(pk=state.pk).update(single_not_before=timezone.now() - timedelta(seconds=1))
    walmart.replace(responses.PUT, f"{base_url}/v3/inventory", json={"sku": "SKU-000000"})
    walmart.add(responses.GET, f"{base_url}/v3/feeds/FEED-1%40AB", json={"feedStatus": "INPROGRESS"})
    stock_set(product=Product.objects.get(sku="SKU-000000"), quantity=0, reason="manual", actor="alice")
    final = sync_run(store=store, stream="inventory", client=api_client)
    # then: single calls resume
    puts = calls_to(walmart, "PUT", "/v3/inventory")
    assert len(puts) == 2
    assert json.loads(puts[1].request.body) == {"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 0}}
    assert final.singles_sent == 1


def test_a_feed_429_delays_the_next_feed_by_walmarts_wait(walmart, base_url, store, api_client):
    # given
    settings_for(store, single_calls_per_tick=0)
    listings_create(store, 5, quantity=1, confirmed_quantity=2)
    walmart.add(responses.POST, f"{base_url}/v3/feeds", status=429, headers={"Retry-After": "900"})
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then
    assert result.rate_limited is True
    feed = Feed.objects.get()
    assert (feed.status, feed.walmart_feed_id, feed.submitted_at) == ("ERROR", None, None)
    state = SyncState.objects.get(store=store, stream="inventory")
    assert state.feed_not_before >= timezone.now() + timedelta(seconds=890)
    # when: the next run comes within the wait
    sync_run(store=store, stream="inventory", client=api_client)
    # then: nothing more was sent
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 1
    assert Feed.objects.count() == 1


def test_feeds_are_spaced_by_the_sellers_limit(walmart, base_url, store, api_client):
    # given: a feed just went out (6 feeds per hour: one every 10 minutes)
    settings_for(store, single_calls_per_tick=0, feeds_per_hour=6)
    listings = listings_create(store, 5, quantity=1, confirmed_quantity=2)
    feed_submit_ok(walmart, base_url)
    sync_run(store=store, stream="inventory", client=api_client)
    walmart.add(responses.GET, f"{base_url}/v3/feeds/FEED-1%40AB", json={"feedStatus": "INPROGRESS"})
    stock_set(product=listings[0].product, quantity=0, reason="manual", actor="alice")
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then: no second feed within 10 minutes; the change waits
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 1
    assert (result.feeds_sent, result.waiting) == (0, 1)
    # when: 10 minutes have passed since the first feed
    Feed.objects.update(submitted_at=timezone.now() - timedelta(minutes=10, seconds=1))
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 2
    assert feed_body(calls_to(walmart, "POST", "/v3/feeds")[1])["Inventory"] == [
        {"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 0}}
    ]


def test_partner_profile_limits_override_the_settings(walmart_api, base_url, store, api_client):
    # given: Walmart says 2 inventory feeds per hour of at most 1 MB
    from sync.pacing import feed_limits_get
    from sync.selectors import sync_settings_get
    from sync.streams import stream_spec

    walmart_api.add(responses.POST, f"{base_url}/v3/token", json={"access_token": "t", "expires_in": 900})
    walmart_api.add(
        responses.GET,
        f"{base_url}/v3/settings/partnerprofile",
        json={
            "configurations": [
                {
                    "configurationName": "FEED",
                    "configuration": {
                        "values": [
                            {
                                "feedType": "inventory",
                                "throttleConfigurations": [
                                    {
                                        "type": "SELLER",
                                        "rate": {
                                            "count": 2,
                                            "replenishTimeWindow": {"value": 3600, "unitOfMeasurement": "SECOND"},
                                        },
                                        "fileSize": {"value": 1048576, "unitOfMeasurement": "BYTES"},
                                    }
                                ],
                            }
                        ]
                    },
                }
            ]
        },
    )
    # when
    sync_settings = sync_settings_get(store=store)
    inventory = feed_limits_get(
        store_id=store.pk, spec=stream_spec("inventory"), sync_settings=sync_settings, client=api_client
    )
    price = feed_limits_get(
        store_id=store.pk, spec=stream_spec("price"), sync_settings=sync_settings, client=api_client
    )
    # then: inventory from Walmart, price (not in the profile) from the settings; the profile is read once
    assert (inventory.count, inventory.window_seconds, inventory.max_bytes, inventory.source) == (
        2,
        3600,
        1048576,
        "partner_profile",
    )
    assert (price.count, price.window_seconds, price.max_bytes, price.source) == (6, 3600, 10_000_000, "settings")
    assert len(calls_to(walmart_api, "GET", "/v3/settings/partnerprofile")) == 1


def test_a_disabled_stream_sends_nothing_but_still_polls_its_feeds(walmart, base_url, store, api_client):
    # given: a feed in flight, then the operator switches the price stream off
    settings_for(store, single_calls_per_tick=0)
    listings_create(store, 2, price="12.00", confirmed_price="11.00")
    feed_submit_ok(walmart, base_url, "PF-9")
    sync_run(store=store, stream="price", client=api_client)
    store.price_enabled = False
    store.save()
    feed_processed(walmart, base_url, "PF-9", [{"sku": "SKU-000000", "ingestionStatus": "SUCCESS"}])
    Product.objects.update(price=Decimal("13.00"))
    # when
    result = sync_run(store=store, stream="price", client=api_client)
    # then
    assert result.status == "disabled"
    assert result.feeds_completed == 1
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 1
    assert calls_to(walmart, "PUT", "/v3/price") == []
    assert Listing.objects.get(product__sku="SKU-000000").confirmed_price == Decimal("12.00")


def test_price_rule_and_buffer_values_are_what_is_sent(walmart, base_url, store, api_client):
    # given: +10% and .99 endings; a buffer of 2 and a cap of 50
    PriceRule.objects.create(
        store=store, markup_type="percent", markup_value=Decimal("10"), price_ending=Decimal("0.99")
    )
    settings_for(store, safety_buffer=2, max_quantity=50)
    listings_create(store, 1, quantity=100, confirmed_quantity=None, price="20.00", confirmed_price=None)
    inventory_put_ok(walmart, base_url)
    walmart.add(responses.PUT, f"{base_url}/v3/price", json={"ItemPriceResponse": {"sku": "SKU-000000"}})
    # when
    sync_run(store=store, stream="inventory", client=api_client)
    sync_run(store=store, stream="price", client=api_client)
    # then
    assert json.loads(calls_to(walmart, "PUT", "/v3/inventory")[0].request.body)["quantity"]["amount"] == 50
    assert json.loads(calls_to(walmart, "PUT", "/v3/price")[0].request.body)["pricing"] == [
        {"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 22.99}}
    ]
    listing = Listing.objects.get()
    assert (listing.confirmed_quantity, listing.confirmed_price) == (50, Decimal("22.99"))


def test_the_stock_buffer_alone_is_taken_off_what_is_sent(walmart, base_url, store, api_client):
    # given: a buffer of 2 and no cap (a cap would hide the buffer)
    settings_for(store, safety_buffer=2, max_quantity=None)
    listings_create(store, 1, quantity=100, confirmed_quantity=None)
    inventory_put_ok(walmart, base_url)
    # when
    sync_run(store=store, stream="inventory", client=api_client)
    # then
    assert json.loads(calls_to(walmart, "PUT", "/v3/inventory")[0].request.body)["quantity"]["amount"] == 98
    assert Listing.objects.get().confirmed_quantity == 98


def test_what_is_sent_counts_the_stores_own_open_orders_but_not_other_stores(
    walmart, base_url, store, other_store, api_client
):
    # given: 10 in stock; 3 sold on this store and 2 on another, none shipped; a buffer of 1
    settings_for(store, safety_buffer=1, max_quantity=None)
    listing = listings_create(store, 1, quantity=10, confirmed_quantity=None)[0]
    reservations_apply(store_id=store.pk, moves=[ReservationMove(listing.product_id, reserved=3)], actor="poll")
    reservations_apply(store_id=other_store.pk, moves=[ReservationMove(listing.product_id, reserved=2)], actor="poll")
    inventory_put_ok(walmart, base_url)
    # when
    sync_run(store=store, stream="inventory", client=api_client)
    # then: inputQty = available 5 + this store's 3 sold-not-shipped - buffer 1, so Walmart shows 4 to sell
    assert json.loads(calls_to(walmart, "PUT", "/v3/inventory")[0].request.body)["quantity"]["amount"] == 7


def test_a_single_call_data_error_marks_the_listing_and_is_not_retried(walmart, base_url, store, api_client):
    # given
    listing = listings_create(store, 1, price="15.00", confirmed_price="14.00")[0]
    walmart.add(
        responses.PUT,
        f"{base_url}/v3/price",
        status=400,
        json={"errors": {"error": [{"code": "INVALID_REQUEST_CONTENT", "description": "SKU is not published"}]}},
    )
    # when
    first = sync_run(store=store, stream="price", client=api_client)
    second = sync_run(store=store, stream="price", client=api_client)
    # then
    listing.refresh_from_db()
    assert listing.price_error == "INVALID_REQUEST_CONTENT: SKU is not published"
    assert listing.confirmed_price == Decimal("14.00")
    assert (first.singles_failed, second.singles_sent, second.singles_failed) == (1, 0, 0)
    assert len(calls_to(walmart, "PUT", "/v3/price")) == 1
    assert ItemUpdate.objects.get().status == ItemUpdate.Status.FAILED


def test_a_whole_feed_error_marks_its_listings_and_they_are_planned_again(walmart, base_url, store, api_client):
    # given: a price feed Walmart rejected as a whole
    settings_for(store, single_calls_per_tick=0)
    first, second = listings_create(store, 2, price="20.00", confirmed_price="10.00")
    feed_submit_ok(walmart, base_url, "PF-2")
    sync_run(store=store, stream="price", client=api_client)
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds/PF-2",
        json={
            "feedId": "PF-2",
            "feedStatus": "ERROR",
            "itemsReceived": 0,
            "itemsProcessing": 0,
            "ingestionErrors": {
                "ingestionError": [{"type": "DATA_ERROR", "code": "ERR_EXT_DATA_0801003", "description": "Bad header"}]
            },
        },
    )
    # when
    assert feed_poll(feed=Feed.objects.get(), client=api_client) is True
    # then
    feed = Feed.objects.get()
    assert (feed.status, feed.error) == ("ERROR", "ERR_EXT_DATA_0801003: Bad header")
    for listing in (first, second):
        listing.refresh_from_db()
        assert listing.confirmed_price == Decimal("10.00")
        assert listing.price_error == "Feed PF-2 failed: ERR_EXT_DATA_0801003: Bad header (will retry)"
    assert not SyncFailure.objects.exists()
    # and the next feed slot sends them again
    Feed.objects.update(submitted_at=timezone.now() - timedelta(hours=1))
    again = sync_run(store=store, stream="price", client=api_client)
    assert (again.feeds_sent, again.feed_items) == (1, 2)


def test_a_feed_never_acknowledged_is_closed_and_its_items_planned_again(walmart, base_url, store, api_client):
    # given: a feed row left PENDING (the worker died while sending) 11 minutes ago
    settings_for(store, single_calls_per_tick=0)
    listings_create(store, 1, quantity=3, confirmed_quantity=4)
    Feed.objects.create(
        store=store,
        feed_type="inventory",
        item_count=1,
        payload={
            "InventoryHeader": {"version": "1.4"},
            "Inventory": [{"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 3}}],
        },
    )
    Feed.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    feed_submit_ok(walmart, base_url, "F-NEW")
    # and Walmart's feed list (read back) holds no feed of that time
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds",
        json={"totalResults": 0, "results": {"feed": []}},
        match=[matchers.query_param_matcher({"offset": "0", "limit": "50"})],
    )
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then
    assert list(Feed.objects.order_by("id").values_list("status", "walmart_feed_id")) == [
        ("ERROR", None),
        ("RECEIVED", "F-NEW"),
    ]
    assert Feed.objects.order_by("id").first().error.startswith("Not on Walmart's feed list")
    assert (result.feeds_sent, result.feed_items) == (1, 1)


def test_a_feed_whose_answer_was_lost_is_found_on_walmarts_list_and_polled(walmart, base_url, store, api_client):
    # given: a feed row left PENDING 3 minutes ago (Walmart took the upload; its answer never got stored)
    settings_for(store, single_calls_per_tick=0)
    listings_create(store, 1, quantity=3, confirmed_quantity=4)
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 3}}],
    }
    feed = Feed.objects.create(store=store, feed_type="inventory", item_count=1, payload=payload)
    marked = timezone.now() - timedelta(minutes=3)
    Feed.objects.update(created_at=marked)
    received_ms = int((marked + timedelta(seconds=1)).timestamp() * 1000)
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds",
        json={
            "totalResults": 2,
            "results": {
                "feed": [
                    {
                        "feedId": "F-PRICE",
                        "feedType": "price",
                        "feedStatus": "RECEIVED",
                        "itemsReceived": 1,
                        "feedDate": received_ms,
                    },
                    {
                        "feedId": "F-LOST",
                        "feedType": "inventory",
                        "feedStatus": "PROCESSED",
                        "itemsReceived": 1,
                        "feedDate": received_ms,
                    },
                ]
            },
        },
    )
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds/F-LOST",
        json={
            "feedId": "F-LOST",
            "feedStatus": "PROCESSED",
            "itemsReceived": 1,
            "itemsSucceeded": 1,
            "itemDetails": {"itemIngestionStatus": [{"sku": "SKU-000000", "ingestionStatus": "SUCCESS"}]},
        },
    )
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then: the row took Walmart's feed id, was polled, and its value confirmed; nothing was uploaded again
    feed.refresh_from_db()
    assert (feed.walmart_feed_id, feed.status) == ("F-LOST", "PROCESSED")
    assert Listing.objects.get().confirmed_quantity == 3
    assert calls_to(walmart, "POST", "/v3/feeds") == []
    assert (result.feeds_completed, result.feeds_sent) == (1, 0)


def test_reconciliation_skips_values_in_flight_and_flags_the_rest(walmart, base_url, store, api_client):
    # given: Walmart shows 9 for A (a feed with 7 is in flight) and 9 for B (confirmed 4); C is unknown to it
    from sync.services import sync_reconcile

    a, b, c = listings_create(store, 3, quantity=4, confirmed_quantity=4)
    Feed.objects.create(
        store=store,
        feed_type="inventory",
        walmart_feed_id="F-OPEN",
        status="INPROGRESS",
        payload={
            "InventoryHeader": {"version": "1.4"},
            "Inventory": [{"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 7}}],
        },
    )
    walmart.add(
        responses.GET,
        f"{base_url}/v3/inventories",
        json={
            "meta": {"totalCount": 2},
            "elements": {
                "inventories": [
                    {"sku": "SKU-000000", "nodes": [{"shipNode": "1", "inputQty": {"unit": "EACH", "amount": 9}}]},
                    {"sku": "SKU-000001", "nodes": [{"shipNode": "1", "inputQty": {"unit": "EACH", "amount": 9}}]},
                ]
            },
        },
    )
    store.inventory_enabled = False  # no run afterwards in this test
    store.save()
    # when
    result = sync_reconcile(store=store, stream="inventory", client=api_client)
    # then
    assert (result.checked, result.drifted, result.missing_on_walmart, result.skipped_in_flight) == (3, 2, 1, 1)
    for listing in (a, b, c):
        listing.refresh_from_db()
    assert (a.confirmed_quantity, a.inventory_drift_at) == (4, None)
    assert b.confirmed_quantity == 9
    assert b.inventory_drift_at is not None
    assert (c.confirmed_quantity, c.confirmed_quantity_at) == (None, None)
    assert c.inventory_drift_at is not None
    state = SyncState.objects.get(store=store, stream="inventory")
    assert state.last_reconcile_summary["drifted"] == 2


def test_a_store_whose_secret_cannot_be_read_records_the_error_and_sends_nothing(walmart, store):
    # given
    listings_create(store, 1, quantity=1, confirmed_quantity=2)
    type(store).objects.filter(pk=store.pk).update(client_secret_encrypted="not-a-fernet-token")
    store.refresh_from_db()
    # when
    result = sync_run(store=store, stream="inventory")
    # then
    assert (result.status, result.error) == ("error", "No Walmart client: SecretDecryptionError")
    assert SyncState.objects.get(store=store, stream="inventory").last_error == result.error
    assert [c.request.method for c in walmart.calls] == []
    assert not ItemUpdate.objects.exists()


def test_a_refused_feed_is_not_resent_before_the_next_feed_slot(walmart, base_url, store, api_client):
    # given: Walmart refuses the feed file (413)
    settings_for(store, single_calls_per_tick=0, feeds_per_hour=6)
    listings_create(store, 3, quantity=1, confirmed_quantity=2)
    walmart.add(
        responses.POST,
        f"{base_url}/v3/feeds",
        status=413,
        json={"errors": {"error": [{"code": "REQUEST_ENTITY_TOO_LARGE.GMP_GATEWAY_API"}]}},
    )
    # when: two runs a minute apart
    first = sync_run(store=store, stream="inventory", client=api_client)
    second = sync_run(store=store, stream="inventory", client=api_client)
    # then: one attempt only; the stream waits one feed spacing (10 minutes)
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 1
    assert first.error == "Inventory feed: REQUEST_ENTITY_TOO_LARGE.GMP_GATEWAY_API"
    assert (second.feeds_sent, second.waiting) == (0, 3)
    state = SyncState.objects.get(store=store, stream="inventory")
    assert state.feed_not_before >= timezone.now() + timedelta(minutes=9)
    assert list(Feed.objects.values_list("status", "walmart_feed_id")) == [("ERROR", None)]


def test_a_feed_answered_5xx_is_read_back_from_walmarts_feed_list_instead_of_waiting_a_feed_slot(
    walmart, base_url, store, api_client
):
    # given: Walmart answers the upload 500 (it may or may not have taken it); 6 feeds an hour (10 min apart)
    settings_for(store, single_calls_per_tick=0, feeds_per_hour=6)
    listings_create(store, 3, quantity=1, confirmed_quantity=2)
    walmart.add(responses.POST, f"{base_url}/v3/feeds", status=500, json={"errors": [{"code": "SYSTEM_ERROR"}]})
    # when
    first = sync_run(store=store, stream="inventory", client=api_client)
    second = sync_run(store=store, stream="inventory", client=api_client)
    # then: the row stays in flight (its items are not sent again meanwhile)
    assert first.error == "Inventory feed: SYSTEM_ERROR"
    feed = Feed.objects.get()
    assert (feed.status, feed.walmart_feed_id, feed.submitted_at is not None) == ("PENDING", None, True)
    assert (second.feeds_sent, second.plan["in_flight"]) == (0, 3)
    assert len(calls_to(walmart, "POST", "/v3/feeds")) == 1
    # when: its deadline passes; Walmart's feed list shows no such upload; Walmart takes the next one
    Feed.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    walmart.add(
        responses.GET,
        f"{base_url}/v3/feeds",
        json={"totalResults": 0, "results": {"feed": []}},
        match=[matchers.query_param_matcher({"offset": "0", "limit": "50"})],
    )
    walmart.replace(responses.POST, f"{base_url}/v3/feeds", json={"feedId": "F-AGAIN"})
    third = sync_run(store=store, stream="inventory", client=api_client)
    # then: closed as never received, and its items sent at once (no feed slot was spent on it)
    assert third.feeds_sent == 1
    assert list(Feed.objects.order_by("id").values_list("status", "walmart_feed_id", "item_count")) == [
        ("ERROR", None, 3),
        ("RECEIVED", "F-AGAIN", 3),
    ]


def test_a_feed_walmart_does_not_know_is_closed_and_the_other_feeds_still_polled(walmart, base_url, store, api_client):
    # given: two open feeds; Walmart answers 404 for the first, PROCESSED for the second
    listing = listings_create(store, 1, quantity=3, confirmed_quantity=4)[0]
    payload = {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [{"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 3}}],
    }
    Feed.objects.create(store=store, feed_type="inventory", walmart_feed_id="LOST", status="RECEIVED", payload=payload)
    Feed.objects.create(store=store, feed_type="inventory", walmart_feed_id="OK-1", status="RECEIVED", payload=payload)
    walmart.add(
        responses.GET, f"{base_url}/v3/feeds/LOST", status=404, json={"errors": [{"code": "CONTENT_NOT_FOUND"}]}
    )
    feed_processed(walmart, base_url, "OK-1", [{"sku": "SKU-000000", "ingestionStatus": "SUCCESS"}])
    store.inventory_enabled = False
    store.save()
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then
    assert result.feeds_completed == 1
    assert dict(Feed.objects.values_list("walmart_feed_id", "status")) == {"LOST": "ERROR", "OK-1": "PROCESSED"}
    assert Feed.objects.get(walmart_feed_id="LOST").error == "Unknown to Walmart: CONTENT_NOT_FOUND"
    listing.refresh_from_db()
    assert listing.confirmed_quantity == 3


def inventories_page(skus_and_amounts, next_cursor=None):
    body = {
        "meta": {"totalCount": 3, **({"nextCursor": next_cursor} if next_cursor else {})},
        "elements": {
            "inventories": [
                {"sku": sku, "nodes": [{"shipNode": "1", "inputQty": {"unit": "EACH", "amount": amount}}]}
                for sku, amount in skus_and_amounts
            ]
        },
    }
    return body


def test_reconciliation_stopped_by_a_429_resumes_where_it_was_without_waiting(walmart, base_url, store):
    # given: three listings confirmed at 4; Walmart lists A at 4 on page 1, answers 429 (wait 40 s) for page 2,
    # then lists B at 6 on page 2; it does not know C
    from sync.services import sync_reconcile
    from walmart_client import WalmartClient

    a, b, c = listings_create(store, 3, quantity=4, confirmed_quantity=4)
    store.inventory_enabled = False
    store.save()

    def never_sleep(seconds):
        raise AssertionError(f"the reconciliation slept {seconds} s")

    client = WalmartClient(
        base_url=base_url,
        client_id=store.client_id,
        client_secret=store.client_secret,
        max_retries=0,
        max_rate_limit_wait=0,
        sleep=never_sleep,
    )
    url = f"{base_url}/v3/inventories"
    walmart.add(
        responses.GET,
        url,
        json=inventories_page([("SKU-000000", 4)], "P2"),
        match=[matchers.query_param_matcher({"limit": "50"})],
    )
    walmart.add(
        responses.GET,
        url,
        status=429,
        headers={"Retry-After": "40"},
        json={"errors": {"error": [{"code": "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"}]}},
        match=[matchers.query_param_matcher({"limit": "50", "nextCursor": "P2"})],
    )
    # when
    first = sync_reconcile(store=store, stream="inventory", client=client)
    # then: the slice stops, keeps its place, and says when to go on (the task queues itself then)
    assert (first.status, first.resume_after, first.pages, first.checked, first.drifted) == ("continues", 40.0, 1, 1, 0)
    state = SyncState.objects.get(store=store, stream="inventory")
    assert state.reconcile_progress["cursor"] == "P2"
    assert state.last_reconciled_at is None
    # when: Walmart's wait is over
    walmart.replace(
        responses.GET,
        url,
        json=inventories_page([("SKU-000001", 6)]),
        match=[matchers.query_param_matcher({"limit": "50", "nextCursor": "P2"})],
    )
    second = sync_reconcile(store=store, stream="inventory", client=client)
    # then: the pass completes from page 2: B drifted to 6, C (never listed) is missing, A is fine
    assert (second.status, second.pages, second.checked, second.drifted, second.missing_on_walmart) == (
        "done",
        2,
        3,
        2,
        1,
    )
    assert [c.request.url.split("?", 1)[1] for c in calls_to(walmart, "GET", "/v3/inventories")] == [
        "limit=50",
        "limit=50&nextCursor=P2",
        "limit=50&nextCursor=P2",
    ]
    for listing in (a, b, c):
        listing.refresh_from_db()
    assert (a.confirmed_quantity, b.confirmed_quantity, c.confirmed_quantity) == (4, 6, None)
    state.refresh_from_db()
    assert state.reconcile_progress == {}
    assert state.last_reconcile_summary["drifted"] == 2
