"""Contract tests against Walmart's own OpenAPI specs (2024-12).

Each test answers the client's call with the spec's own example for that operation, checks the typed
result against values read from that example, and validates every request the client sent (method,
path, query, headers, JSON / form / multipart body) with openapi-core. The relaxations needed to use the
specs are listed, with reasons, in `spec_support.py`.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses
from jsonschema import Draft6Validator
from referencing import Registry, Resource

from tests.walmart_client import spec_support
from tests.walmart_client.conftest import BASE_URL
from tests.walmart_emulator.spec import assert_matches_spec
from walmart_client import CancelLine, RefundLine, ReturnRefundLine, ShipLine
from walmart_client.resources.feeds import inventory_feed_payload, lagtime_feed_payload, price_feed_payload
from walmart_client.resources.notifications import build_event

pytestmark = pytest.mark.contract

SHIP_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _specs_present():
    spec_support.require_specs()


def example(spec: str, path: str, method: str, name: str = "example"):
    return spec_support.response_examples(spec, path, method)[name]


def validate_all(api, expected: int) -> list[str]:
    """Validate every recorded request; return the owning spec names (one per request)."""
    assert len(api.calls) == expected, [c.request.url for c in api.calls]
    return [spec_support.validate_request(call.request) for call in api.calls]


# --------------------------------------------------------------------------------------------- auth


def test_token_and_token_detail(api, make_client):
    # given
    api.add(responses.POST, BASE_URL + "/v3/token", json=example("authentication", "/v3/token", "post"))
    api.add(responses.GET, BASE_URL + "/v3/token/detail", json=example("authentication", "/v3/token/detail", "get"))
    # when
    detail = make_client().auth.token_detail()
    # then
    assert detail.is_valid is True
    assert detail.scopes["item"] == "full_access"
    assert detail.scopes["price"] == "no_access"
    assert detail.scopes["reports"] == "view_only"
    assert detail.expire_at == datetime(2019, 6, 19, 19, 38, 18, tzinfo=UTC)
    assert validate_all(api, 2) == ["authentication", "authentication"]


# ------------------------------------------------------------------------------------------- orders


def test_list_orders_and_follow_the_cursor(api, client):
    # given page 1 is the spec's example (with its nextCursor), page 2 is the released example without one
    first = example("orders", "/v3/orders", "get")
    cursor = first["list"]["meta"]["nextCursor"]
    last = json.loads(json.dumps(example("orders", "/v3/orders", "get")))
    del last["list"]["meta"]["nextCursor"]
    api.add(responses.GET, BASE_URL + "/v3/orders", json=first)
    api.add(responses.GET, BASE_URL + "/v3/orders", json=last)
    # when
    orders = list(
        client.orders.iter_all(
            created_start_date=datetime(2024, 5, 1, tzinfo=UTC),
            last_modified_start_date=datetime(2024, 5, 2, tzinfo=UTC),
            status="Acknowledged",
            sku="test1",
            limit=100,
        )
    )
    # then
    assert len(orders) == 2 * len(first["list"]["elements"]["order"])
    order = orders[0]
    assert order.purchase_order_id == "1796277083022"
    assert order.customer_order_id == "5281956426648"
    assert order.customer_email_id == "3A31739D8B0A45A1B23F7F8C81C8747F@relay.walmart.com"
    assert order.order_type == "REPLACEMENT"
    assert order.order_date == datetime(2019, 9, 14, 13, 9, 31, tzinfo=UTC)
    assert order.shipping_info.postal_address.name == "Kathryn Cole"
    assert order.shipping_info.method_code == "Value"
    line = order.lines[0]
    assert (line.line_number, line.sku, line.quantity) == ("4", "test1", 1)
    assert line.charges[0].amount == Decimal("10")
    assert line.charges[0].tax_amount == Decimal("0.8")
    assert line.quantity_by_status == {"Created": 1}
    assert orders[1].lines[0].quantity_by_status == {"Cancelled": 1}
    assert api.calls[2].request.url == BASE_URL + "/v3/orders" + cursor
    assert validate_all(api, 3) == ["authentication", "orders", "orders"]


def test_released_orders(api, client):
    # given
    page = json.loads(json.dumps(example("orders", "/v3/orders/released", "get")))
    del page["list"]["meta"]["nextCursor"]
    api.add(responses.GET, BASE_URL + "/v3/orders/released", json=page)
    # when
    orders = list(client.orders.iter_released(created_start_date=datetime(2024, 5, 1, tzinfo=UTC), limit=200))
    # then
    assert len(orders) == len(page["list"]["elements"]["order"]) > 0
    assert all(line.quantity_in("Created") >= 1 for order in orders for line in order.lines)
    assert validate_all(api, 2) == ["authentication", "orders"]


@pytest.mark.parametrize("name", ["ORDER", "ATTRIBUTES"])
def test_get_one_order(api, client, name):
    # given
    body = example("orders", "/v3/orders/{purchaseOrderId}", "get", name)
    po = body["order"]["purchaseOrderId"]
    api.add(responses.GET, f"{BASE_URL}/v3/orders/{po}", json=body)
    # when
    order = client.orders.get(po, product_info=True)
    # then
    assert order.purchase_order_id == po
    assert len(order.lines) == len(body["order"]["orderLines"]["orderLine"])
    if name == "ORDER":
        line = order.lines[0]
        assert line.quantity_by_status == {"Shipped": 1}
        tracking = line.statuses[0].tracking_info
        assert (tracking.carrier, tracking.tracking_number) == ("USPS", "435678956435467")
        assert tracking.ship_datetime == datetime(2021, 6, 16, 9, 30, 55, tzinfo=UTC)
        assert line.charges[0].tax_amount == Decimal("0.34")
        assert order.ship_node.type == "SellerFulfilled"
    assert validate_all(api, 2) == ["authentication", "orders"]


def test_acknowledge(api, client):
    body = example("orders", "/v3/orders/{purchaseOrderId}/acknowledge", "post")
    api.add(responses.POST, BASE_URL + "/v3/orders/1796277083022/acknowledge", json=body)
    order = client.orders.acknowledge("1796277083022")
    assert order.purchase_order_id == "1796277083022"
    assert order.lines[0].line_number == body["order"]["orderLines"]["orderLine"][0]["lineNumber"]
    assert validate_all(api, 2) == ["authentication", "orders"]


def test_ship_with_named_and_other_carriers(api, client):
    # given
    body = example("orders", "/v3/orders/{purchaseOrderId}/shipping", "post")
    po = body["order"]["purchaseOrderId"]
    api.add(responses.POST, f"{BASE_URL}/v3/orders/{po}/shipping", json=body)
    lines = [
        ShipLine(
            line_number="1",
            quantity=1,
            carrier="UPS",
            tracking_number="1Z1",
            method_code="Standard",
            ship_datetime=SHIP_AT,
            tracking_url="https://ups.test/1Z1",
        ),
        ShipLine(
            line_number="1",
            quantity=1,
            other_carrier="Courier X",
            tracking_number="CX9",
            tracking_url="https://courier.test/CX9",
            method_code="Express",
            ship_datetime=SHIP_AT,
        ),
    ]
    # when
    order = client.orders.ship(po, lines=lines, seller_order_id="SO-1")
    # then
    assert order.purchase_order_id == "1234567891234"
    assert order.customer_order_id == "9876543212345"
    assert validate_all(api, 2) == ["authentication", "orders"]


def test_tracking_correction(api, client):
    body = example("orders", "/v3/orders/{purchaseOrderId}/shipping", "post")
    api.add(responses.POST, f"{BASE_URL}/v3/orders/1234567891234/shipping", json=body)
    line = ShipLine(
        line_number="1",
        quantity=1,
        carrier="UPS",
        tracking_number="1Z2",
        method_code="Standard",
        ship_datetime=SHIP_AT,
        replaces_tracking_number="1Z1",
    )
    client.orders.ship("1234567891234", lines=[line], seller_order_id="SO-1")
    assert json.loads(api.calls[1].request.body)["orderShipment"]["processMode"] == "PARTIAL_UPDATE"
    assert validate_all(api, 2) == ["authentication", "orders"]


def test_cancel(api, client):
    body = example("orders", "/v3/orders/{purchaseOrderId}/cancel", "post")
    po = body["order"]["purchaseOrderId"]
    api.add(responses.POST, f"{BASE_URL}/v3/orders/{po}/cancel", json=body)
    order = client.orders.cancel(
        po, lines=[CancelLine(line_number="1", quantity=1, reason="SELLER_CANCEL_PRICING_ERROR")]
    )
    assert order.purchase_order_id == "1577914061094"
    assert order.lines[0].quantity_in("Cancelled") >= 1
    assert validate_all(api, 2) == ["authentication", "orders"]


def test_refund(api, client):
    body = example("orders", "/v3/orders/{purchaseOrderId}/refund", "post")
    po = body["order"]["purchaseOrderId"]
    api.add(responses.POST, f"{BASE_URL}/v3/orders/{po}/refund", json=body)
    order = client.orders.refund(
        po,
        lines=[
            RefundLine(line_number="1", amount=Decimal("-2.50"), tax=Decimal("-0.20"), reason="Others"),
            RefundLine(
                line_number="2",
                amount=Decimal("-1"),
                reason="Shipping & Delivery -> Damaged",
                charge_type="SHIPPING",
                charge_name="Shipping",
            ),
        ],
    )
    assert order.purchase_order_id == "2577573191435"
    refund = order.lines[0].refund
    assert [(c.reason, c.charge.charge_type, c.charge.amount) for c in refund.charges] == [
        ("BillingError", "PRODUCT", Decimal("-19.99")),
        ("BillingError", "SHIPPING", Decimal("-2")),
    ]
    assert refund.total == Decimal("-21.99")
    assert validate_all(api, 2) == ["authentication", "orders"]


def test_the_specs_own_write_examples_pass_the_validator_the_client_is_held_to():
    """Guard against a validator that accepts anything: Walmart's request examples pass, a broken one fails."""
    import requests
    from openapi_core.contrib.requests import RequestsOpenAPIRequest

    headers = {
        "WM_SEC.ACCESS_TOKEN": "t",
        "WM_QOS.CORRELATION_ID": "c",
        "WM_SVC.NAME": "Walmart Marketplace",
        "Content-Type": "application/json",
    }
    good = spec_support.request_examples("orders", "/v3/orders/{purchaseOrderId}/shipping", "post", "application/json")
    request = requests.Request(
        "POST", BASE_URL + "/v3/orders/1/shipping", headers=headers, data=json.dumps(good["example"])
    ).prepare()
    spec_support.openapi("orders").validate_request(RequestsOpenAPIRequest(request))
    broken = json.loads(json.dumps(good["example"]))
    broken["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"][
        "methodCode"
    ] = "Ground"
    request = requests.Request(
        "POST", BASE_URL + "/v3/orders/1/shipping", headers=headers, data=json.dumps(broken)
    ).prepare()
    with pytest.raises(Exception, match="Request body validation error"):  # openapi-core's type
        spec_support.openapi("orders").validate_request(RequestsOpenAPIRequest(request))


# -------------------------------------------------------------------------------------------- feeds


def _feed_file(api) -> dict:
    content_type, content = spec_support.multipart_parts(api.calls[-1].request)["file"]
    assert content_type == "application/json"
    return json.loads(content)


def _feed_schema_validator(name: str) -> Draft6Validator:
    directory = spec_support.specs_dir() / "feed-json-schemas"
    resources = []
    for path in directory.glob("*.json"):
        contents = json.loads(path.read_text())
        contents.setdefault("$id", f"https://feeds.test/{path.name}")
        resources.append((f"https://feeds.test/{path.name}", Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    return Draft6Validator({"$ref": f"https://feeds.test/{name}"}, registry=registry)


def test_inventory_feed_upload(api, client):
    # given
    api.add(responses.POST, BASE_URL + "/v3/feeds", json=example("inventory", "/v3/feeds", "post"))
    payload = inventory_feed_payload({"SKU-1": 10, "SKU/2": 0})
    # when
    ack = client.feeds.submit(feed_type="inventory", payload=payload)
    # then
    assert ack.feed_id == "FFE538D9B25A4000AD2A067ACEDCF4C4@AUoBAQA"
    assert ack.correlation_id == api.calls[-1].request.headers["WM_QOS.CORRELATION_ID"]
    assert api.calls[-1].request.url == BASE_URL + "/v3/feeds?feedType=inventory"
    sent = _feed_file(api)
    assert sent == {
        "InventoryHeader": {"version": "1.4"},
        "Inventory": [
            {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 10}},
            {"sku": "SKU/2", "quantity": {"unit": "EACH", "amount": 0}},
        ],
    }
    _feed_schema_validator("InventoryFeed.json").validate(sent)
    assert validate_all(api, 2) == ["authentication", "inventory"]


def test_price_feed_upload(api, client):
    api.add(responses.POST, BASE_URL + "/v3/feeds", json=example("prices", "/v3/feeds", "post"))
    payload = price_feed_payload({"SKU-1": Decimal("19.99"), "SKU-2": Decimal("5")})
    ack = client.feeds.submit(feed_type="price", payload=payload)
    assert ack.feed_id == "14066B6642344B76A8B77AC094F8C63B@AVMBAgA"
    sent = _feed_file(api)
    assert sent["Price"][0] == {
        "sku": "SKU-1",
        "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 19.99}}],
    }
    _feed_schema_validator("PriceFeed.json").validate(sent)
    assert validate_all(api, 2) == ["authentication", "prices"]


def test_lagtime_feed_upload(api, client):
    api.add(responses.POST, BASE_URL + "/v3/feeds", json=example("lag-time", "/v3/feeds", "post"))
    ack = client.feeds.submit(feed_type="lagtime", payload=lagtime_feed_payload({"SKU-1": 2}))
    assert ack.feed_id == "E7BB7DBAF3FF461AB63A2169F3BEAADE@AVQBAgA"
    assert _feed_file(api) == {
        "lagTimeHeader": {"version": "1.0"},
        "lagTime": [{"sku": "SKU-1", "fulfillmentLagTime": 2}],
    }
    assert validate_all(api, 2) == ["authentication", "lag-time"]


@pytest.mark.parametrize("name", ["V4.2 MP_ITEM_MATCH", "V4.1 MP_ITEM_MATCH"])
def test_item_match_feed_upload_sends_the_payload_unchanged(api, client, name):
    # given the spec's own MP_ITEM_MATCH example as the payload
    payload = spec_support.request_examples("items", "/v3/feeds", "post", "multipart/form-data")[name]
    api.add(responses.POST, BASE_URL + "/v3/feeds", json=example("items", "/v3/feeds", "post"))
    # when
    ack = client.feeds.submit(feed_type="MP_ITEM_MATCH", payload=payload)
    # then
    assert ack.feed_id == "F129C19240844B97A3C6AD8F1A2C4997@AU8BAQA"
    assert _feed_file(api) == payload
    assert validate_all(api, 2) == ["authentication", "items"]


def test_feed_status_with_item_details(api, client):
    feed_id = "F129C19240844B97A3C6AD8F1A2C4997@AU8BAQA"
    api.add(
        responses.GET,
        BASE_URL + "/v3/feeds/F129C19240844B97A3C6AD8F1A2C4997%40AU8BAQA",
        json=example("feeds", "/v3/feeds/{feedId}", "get"),
    )
    status = client.feeds.status(feed_id)
    assert (status.feed_id, status.feed_status) == (feed_id, "PROCESSED")
    assert (status.items_received, status.items_succeeded, status.items_failed, status.items_processing) == (1, 1, 0, 0)
    item = status.item_details[0]
    assert (item.sku, item.status, item.item_id, item.wpid) == (
        "0960B3B82687490FA5E51CB0801478A4@AU8BAgA",
        "SUCCESS",
        "51681142",
        "71ZLHHMKNS6G",
    )
    assert item.errors == []
    assert validate_all(api, 2) == ["authentication", "feeds"]


def test_feed_list(api, client):
    body = example("feeds", "/v3/feeds", "get")
    body = dict(body, totalResults=len(body["results"]["feed"]))
    api.add(responses.GET, BASE_URL + "/v3/feeds", json=body)
    feeds = list(client.feeds.iter_all())
    assert len(feeds) == len(body["results"]["feed"])
    assert feeds[0].feed_id == "882DAFBDCAA0480786D1E0435FBC86D7@AU8BAgA"
    assert feeds[0].feed_type == "item"
    assert validate_all(api, 2) == ["authentication", "feeds"]


# -------------------------------------------------------------------------------------------- items


@pytest.mark.parametrize("name", ["Get All Items", "With Variant Information"])
def test_list_items(api, client, name):
    body = dict(example("items", "/v3/items", "get", name))
    body.pop("nextCursor", None)
    api.add(responses.GET, BASE_URL + "/v3/items", json=body)
    items = list(client.items.iter_all(lifecycle_status="ACTIVE", published_status="PUBLISHED"))
    assert [i.sku for i in items] == [r["sku"] for r in body["ItemResponse"]]
    if name == "Get All Items":
        assert items[0].price == Decimal("59.99")
        assert items[0].published_status == "UNPUBLISHED"
        assert len(items[0].unpublished_reasons) == 2
    assert validate_all(api, 2) == ["authentication", "items"]


def test_one_page_of_items_and_its_cursor(api, client):
    body = dict(example("items", "/v3/items", "get", "Get All Items"))
    api.add(responses.GET, BASE_URL + "/v3/items", json=body)
    items, cursor = client.items.page()
    assert [i.sku for i in items] == [r["sku"] for r in body["ItemResponse"]]
    assert cursor == body["nextCursor"]
    assert "nextCursor=%2A" in api.calls[1].request.url
    assert validate_all(api, 2) == ["authentication", "items"]


def test_get_item(api, client):
    api.add(responses.GET, BASE_URL + "/v3/items/30348_KFTest", json=example("items", "/v3/items/{id}", "get"))
    item = client.items.get("30348_KFTest")
    assert (item.sku, item.wpid, item.gtin, item.price) == (
        "30348_KFTest",
        "0RCPILAXM0C1",
        "06932096330348",
        Decimal("3"),
    )
    assert validate_all(api, 2) == ["authentication", "items"]


@pytest.mark.parametrize(("status", "name", "count"), [("ALL", "ALL", 682), ("PUBLISHED", "PUBLISHED", 99)])
def test_item_count(api, client, status, name, count):
    api.add(responses.GET, BASE_URL + "/v3/items/count", json=example("items", "/v3/items/count", "get", name))
    assert client.items.count(status) == count
    assert validate_all(api, 2) == ["authentication", "items"]


@pytest.mark.parametrize(("kind", "value"), [("upc", "363824587165"), ("gtin", "00363824587165")])
def test_catalog_search(api, client, kind, value):
    api.add(
        responses.GET, BASE_URL + "/v3/items/walmart/search", json=example("items", "/v3/items/walmart/search", "get")
    )
    found = client.items.search(**{kind: value})
    assert found[0].item_id == "393016031"
    assert found[0].brand == "ULAK"
    assert found[0].price == Decimal("12.989999771118164")
    assert found[0].is_marketplace_item is True
    assert validate_all(api, 2) == ["authentication", "items"]


def test_retire_item(api, client):
    api.add(responses.DELETE, BASE_URL + "/v3/items/97964_KFTest", json=example("items", "/v3/items/{SKU}", "delete"))
    result = client.items.retire("97964_KFTest")
    assert result.sku == "97964_KFTest"
    assert result.message.startswith("Thank you.")
    assert validate_all(api, 2) == ["authentication", "items"]


# ---------------------------------------------------------------------------------------- inventory


def test_get_and_update_inventory(api, client):
    api.add(responses.GET, BASE_URL + "/v3/inventory", json=example("inventory", "/v3/inventory", "get"))
    api.add(responses.PUT, BASE_URL + "/v3/inventory", json=example("inventory", "/v3/inventory", "put"))
    got = client.inventory.get("97964_KFTest")
    updated = client.inventory.update("97964_KFTest", 10, ship_node="1000005050")
    assert (got.sku, got.quantity, got.unit) == ("97964_KFTest", 10, "EACH")
    assert (updated.sku, updated.quantity, updated.ship_node) == ("97964_KFTest", 10, "1000005050")
    assert json.loads(api.calls[2].request.body) == {"sku": "97964_KFTest", "quantity": {"unit": "EACH", "amount": 10}}
    assert validate_all(api, 3) == ["authentication", "inventory", "inventory"]


def test_update_multi_node_inventory(api, client):
    api.add(
        responses.PUT,
        BASE_URL + "/v3/inventories/00757642886669_test_01",
        json=example("inventory", "/v3/inventories/{sku}", "put"),
    )
    results = client.inventory.update_nodes("00757642886669_test_01", {"1000005050": 88, "79897837271126017": 0})
    assert [(r.ship_node, r.succeeded) for r in results] == [("1000005050", True), ("79897837271126017", True)]
    assert validate_all(api, 2) == ["authentication", "inventory"]


def test_all_inventories(api, client):
    body = json.loads(json.dumps(example("inventory", "/v3/inventories", "get")))
    last = json.loads(json.dumps(body))
    del last["meta"]["nextCursor"]
    api.add(responses.GET, BASE_URL + "/v3/inventories", json=body)
    api.add(responses.GET, BASE_URL + "/v3/inventories", json=last)
    inventories = list(client.inventory.iter_all())
    assert [(i.sku, i.ship_node, i.quantity, i.available_to_sell, i.reserved) for i in inventories[:3]] == [
        ("AI-IGH4-5509", "361451354333223041", 93, 93, 0),
        ("AI-IGH4-5509", "100009", 436, 433, 3),
        ("06397309545443", "100009", 5, 0, 5),
    ]
    assert api.calls[2].request.url.endswith("nextCursor=NTVmZjIxOWEtZjRkMy00MGIwLThkOGYtYzFkNzI1NGZlYmQxIDEw")
    assert validate_all(api, 3) == ["authentication", "inventory", "inventory"]


def test_one_page_of_inventories_and_its_cursor(api, client):
    body = json.loads(json.dumps(example("inventory", "/v3/inventories", "get")))
    api.add(responses.GET, BASE_URL + "/v3/inventories", json=body)
    inventories, cursor = client.inventory.page()
    assert [(i.sku, i.ship_node, i.quantity) for i in inventories[:2]] == [
        ("AI-IGH4-5509", "361451354333223041", 93),
        ("AI-IGH4-5509", "100009", 436),
    ]
    assert cursor == body["meta"]["nextCursor"]
    assert validate_all(api, 2) == ["authentication", "inventory"]


# -------------------------------------------------------------------------------------------- price


def test_update_price(api, client):
    api.add(responses.PUT, BASE_URL + "/v3/price", json=example("prices", "/v3/price", "put"))
    result = client.prices.update("97964_KFTest", Decimal("10.00"))
    assert result.sku == "97964_KFTest"
    assert result.mart == "WALMART_US"
    assert result.message.startswith("Thank you. Your price has been updated.")
    assert json.loads(api.calls[1].request.body) == {
        "sku": "97964_KFTest",
        "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 10.0}}],
    }
    assert validate_all(api, 2) == ["authentication", "prices"]


# ------------------------------------------------------------------------------------------ returns


def test_list_returns(api, client):
    first = example("returns", "/v3/returns", "get")
    last = json.loads(json.dumps(first))
    del last["meta"]["nextCursor"]
    api.add(responses.GET, BASE_URL + "/v3/returns", json=first)
    api.add(responses.GET, BASE_URL + "/v3/returns", json=last)
    returns = list(
        client.returns.iter_all(return_last_modified_start_date=datetime(2024, 5, 1, tzinfo=UTC), status="INITIATED")
    )
    assert api.calls[2].request.url == BASE_URL + "/v3/returns?sellerId=151&limit=10&offset=10"
    rma = returns[0]
    assert rma.return_order_id == "103738048909818825"
    assert rma.customer_name == "Jane Doe"
    assert rma.total_refund_amount == Decimal("127.45")
    assert rma.return_order_date == datetime(2019, 2, 21, 1, 1, 8, tzinfo=UTC)
    line = rma.lines[0]
    assert (line.return_order_line_number, line.sku, line.quantity, line.return_reason) == (
        1,
        "ANTL_GDL-0700",
        3,
        "ARRIVED_LATE",
    )
    assert (line.purchase_order_id, line.purchase_order_line_number, line.refunded_qty) == ("4790210558890", 1, 1)
    assert [(s.current_refund_status, s.quantity) for s in line.tracking_statuses] == [
        ("REFUND_INITIATED", 2),
        ("REFUND_COMPLETED", 1),
    ]
    assert line.charges[0].amount == Decimal("119.95")
    assert line.charges[0].tax_amount == Decimal("7.5")
    assert validate_all(api, 3) == ["authentication", "returns", "returns"]


def test_refund_return(api, client):
    api.add(
        responses.POST,
        BASE_URL + "/v3/returns/106152711271982880/refund",
        json=example("returns", "/v3/returns/{returnOrderId}/refund", "post"),
    )
    result = client.returns.refund(
        "106152711271982880",
        customer_order_id="1535274411287",
        lines=[ReturnRefundLine(return_order_line_number=1, quantity=2)],
    )
    assert result.customer_order_id == "1535274411287"
    assert [(line.return_order_line_number, line.quantity) for line in result.lines] == [(1, 2)]
    assert (
        json.loads(api.calls[1].request.body)
        == spec_support.request_examples("returns", "/v3/returns/{returnOrderId}/refund", "post", "application/json")[
            "example"
        ]
    )
    assert validate_all(api, 2) == ["authentication", "returns"]


# ------------------------------------------------------------------------------------ notifications


def test_webhook_event_types_and_subscriptions(api, client):
    path = "/v3/webhooks/subscriptions"
    api.add(
        responses.GET,
        BASE_URL + "/v3/webhooks/eventTypes",
        json=example("notifications", "/v3/webhooks/eventTypes", "get"),
    )
    api.add(responses.GET, BASE_URL + path, json=example("notifications", path, "get", "sample1"))
    api.add(responses.POST, BASE_URL + path, json=example("notifications", path, "post"))
    api.add(
        responses.PATCH,
        BASE_URL + path + "/243ba4d0-b322-11ea-b385-0127e9b85538",
        json=example("notifications", path + "/{subscriptionId}", "patch"),
    )
    api.add(
        responses.DELETE,
        BASE_URL + path + "/243ba4d0-b322-11ea-b385-0127e9b85538",
        json=example("notifications", path + "/{subscriptionId}", "delete"),
    )
    api.add(responses.POST, BASE_URL + "/v3/webhooks/test", json=example("notifications", "/v3/webhooks/test", "post"))
    event = build_event(
        event_type="PO_CREATED",
        resource_name="ORDER",
        event_url="https://shop.test/hooks/walmart",
        auth_details={"authMethod": "HMAC", "authHeaderName": "X-Signature"},
    )
    # when
    types = client.notifications.event_types()
    listed = client.notifications.subscriptions(resource_name="ITEM")
    created = client.notifications.create_subscription(events=[event])
    updated = client.notifications.update_subscription("243ba4d0-b322-11ea-b385-0127e9b85538", status="INACTIVE")
    message = client.notifications.delete_subscription("243ba4d0-b322-11ea-b385-0127e9b85538")
    tested = client.notifications.test(event=event)
    # then
    assert ("ITEM", "OFFER_UNPUBLISHED", "V1") in [(t.resource_name, t.event_type, t.event_version) for t in types]
    assert listed[0].subscription_id == "243ba4d0-b322-11ea-b385-0127e9b85538"
    assert "authDetails" not in listed[0].raw
    assert created[0].subscription_id == "620b45a0-b321-11ea-ac13-1f88d6025b7d"
    assert updated.subscription_id == "243ba4d0-b322-11ea-b385-0127e9b85538"
    assert message == "Successfully deleted subscription"
    assert tested == "Eventurl successfully validated"
    assert validate_all(api, 7) == ["authentication"] + ["notifications"] * 6


def test_item_event_types(api, client):
    api.add(
        responses.GET,
        BASE_URL + "/v3/webhooks/eventTypes",
        json=example("notifications", "/v3/webhooks/eventTypes", "get"),
    )
    types = client.notifications.item_event_types()
    assert [(t.resource_name, t.event_type) for t in types] == [
        ("ITEM", "OFFER_UNPUBLISHED"),
        ("PRICE", "BUY_BOX_CHANGED"),
    ]
    assert validate_all(api, 2) == ["authentication", "notifications"]


# ------------------------------------------------------------------------------------------ reports

REPORT_REQUEST = {
    "requestId": "6da7357b-1c3b-4c1d-9685-ca2931eb96b4",
    "requestStatus": "RECEIVED",
    "requestSubmissionDate": "2024-05-01T10:00:00Z",
    "reportType": "ITEM",
    "reportVersion": "v4",
}
REPORTS = "/v3/reports/reportRequests"


def report_answer(path: str, method: str, body: dict) -> dict:
    """A canned answer, held to the operation's response schema (the spec has no examples for reports)."""
    assert_matches_spec("on-request-reports", path, method, "200", body)
    return body


def test_report_request_status_list_and_link(api, client):
    request_id = REPORT_REQUEST["requestId"]
    ready = {**REPORT_REQUEST, "requestStatus": "READY", "reportGenerationDate": "2024-05-01T10:20:00Z"}
    page_1 = {
        "page": 1,
        "totalCount": 2,
        "limit": 1,
        "requests": [ready],
        "nextCursor": "reportType=ITEM&page=2&limit=1",
    }
    page_2 = {"page": 2, "totalCount": 2, "limit": 1, "requests": [{**REPORT_REQUEST, "requestId": "b" * 8}]}
    link = {
        **ready,
        "downloadURL": "https://files.walmart.test/ItemReport.zip?sig=abc",
        "downloadURLExpirationTime": "2024-05-01T11:20:00Z",
    }
    api.add(responses.POST, BASE_URL + REPORTS, json=report_answer(REPORTS, "post", REPORT_REQUEST))
    api.add(
        responses.GET,
        BASE_URL + f"{REPORTS}/{request_id}",
        json=report_answer(f"{REPORTS}/{{requestId}}", "get", ready),
    )
    api.add(responses.GET, BASE_URL + REPORTS, json=report_answer(REPORTS, "get", page_1))
    api.add(responses.GET, BASE_URL + REPORTS, json=report_answer(REPORTS, "get", page_2))
    api.add(
        responses.GET,
        BASE_URL + "/v3/reports/downloadReport",
        json=report_answer("/v3/reports/downloadReport", "get", link),
    )
    filters = [
        {"type": "enumFilter", "columnName": "Publish Status", "values": ["PUBLISHED"]},
        {"type": "rangeFilter", "columnName": "Price", "from": "10", "to": "100"},
    ]
    # when
    created = client.reports.request_item_report(row_filters=filters, exclude_columns=["Shelf Name"])
    status = client.reports.status(request_id)
    listed = list(client.reports.iter_requests("ITEM", status="READY", submitted_since=SHIP_AT))
    download = client.reports.download_link(request_id)
    # then
    assert (created.request_id, created.status, created.report_version) == (request_id, "RECEIVED", "v4")
    assert created.submitted_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert status.is_ready
    assert status.generated_at == datetime(2024, 5, 1, 10, 20, tzinfo=UTC)
    assert [entry.request_id for entry in listed] == [request_id, "b" * 8]
    assert (download.url, download.expires_at) == (link["downloadURL"], datetime(2024, 5, 1, 11, 20, tzinfo=UTC))
    assert api.calls[1].request.url == BASE_URL + REPORTS + "?reportType=ITEM&reportVersion=v4"
    assert json.loads(api.calls[1].request.body) == {"rowFilters": filters, "excludeColumns": ["Shelf Name"]}
    assert api.calls[4].request.url == BASE_URL + REPORTS + "?reportType=ITEM&page=2&limit=1"
    assert validate_all(api, 6) == ["authentication"] + ["on-request-reports"] * 5


def test_inventory_report_request_and_download(api, client):
    answer = {**REPORT_REQUEST, "reportType": "INVENTORY", "reportVersion": "v1"}
    file_url = "https://files.walmart.test/InventoryReport.zip?sig=abc"
    link = {**answer, "requestStatus": "READY", "downloadURL": file_url}
    api.add(responses.POST, BASE_URL + REPORTS, json=report_answer(REPORTS, "post", answer))
    api.add(
        responses.GET,
        BASE_URL + "/v3/reports/downloadReport",
        json=report_answer("/v3/reports/downloadReport", "get", link),
    )
    csv_text = (
        "SKU,Item ID,Product Name,Ship Node ID,Ship Node Name,Input Quantity,AvailToSell Quantity\n"
        "A-1,111,Mug,701,West,12,9\n"
    )
    api.add(responses.GET, file_url, body=zipped({"InventoryReport.csv": csv_text}))
    # when
    created = client.reports.request_inventory_report()
    rows = list(client.reports.download_inventory(created.request_id))
    # then
    assert (created.report_type, created.report_version, created.status) == ("INVENTORY", "v1", "RECEIVED")
    assert api.calls[1].request.url == BASE_URL + REPORTS + "?reportType=INVENTORY&reportVersion=v1"
    assert [(row.sku, row.ship_node, row.input_quantity, row.available_to_sell) for row in rows] == [
        ("A-1", "701", 12, 9)
    ]
    assert [spec_support.validate_request(call.request) for call in api.calls[:3]] == [
        "authentication",
        "on-request-reports",
        "on-request-reports",
    ]


def test_report_download_streams_rows_by_header_name(api, client):
    request_id = REPORT_REQUEST["requestId"]
    file_url = "https://files.walmart.test/ItemReport.zip?sig=abc"
    link = {**REPORT_REQUEST, "requestStatus": "READY", "downloadURL": file_url}
    api.add(
        responses.GET,
        BASE_URL + "/v3/reports/downloadReport",
        json=report_answer("/v3/reports/downloadReport", "get", link),
    )
    csv_text = "Publish Status,SKU,Item ID,Price,Extra\nPUBLISHED,A-1,111,9.99,x\nUNPUBLISHED,B-2,222,,y\n"
    api.add(responses.GET, file_url, body=zipped({"ItemReport.csv": csv_text}))
    # when
    rows = list(client.reports.download(request_id))
    # then
    assert [(row.sku, row.item_id, row.published_status, row.price) for row in rows] == [
        ("A-1", "111", "PUBLISHED", Decimal("9.99")),
        ("B-2", "222", "UNPUBLISHED", None),
    ]
    assert rows[0].columns["Extra"] == "x"
    assert "WM_SEC.ACCESS_TOKEN" not in api.calls[2].request.headers  # the token never goes to the file host
    assert [spec_support.validate_request(call.request) for call in api.calls[:2]] == [
        "authentication",
        "on-request-reports",
    ]


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------- settings


def test_partner_profile_and_carriers(api, client):
    api.add(
        responses.GET,
        BASE_URL + "/v3/settings/partnerprofile",
        json=example("settings", "/v3/settings/partnerprofile", "get"),
    )
    api.add(
        responses.GET,
        BASE_URL + "/v3/settings/shipping/carriers",
        json=example("settings", "/v3/settings/shipping/carriers", "get"),
    )
    profile = client.settings.partner_profile()
    carriers = client.settings.shipping_carriers()
    limit = profile.feed_limit("inventory")
    assert (limit.count, limit.window_seconds, limit.max_file_bytes) == (6, 3600, 26214400)
    assert [f.feed_type for f in profile.feed_limits] == ["inventory", "MP_ITEM"]
    assert profile.partner_id == "100009"
    assert (profile.account_status, profile.is_store_live) == ("ACTIVE", True)
    assert carriers[0]["carrierMethodName"] == "USPS"
    assert validate_all(api, 3) == ["authentication", "settings", "settings"]


# Every public resource method that sends a request, and the contract test above that validates it.
COVERED = {
    "Auth": {"token_detail": test_token_and_token_detail},
    "Orders": {
        "iter_all": test_list_orders_and_follow_the_cursor,
        "list_page": test_list_orders_and_follow_the_cursor,
        "iter_released": test_released_orders,
        "get": test_get_one_order,
        "acknowledge": test_acknowledge,
        "ship": test_ship_with_named_and_other_carriers,
        "cancel": test_cancel,
        "refund": test_refund,
    },
    "Feeds": {
        "submit": test_inventory_feed_upload,
        "status": test_feed_status_with_item_details,
        "iter_item_results": test_feed_status_with_item_details,
        "iter_all": test_feed_list,
    },
    "Items": {
        "iter_all": test_list_items,
        "page": test_one_page_of_items_and_its_cursor,
        "get": test_get_item,
        "count": test_item_count,
        "search": test_catalog_search,
        "retire": test_retire_item,
    },
    "InventoryResource": {
        "get": test_get_and_update_inventory,
        "update": test_get_and_update_inventory,
        "update_nodes": test_update_multi_node_inventory,
        "iter_all": test_all_inventories,
        "page": test_one_page_of_inventories_and_its_cursor,
    },
    "Prices": {"update": test_update_price},
    "Returns": {"iter_all": test_list_returns, "refund": test_refund_return},
    "Notifications": {
        name: test_webhook_event_types_and_subscriptions
        for name in (
            "event_types",
            "subscriptions",
            "create_subscription",
            "update_subscription",
            "delete_subscription",
            "test",
        )
    }
    | {"item_event_types": test_item_event_types},
    "Settings": {
        "partner_profile": test_partner_profile_and_carriers,
        "shipping_carriers": test_partner_profile_and_carriers,
    },
    "Reports": {
        "request": test_report_request_status_list_and_link,
        "request_item_report": test_report_request_status_list_and_link,
        "request_inventory_report": test_inventory_report_request_and_download,
        "download_inventory": test_inventory_report_request_and_download,
        "status": test_report_request_status_list_and_link,
        "iter_requests": test_report_request_status_list_and_link,
        "download_link": test_report_request_status_list_and_link,
        "download_file": test_report_download_streams_rows_by_header_name,
        "download": test_report_download_streams_rows_by_header_name,
    },
}


def test_every_public_resource_method_has_a_contract_test(make_client):
    client = make_client()
    resources = [
        client.auth,
        client.orders,
        client.feeds,
        client.items,
        client.inventory,
        client.prices,
        client.returns,
        client.notifications,
        client.settings,
        client.reports,
    ]
    found = {
        type(resource).__name__: {
            name for name in dir(resource) if not name.startswith("_") and callable(getattr(resource, name))
        }
        for resource in resources
    }
    assert found == {name: set(methods) for name, methods in COVERED.items()}


AWARE = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
EMPTY_ORDERS = {"list": {"meta": {"totalCount": 0, "limit": 10}, "elements": {"order": []}}}


@pytest.mark.parametrize(
    ("method", "path", "answer", "call"),
    [
        (
            "GET",
            "/v3/orders",
            EMPTY_ORDERS,
            lambda c: list(
                c.orders.iter_all(
                    sku="A",
                    customer_order_id="1",
                    purchase_order_id="2",
                    status="Shipped",
                    created_start_date=AWARE,
                    created_end_date=AWARE,
                    from_expected_ship_date=AWARE,
                    to_expected_ship_date=AWARE,
                    last_modified_start_date=AWARE,
                    last_modified_end_date=AWARE,
                    product_info=True,
                    ship_node_type="SellerFulfilled",
                    shipping_program_type="TWO_DAY",
                    replacement_info=False,
                    order_type="REGULAR",
                    limit=50,
                )
            ),
        ),
        (
            "GET",
            "/v3/orders/released",
            EMPTY_ORDERS,
            lambda c: list(
                c.orders.iter_released(
                    sku="A",
                    customer_order_id="1",
                    purchase_order_id="2",
                    created_start_date=AWARE.date(),
                    created_end_date=AWARE,
                    from_expected_ship_date=AWARE,
                    to_expected_ship_date=AWARE,
                    product_info=False,
                    ship_node_type="SellerFulfilled",
                    shipping_program_type="ONE_DAY",
                    replacement_info=True,
                    order_type="REPLACEMENT",
                )
            ),
        ),
        (
            "GET",
            "/v3/returns",
            {"meta": {"totalCount": 0}, "returnOrders": []},
            lambda c: list(
                c.returns.iter_all(
                    return_order_id="R",
                    customer_order_id="C",
                    status="COMPLETED",
                    replacement_info=False,
                    return_type="REFUND",
                    return_creation_start_date=AWARE,
                    return_creation_end_date=AWARE,
                    return_last_modified_start_date=AWARE,
                    return_last_modified_end_date=AWARE,
                    limit=200,
                )
            ),
        ),
        (
            "GET",
            "/v3/items",
            {"ItemResponse": [], "totalItems": 0},
            lambda c: list(
                c.items.iter_all(
                    sku="A",
                    lifecycle_status="ACTIVE",
                    published_status="UNPUBLISHED",
                    variant_group_id="V",
                    condition="New",
                )
            ),
        ),
        ("GET", "/v3/items/walmart/search", {"items": []}, lambda c: c.items.search(query="metronome")),
        ("GET", "/v3/items/walmart/search", {"items": []}, lambda c: c.items.search(isbn="978030640615X")),
        (
            "GET",
            "/v3/inventory",
            {"sku": "A", "quantity": {"unit": "EACH", "amount": 1}},
            lambda c: c.inventory.get("A", ship_node="1000005050"),
        ),
        (
            "POST",
            "/v3/feeds",
            {"feedId": "F"},
            lambda c: c.feeds.submit(
                feed_type="inventory", payload=inventory_feed_payload({"A": 1}), ship_node="1000005050"
            ),
        ),
        (
            "GET",
            "/v3/feeds/F%40X",
            {"feedId": "F@X", "feedStatus": "RECEIVED"},
            lambda c: c.feeds.status("F@X", include_details=False, offset=0, limit=1),
        ),
        (
            "GET",
            "/v3/feeds",
            {"totalResults": 0, "results": {"feed": []}},
            lambda c: list(c.feeds.iter_all(feed_id="F@X")),
        ),
        (
            "GET",
            "/v3/webhooks/subscriptions",
            {"events": []},
            lambda c: c.notifications.subscriptions(
                subscription_id="S", event_type="PO_CREATED", resource_name="ORDER", status="ACTIVE"
            ),
        ),
        (
            "PATCH",
            "/v3/webhooks/subscriptions/S",
            {},
            lambda c: c.notifications.update_subscription(
                "S",
                event_url="https://shop.test/hook",
                event_version="V1",
                headers={"content-type": "application/json"},
                auth_details={
                    "authMethod": "BASIC_AUTH",
                    "userName": "u",
                    "password": "p",
                    "authHeaderName": "Authorization",
                },
            ),
        ),
    ],
    ids=[
        "orders-all-filters",
        "released-all-filters",
        "returns-all-filters",
        "items-all-filters",
        "search-query",
        "search-isbn",
        "inventory-ship-node",
        "feed-ship-node",
        "feed-status-no-details",
        "feeds-by-id",
        "subscriptions-filters",
        "subscription-update-fields",
    ],
)
def test_every_request_variant_validates(api, client, method, path, answer, call):
    api.add(method, BASE_URL + path, json=answer)
    call(client)
    assert len(validate_all(api, 2)) == 2


def test_released_orders_refuse_filters_walmart_does_not_take(api, client):
    with pytest.raises(TypeError, match="unknown order filter 'status'"):
        list(client.orders.iter_released(status="Created"))
    assert len(api.calls) == 0


# ------------------------------------------------ the client's bodies reproduce Walmart's own examples


def test_refund_body_is_walmarts_example_given_the_same_values():
    from walmart_client.resources.orders import build_refund_body

    expected = spec_support.request_examples(
        "orders", "/v3/orders/{purchaseOrderId}/refund", "post", "application/json"
    )["example"]
    built = build_refund_body(
        "2577453162650",
        [
            RefundLine(
                line_number="4",
                amount=Decimal("-0.1"),
                tax=Decimal("-0.1"),
                reason="Merchandise not received",
                comments="test test",
            )
        ],
    )
    assert json.loads(json.dumps(built, default=float)) == expected


def test_cancel_body_is_walmarts_example_given_the_same_values():
    from walmart_client.resources.orders import build_cancel_body

    expected = spec_support.request_examples(
        "orders", "/v3/orders/{purchaseOrderId}/cancel", "post", "application/json"
    )["example"]
    built = build_cancel_body([CancelLine(line_number="1", quantity=1, reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL")])
    # The example writes the unit "EA"; the client writes "EACH". Both are in the schema's enum.
    status = expected["orderCancellation"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    assert status["statusQuantity"]["unitOfMeasurement"] == "EA"
    status["statusQuantity"]["unitOfMeasurement"] = "EACH"
    assert built == expected


def test_price_and_multi_node_bodies_are_walmarts_examples(api, client):
    api.add(responses.PUT, BASE_URL + "/v3/price", json={})
    api.add(responses.PUT, BASE_URL + "/v3/inventories/SKU-1", json={"sku": "SKU-1", "nodes": []})
    client.prices.update("97964_KFTest", 10)
    client.inventory.update_nodes("SKU-1", {"1000005050": 88, "79897837271126017": 55})
    assert (
        json.loads(api.calls[1].request.body)
        == spec_support.request_examples("prices", "/v3/price", "put", "application/json")["example"]
    )
    assert (
        json.loads(api.calls[2].request.body)
        == spec_support.request_examples("inventory", "/v3/inventories/{sku}", "put", "application/json")["example"]
    )


def test_inventory_feed_payload_is_walmarts_example_given_the_same_values():
    expected = spec_support.request_examples("inventory", "/v3/feeds", "post", "multipart/form-data")["json1"]
    assert inventory_feed_payload([("test1", 10), ("894728", 20)]) == expected
