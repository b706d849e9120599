"""Feeds, items, inventory, prices, returns, notifications: paging rules and refusals before sending."""

from __future__ import annotations

import gc
import json
import threading
from decimal import Decimal

import pytest
import responses

from tests.walmart_client.conftest import BASE_URL, calls_to
from walmart_client import ReturnRefundLine, WalmartNotFound, WalmartPayloadTooLarge, split_feed_items
from walmart_client.gc_pause import gc_paused
from walmart_client.resources.feeds import (
    feed_item_count,
    inventory_feed_payload,
    lagtime_feed_payload,
    price_feed_payload,
)
from walmart_client.resources.notifications import build_event

FEED_ID = "F129C19240844B97A3C6AD8F1A2C4997@AU8BAQA"
FEED_URL = BASE_URL + "/v3/feeds/F129C19240844B97A3C6AD8F1A2C4997%40AU8BAQA"


# -------------------------------------------------------------------------------------------- feeds


def test_feed_over_10000_items_is_refused_without_sending(api, client):
    payload = inventory_feed_payload({f"SKU-{i}": 1 for i in range(10_001)})
    with pytest.raises(ValueError, match="10001 items; Walmart accepts at most 10000"):
        client.feeds.submit(feed_type="inventory", payload=payload)
    assert len(api.calls) == 0  # not even a token call


def test_feed_of_exactly_10000_items_is_sent(api, client):
    api.add(responses.POST, BASE_URL + "/v3/feeds", json={"feedId": "F-1"})
    payload = inventory_feed_payload({f"SKU-{i}": 1 for i in range(10_000)})
    assert client.feeds.submit(feed_type="inventory", payload=payload).feed_id == "F-1"
    assert len(calls_to(api, "/v3/feeds")) == 1


def test_split_feed_items_keeps_order_and_sizes():
    items = list(range(25_001))
    chunks = split_feed_items(items)
    assert [len(c) for c in chunks] == [10_000, 10_000, 5_001]
    assert [x for chunk in chunks for x in chunk] == items
    assert split_feed_items([1, 2, 3], max_items=2) == [[1, 2], [3]]
    assert split_feed_items([]) == []
    with pytest.raises(ValueError, match="at least 1"):
        split_feed_items([1], max_items=0)


def test_feed_item_count_finds_the_item_list():
    assert feed_item_count({"MPItemFeedHeader": {}, "MPItem": [1, 2]}) == 2
    assert feed_item_count({"PriceHeader": {}, "Price": [1]}) == 1
    assert feed_item_count({"lagTimeHeader": {}, "lagTime": [1, 2, 3]}) == 3
    with pytest.raises(ValueError, match="no item list"):
        feed_item_count({"header": {}})


def test_empty_feed_is_refused(api, client):
    with pytest.raises(ValueError, match="has no items"):
        client.feeds.submit(feed_type="MP_ITEM_MATCH", payload={"MPItemFeedHeader": {}, "MPItem": []})
    assert len(api.calls) == 0


def test_feed_upload_is_multipart_with_a_file_part_and_feed_type(api, client):
    # given
    api.add(responses.POST, BASE_URL + "/v3/feeds", json={"feedId": FEED_ID})
    payload = {"MPItemFeedHeader": {"version": "4.2"}, "MPItem": [{"Item": {"sku": "A", "price": Decimal("9.99")}}]}
    # when
    ack = client.feeds.submit(feed_type="MP_ITEM_MATCH", payload=payload)
    # then
    request = calls_to(api, "/v3/feeds")[0].request
    assert request.url == BASE_URL + "/v3/feeds?feedType=MP_ITEM_MATCH"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'Content-Disposition: form-data; name="file"; filename="feed.json"' in request.body
    assert b'{"MPItemFeedHeader":{"version":"4.2"},"MPItem":[{"Item":{"sku":"A","price":9.99}}]}' in request.body
    assert ack.feed_id == FEED_ID
    assert ack.correlation_id == request.headers["WM_QOS.CORRELATION_ID"]


def test_feed_upload_over_the_size_limit_is_a_typed_error_sent_once(api, client):
    api.add(responses.POST, BASE_URL + "/v3/feeds", status=413, json={"errors": [{"code": "PAYLOAD_TOO_LARGE"}]})
    with pytest.raises(WalmartPayloadTooLarge):
        client.feeds.submit(feed_type="price", payload=price_feed_payload({"A": Decimal("1.00")}))
    assert len(calls_to(api, "/v3/feeds")) == 1


def test_feed_upload_after_a_5xx_is_not_resent(api, client):
    api.add(responses.POST, BASE_URL + "/v3/feeds", status=502)
    with pytest.raises(Exception, match="HTTP 502"):  # WalmartServerError, matched by text
        client.feeds.submit(feed_type="price", payload=price_feed_payload({"A": Decimal("1.00")}))
    assert len(calls_to(api, "/v3/feeds")) == 1


def test_feed_item_results_page_with_offset_until_items_received(api, client):
    # given 3 items, pages of 2
    def status_page(offset: int, skus: list[str]) -> dict:
        return {
            "feedId": FEED_ID,
            "feedStatus": "PROCESSED",
            "itemsReceived": 3,
            "itemsSucceeded": 2,
            "itemsFailed": 1,
            "itemsProcessing": 0,
            "offset": offset,
            "limit": 2,
            "itemDetails": {
                "itemIngestionStatus": [
                    {
                        "sku": sku,
                        "ingestionStatus": "DATA_ERROR" if sku == "C" else "SUCCESS",
                        "ingestionErrors": {
                            "ingestionError": [
                                {"type": "DATA_ERROR", "code": "ERR_EXT_DATA_0101", "description": "bad"}
                            ]
                            if sku == "C"
                            else []
                        },
                    }
                    for sku in skus
                ]
            },
        }

    api.add(responses.GET, FEED_URL, json=status_page(0, ["A", "B"]))
    api.add(responses.GET, FEED_URL, json=status_page(2, ["C"]))
    # when
    results = list(client.feeds.iter_item_results(FEED_ID, page_size=2))
    # then
    assert [(r.sku, r.status, r.succeeded) for r in results] == [
        ("A", "SUCCESS", True),
        ("B", "SUCCESS", True),
        ("C", "DATA_ERROR", False),
    ]
    assert [(e.code, e.description, e.category) for e in results[2].errors] == [
        ("ERR_EXT_DATA_0101", "bad", "DATA_ERROR")
    ]
    assert [c.request.url for c in calls_to(api, "/v3/feeds/F129C19240844B97A3C6AD8F1A2C4997%40AU8BAQA")] == [
        FEED_URL + "?includeDetails=true&offset=0&limit=2",
        FEED_URL + "?includeDetails=true&offset=2&limit=2",
    ]


def test_feed_status_limit_over_50_is_refused(api, client):
    with pytest.raises(ValueError, match="between 1 and 50"):
        client.feeds.status(FEED_ID, limit=51)
    assert len(api.calls) == 0


def test_feed_list_pages_by_offset(api, client):
    feed = {
        "feedId": "F",
        "feedType": "price",
        "feedStatus": "PROCESSED",
        "itemsReceived": 1,
        "feedDate": 1568310803059,
    }
    api.add(
        responses.GET,
        BASE_URL + "/v3/feeds",
        json={"totalResults": 3, "offset": 0, "limit": 2, "results": {"feed": [feed, feed]}},
    )
    api.add(
        responses.GET,
        BASE_URL + "/v3/feeds",
        json={"totalResults": 3, "offset": 2, "limit": 2, "results": {"feed": [feed]}},
    )
    feeds = list(client.feeds.iter_all(page_size=2))
    assert len(feeds) == 3
    assert [c.request.url for c in calls_to(api, "/v3/feeds")] == [
        BASE_URL + "/v3/feeds?offset=0&limit=2",
        BASE_URL + "/v3/feeds?offset=2&limit=2",
    ]


def test_feed_payload_builders_refuse_bad_values():
    with pytest.raises(ValueError, match="appears twice"):
        inventory_feed_payload([("A", 1), ("A", 2)])
    with pytest.raises(ValueError, match="zero or more"):
        inventory_feed_payload({"A": -1})
    with pytest.raises(ValueError, match="more than two decimals"):
        price_feed_payload({"A": Decimal("1.999")})
    with pytest.raises(ValueError, match="must be positive"):
        price_feed_payload({"A": Decimal("0")})
    with pytest.raises(ValueError, match="whole number"):
        lagtime_feed_payload({"A": 1.5})
    assert lagtime_feed_payload({"A": 0}) == {
        "lagTimeHeader": {"version": "1.0"},
        "lagTime": [{"sku": "A", "fulfillmentLagTime": 0}],
    }


# -------------------------------------------------------------------------------------------- items


def test_items_start_with_star_cursor_and_echo_each_next_cursor(api, client):
    item = {"sku": "A", "productName": "A", "price": {"currency": "USD", "amount": 1}}
    api.add(
        responses.GET, BASE_URL + "/v3/items", json={"ItemResponse": [item], "totalItems": 2, "nextCursor": "AoE/GjE0"}
    )
    api.add(responses.GET, BASE_URL + "/v3/items", json={"ItemResponse": [dict(item, sku="B")], "totalItems": 2})
    items = list(client.items.iter_all(published_status="PUBLISHED", page_size=1))
    assert [i.sku for i in items] == ["A", "B"]
    assert [c.request.url for c in calls_to(api, "/v3/items")] == [
        BASE_URL + "/v3/items?publishedStatus=PUBLISHED&nextCursor=%2A&limit=1",
        BASE_URL + "/v3/items?publishedStatus=PUBLISHED&nextCursor=AoE%2FGjE0&limit=1",
    ]


def test_item_get_accepts_the_schema_shape_too(api, client):
    api.add(responses.GET, BASE_URL + "/v3/items/A%2F1", json={"responseRecord": {"sku": "A/1", "wpid": "W1"}})
    item = client.items.get("A/1")
    assert (item.sku, item.wpid) == ("A/1", "W1")
    assert calls_to(api, "/v3/items/A%2F1")[0].request.url.endswith("?productIdType=SKU")


def test_item_get_of_an_unknown_sku_raises_not_found(api, client):
    api.add(
        responses.GET,
        BASE_URL + "/v3/items/NOPE",
        status=404,
        json={"errors": [{"code": "CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API"}]},
    )
    with pytest.raises(WalmartNotFound):
        client.items.get("NOPE")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"upc": "123", "gtin": "00000000000123"}, "exactly one"),
        ({"upc": "12345678901"}, "upc must have 12 digits"),
        ({"gtin": "0036382458716A"}, "gtin must be digits"),
        ({"ean": "123"}, "ean must have 13 digits"),
    ],
)
def test_catalog_search_refuses_bad_identifiers_without_sending(api, client, kwargs, message):
    with pytest.raises(ValueError, match=message):
        client.items.search(**kwargs)
    assert len(api.calls) == 0


def test_catalog_search_with_no_match_is_an_empty_list(api, client):
    api.add(responses.GET, BASE_URL + "/v3/items/walmart/search", json={})
    assert client.items.search(ean="4006381333931") == []
    assert calls_to(api, "/v3/items/walmart/search")[0].request.url.endswith("?ean=4006381333931")


# ---------------------------------------------------------------------------------------- inventory


def test_inventories_follow_the_newest_cursor_each_page(api, client):
    node = {"shipNode": "N1", "inputQty": {"unit": "EACH", "amount": 5}}
    api.add(
        responses.GET,
        BASE_URL + "/v3/inventories",
        json={"meta": {"nextCursor": "c1"}, "elements": {"inventories": [{"sku": "A", "nodes": [node]}]}},
    )
    api.add(
        responses.GET,
        BASE_URL + "/v3/inventories",
        json={"meta": {"nextCursor": "c2"}, "elements": {"inventories": [{"sku": "B", "nodes": [node]}]}},
    )
    api.add(responses.GET, BASE_URL + "/v3/inventories", json={"meta": {}, "elements": {"inventories": []}})
    assert [(i.sku, i.quantity) for i in client.inventory.iter_all()] == [("A", 5), ("B", 5)]
    assert [c.request.url.split("?")[1] for c in calls_to(api, "/v3/inventories")] == [
        "limit=50",
        "limit=50&nextCursor=c1",
        "limit=50&nextCursor=c2",
    ]


def test_inventory_update_refuses_a_negative_quantity(api, client):
    with pytest.raises(ValueError, match="zero or more"):
        client.inventory.update("A", -1)
    with pytest.raises(ValueError, match="whole number"):
        client.inventory.update("A", True)
    assert len(api.calls) == 0


def test_inventory_sku_is_url_encoded_in_the_query(api, client):
    api.add(
        responses.PUT, BASE_URL + "/v3/inventory", json={"sku": "A&B #1", "quantity": {"unit": "EACH", "amount": 0}}
    )
    result = client.inventory.update("A&B #1", 0)
    assert result.quantity == 0
    assert calls_to(api, "/v3/inventory")[0].request.url == BASE_URL + "/v3/inventory?sku=A%26B+%231"


# -------------------------------------------------------------------------------------------- price


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("10.001"), "more than two decimals"),
        ("10.999", "more than two decimals"),
        (10.5, "not a float"),
        (Decimal("0"), "must be positive"),
        (Decimal("NaN"), "finite"),
        ("ten", "not a number"),
    ],
)
def test_price_update_refuses_bad_amounts_without_sending(api, client, amount, message):
    with pytest.raises(ValueError, match=message):
        client.prices.update("A", amount)
    assert len(api.calls) == 0


def test_price_update_accepts_trailing_zeros(api, client):
    api.add(responses.PUT, BASE_URL + "/v3/price", json={"sku": "A", "message": "ok"})
    client.prices.update("A", Decimal("12.500"), currency="CAD")
    body = json.loads(calls_to(api, "/v3/price")[0].request.body)
    assert body["pricing"][0]["currentPrice"] == {"currency": "CAD", "amount": 12.5}


# ------------------------------------------------------------------------------------------ returns


def test_returns_404_is_an_empty_list(api, client):
    api.add(responses.GET, BASE_URL + "/v3/returns", status=404, json={"errors": [{"code": "CONTENT_NOT_FOUND"}]})
    assert list(client.returns.iter_all()) == []
    assert len(calls_to(api, "/v3/returns")) == 1


def test_returns_stop_on_a_repeated_cursor(api, client):
    # given Walmart hands back the same cursor on every page
    def page(return_order_id: str) -> dict:
        return {
            "meta": {"totalCount": 9, "limit": 1, "nextCursor": "?limit=1&nextCursor=SAME"},
            "returnOrders": [{"returnOrderId": return_order_id, "customerOrderId": "C1", "returnOrderLines": []}],
        }

    api.add(responses.GET, BASE_URL + "/v3/returns", json=page("R1"))
    api.add(responses.GET, BASE_URL + "/v3/returns", json=page("R2"))
    api.add(responses.GET, BASE_URL + "/v3/returns", json=page("R3"))
    # when
    returns = [found.return_order_id for found in client.returns.iter_all(limit=1)]
    # then the first page and the one the cursor names, then it stops
    assert returns == ["R1", "R2"]
    assert len(calls_to(api, "/v3/returns")) == 2


def test_return_refund_refuses_an_empty_or_zero_quantity(api, client):
    with pytest.raises(ValueError, match="at least one line"):
        client.returns.refund("R1", customer_order_id="C1", lines=[])
    with pytest.raises(ValueError, match="must be positive"):
        client.returns.refund(
            "R1", customer_order_id="C1", lines=[ReturnRefundLine(return_order_line_number=1, quantity=0)]
        )
    assert len(api.calls) == 0


# ------------------------------------------------------------------------------------ notifications


def test_subscription_auth_details_never_reach_parsed_objects_or_reprs(api, client):
    secret_event = {
        "eventType": "PO_CREATED",
        "subscriptionId": "S1",
        "resourceName": "ORDER",
        "eventVersion": "V1",
        "authDetails": {"authMethod": "BASIC_AUTH", "userName": "u", "password": "hook-password"},
    }
    api.add(responses.GET, BASE_URL + "/v3/webhooks/subscriptions", json={"events": [secret_event]})
    (subscription,) = client.notifications.subscriptions()
    assert subscription.subscription_id == "S1"
    assert "hook-password" not in repr(subscription)
    assert "authDetails" not in subscription.raw


CREATED_SUBSCRIPTION = {
    "eventType": "PO_CREATED",
    "subscriptionId": "620b45a0-b321-11ea-ac13-1f88d6025b7d",
    "partnerId": "12300000359",
    "eventVersion": "V1",
    "resourceName": "ORDER",
    "eventUrl": "https://hooks.example.com/walmart",
    "status": "ACTIVE",
}


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"events": [CREATED_SUBSCRIPTION]}, id="events-list (spec example, emulator)"),
        pytest.param({"event": [CREATED_SUBSCRIPTION]}, id="event-list (SubscriptionResponseDTO schema)"),
        pytest.param({"events": [{"event": [CREATED_SUBSCRIPTION]}]}, id="events-of-event (GET schema)"),
    ],
)
def test_create_subscription_reads_every_documented_answer_shape(api, client, answer):
    # given Walmart answers the create in one of its documented shapes
    api.add(responses.POST, BASE_URL + "/v3/webhooks/subscriptions", json=answer)
    event = build_event(event_type="PO_CREATED", resource_name="ORDER", event_url="https://hooks.example.com/walmart")
    # when
    created = client.notifications.create_subscription(events=[event])
    # then exactly the one subscription is returned, with Walmart's id
    assert [(s.subscription_id, s.event_type, s.resource_name, s.status, s.partner_id) for s in created] == [
        ("620b45a0-b321-11ea-ac13-1f88d6025b7d", "PO_CREATED", "ORDER", "ACTIVE", "12300000359")
    ]
    assert created[0].event_url == "https://hooks.example.com/walmart"
    (sent,) = calls_to(api, "/v3/webhooks/subscriptions")
    assert json.loads(sent.request.body) == {"events": [event]}


def test_create_subscription_answer_without_subscriptions_is_empty(api, client):
    # given an answer with neither `events` nor `event`
    api.add(responses.POST, BASE_URL + "/v3/webhooks/subscriptions", json={"message": "ok"})
    event = build_event(event_type="PO_CREATED", resource_name="ORDER", event_url="https://hooks.example.com/walmart")
    # when / then nothing is invented
    assert client.notifications.create_subscription(events=[event]) == []


def test_build_event_refuses_bad_values():
    with pytest.raises(ValueError, match="http"):
        build_event(event_type="PO_CREATED", resource_name="ORDER", event_url="ftp://x")
    with pytest.raises(ValueError, match="status"):
        build_event(event_type="PO_CREATED", resource_name="ORDER", event_url="https://x", status="ON")


# --------------------------------------------------------------------------------------------- misc


def test_gc_paused_restores_the_previous_collector_state():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_paused_in_two_threads_at_once_leaves_the_collector_on_after_the_last():
    # given: a pause in another thread begins while this thread's pause is on, and ends after it
    assert gc.isenabled()
    other_began, this_ended = threading.Event(), threading.Event()
    seen_in_other: list[bool] = []

    def other() -> None:
        with gc_paused():
            other_began.set()
            this_ended.wait(5)
            seen_in_other.append(gc.isenabled())

    thread = threading.Thread(target=other)
    # when
    with gc_paused():
        thread.start()
        other_began.wait(5)
    # then: this thread's end keeps it off (the other pause holds), and the last end turns it back on
    assert not gc.isenabled()
    this_ended.set()
    thread.join(5)
    assert seen_in_other == [False]
    assert gc.isenabled()
