"""The whole walmart_client surface against the emulator over real HTTP (Django's live server).

Each test builds a real WalmartClient on `live_server.url + "/walmart-emulator"`: tokens, Walmart's
headers, multipart feeds, cursors, typed errors and the client's handling of the emulator's faults.
"""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses

from tests.walmart_emulator.factories import catalog_item, match_item, match_payload, published_offer
from tests.walmart_emulator.live import live_server_threads_wait, make_client
from walmart_client.errors import (
    WalmartAuthError,
    WalmartBadRequest,
    WalmartConnectionError,
    WalmartNotFound,
    WalmartRateLimited,
    WalmartServerError,
)
from walmart_client.models import CancelLine, RefundLine, ReturnRefundLine, ShipLine
from walmart_client.resources.feeds import inventory_feed_payload, price_feed_payload
from walmart_client.resources.notifications import build_event
from walmart_emulator import services
from walmart_emulator.models import LineRefund, LineStatus, Offer, Order, WebhookSubscription

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _server_threads_finish(live_server):
    yield
    live_server_threads_wait()


@pytest.fixture
def client(live_client):
    return live_client


def test_token_detail_and_wrong_secret(live_server, http_seller, client):
    detail = client.token_detail()
    assert detail.is_valid is True
    assert detail.scopes["orders"] == "full_access"
    wrong_seller = services.seller_create(name="Other", client_id="other", client_secret="right")
    wrong_seller.client_secret = "wrong"
    with make_client(live_server, wrong_seller) as wrong, pytest.raises(WalmartAuthError) as raised:
        wrong.items.count()
    assert raised.value.status == 401


def test_match_feed_flow_search_submit_status_items(client, http_seller):
    # given an item in Walmart's catalog
    item = catalog_item(1, price="25.00")
    found = client.items.search(upc=item.upc)
    assert [(result.item_id, result.title) for result in found] == [(item.item_id, "Catalog thing 1")]
    assert client.items.search(upc="036000291452") == []
    # when the seller matches two SKUs (one unknown identifier)
    payload = match_payload(match_item("SKU-1", item.upc, price=24.99), match_item("SKU-2", "036000291452"))
    ack = client.feeds.submit(feed_type="MP_ITEM_MATCH", payload=payload)
    # then the feed is processed (delay 0 in tests) with per-item results
    status = client.feeds.status(ack.feed_id)
    assert (status.feed_status, status.items_received, status.items_succeeded, status.items_failed) == (
        "PROCESSED",
        2,
        1,
        1,
    )
    results = {result.sku: result for result in client.feeds.iter_item_results(ack.feed_id)}
    assert results["SKU-1"].status == "SUCCESS"
    assert results["SKU-2"].status == "DATA_ERROR"
    assert results["SKU-2"].errors[0].code == "ERR_EXT_DATA_ITEM_NOT_FOUND"
    assert [summary.feed_id for summary in client.feeds.iter_all()] == [ack.feed_id]
    items = list(client.items.iter_all())
    assert [(found.sku, found.price, found.published_status) for found in items] == [
        ("SKU-1", Decimal("24.99"), "PUBLISHED")
    ]
    assert client.items.get("SKU-1").gtin == item.gtin
    assert client.items.count() == 1
    assert client.items.retire("SKU-1").sku == "SKU-1"
    assert Offer.objects.get().lifecycle_status == "RETIRED"
    with pytest.raises(WalmartNotFound):
        client.items.get("NOPE")


def test_items_iterate_across_cursor_pages(client, http_seller):
    for index in range(1, 8):
        published_offer(http_seller, f"SKU-{index}", index=index)
    assert [item.sku for item in client.items.iter_all(page_size=3)] == [f"SKU-{index}" for index in range(1, 8)]


def test_inventory_and_price(client, http_seller):
    for index in range(1, 4):
        published_offer(http_seller, f"SKU-{index}", index=index, quantity=index, price="10.00")
    assert client.inventory.update("SKU-1", 40).quantity == 40
    assert client.inventory.get("SKU-1").quantity == 40
    assert sorted((row.sku, row.quantity) for row in client.inventory.iter_all(page_size=2)) == [
        ("SKU-1", 40),
        ("SKU-2", 2),
        ("SKU-3", 3),
    ]
    results = client.inventory.update_nodes("SKU-2", {http_seller.ship_node: 9, "999": 1})
    assert [(result.ship_node, result.status) for result in results] == [
        (http_seller.ship_node, "Success"),
        ("999", "Failure"),
    ]
    assert Offer.objects.get(sku="SKU-2").quantity == 9
    assert client.prices.update("SKU-3", Decimal("12.34")).sku == "SKU-3"
    assert Offer.objects.get(sku="SKU-3").price == Decimal("12.34")
    with pytest.raises(WalmartNotFound):
        client.inventory.update("NOPE", 1)


def test_inventory_and_price_feeds(client, http_seller):
    published_offer(http_seller, "SKU-1", index=1, quantity=1, price="10.00")
    inventory = client.feeds.submit(feed_type="inventory", payload=inventory_feed_payload({"SKU-1": 77, "GHOST": 1}))
    status = client.feeds.status(inventory.feed_id)
    assert (status.items_succeeded, status.items_failed) == (1, 1)
    price = client.feeds.submit(feed_type="price", payload=price_feed_payload({"SKU-1": Decimal("8.88")}))
    assert client.feeds.status(price.feed_id).items_succeeded == 1
    offer = Offer.objects.get()
    assert (offer.quantity, offer.price) == (77, Decimal("8.88"))


@pytest.fixture
def order(http_seller):
    published_offer(http_seller, "SKU-1", index=1, quantity=10, price="10.00")
    published_offer(http_seller, "SKU-2", index=2, quantity=10, price="5.00")
    return services.order_simulate(seller=http_seller, lines=[("SKU-1", 3), ("SKU-2", 2)], method_code="Standard")


def test_orders_read_ack_ship_cancel_refund(client, order):
    po = order.purchase_order_id
    since = datetime.now(tz=UTC) - timedelta(days=1)
    listed = list(client.orders.iter_all(created_start_date=since))
    assert [found.purchase_order_id for found in listed] == [po]
    assert [found.purchase_order_id for found in client.orders.iter_released(created_start_date=since)] == [po]
    remote = client.orders.get(po)
    first = remote.lines[0]
    assert (first.sku, first.quantity, first.charges[0].amount, first.charges[0].tax_amount) == (
        "SKU-1",
        3,
        Decimal("30.00"),
        Decimal("2.48"),
    )
    assert [(status.status, status.quantity) for status in first.statuses] == [("Created", 3)]
    # shipping before acknowledging is refused, in Walmart's shape
    ship = ShipLine(
        line_number=1,
        quantity=2,
        tracking_number="1Z1",
        method_code="Standard",
        carrier="UPS",
        ship_datetime=datetime.now(tz=UTC),
    )
    with pytest.raises(WalmartBadRequest) as raised:
        client.orders.ship(po, lines=[ship], seller_order_id="SO-1")
    assert raised.value.errors[0].description == "Line number 1 must be acknowledged before it can be shipped."
    acknowledged = client.orders.acknowledge(po)
    assert {status.status for line in acknowledged.lines for status in line.statuses} == {"Acknowledged"}
    assert list(client.orders.iter_released(created_start_date=since)) == []
    shipped = client.orders.ship(po, lines=[ship], seller_order_id="SO-1")
    assert [(status.status, status.quantity) for status in shipped.lines[0].statuses] == [
        ("Acknowledged", 1),
        ("Shipped", 2),
    ]
    assert shipped.lines[0].statuses[1].tracking_info.tracking_number == "1Z1"
    with pytest.raises(WalmartBadRequest):  # the same shipment again
        client.orders.ship(po, lines=[ship], seller_order_id="SO-1")
    cancelled = client.orders.cancel(
        po, lines=[CancelLine(line_number=1, quantity=1, reason="SELLER_CANCEL_OUT_OF_STOCK")]
    )
    assert [(status.status, status.quantity) for status in cancelled.lines[0].statuses] == [
        ("Shipped", 2),
        ("Cancelled", 1),
    ]
    with pytest.raises(WalmartBadRequest):  # shipped quantity cannot be cancelled
        client.orders.cancel(po, lines=[CancelLine(line_number=1, quantity=1, reason="SELLER_CANCEL_OUT_OF_STOCK")])
    refunded = client.orders.refund(
        po, lines=[RefundLine(line_number=1, amount=Decimal("-5.00"), tax=Decimal("-0.41"), reason="DamagedItem")]
    )
    assert refunded.lines[0].refund.charges[0].charge.amount == Decimal("-5.00")
    with pytest.raises(WalmartBadRequest):  # more than the 20.00 charged for the shipped two
        client.orders.refund(po, lines=[RefundLine(line_number=1, amount=Decimal("-15.01"), reason="DamagedItem")])
    assert LineRefund.objects.count() == 1
    with pytest.raises(WalmartNotFound):
        client.orders.get("0000000000000")


def test_empty_order_list_is_an_empty_iteration(client, http_seller):
    assert list(client.orders.iter_all(created_start_date=datetime.now(tz=UTC) - timedelta(days=1))) == []


def test_orders_iterate_across_cursor_pages(client, http_seller):
    published_offer(http_seller, "SKU-1", quantity=100)
    placed = [services.order_simulate(seller=http_seller, lines=[("SKU-1", 1)]) for _ in range(5)]
    since = datetime.now(tz=UTC) - timedelta(days=1)
    found = [remote.purchase_order_id for remote in client.orders.iter_all(created_start_date=since, limit=2)]
    assert found == [order.purchase_order_id for order in reversed(placed)]


def test_returns_list_and_refund(client, http_seller, order):
    po = order.purchase_order_id
    client.orders.acknowledge(po)
    client.orders.ship(
        po,
        lines=[
            ShipLine(
                line_number=2,
                quantity=2,
                tracking_number="T",
                method_code="Standard",
                carrier="USPS",
                ship_datetime=datetime.now(tz=UTC),
            )
        ],
        seller_order_id="SO-9",
    )
    return_order = services.return_simulate(seller=http_seller, quantity=1, reason="DEFECTIVE")
    returns = list(client.returns.iter_all())
    assert [(found.return_order_id, found.lines[0].sku, found.lines[0].quantity) for found in returns] == [
        (return_order.return_order_id, "SKU-2", 1)
    ]
    result = client.returns.refund(
        return_order.return_order_id,
        customer_order_id=order.customer_order_id,
        lines=[ReturnRefundLine(return_order_line_number=1, quantity=1)],
    )
    assert result.return_order_id == return_order.return_order_id
    assert list(client.returns.iter_all())[0].lines[0].refunded_qty == 1
    with pytest.raises(WalmartBadRequest):
        client.returns.refund(
            return_order.return_order_id,
            customer_order_id=order.customer_order_id,
            lines=[ReturnRefundLine(return_order_line_number=1, quantity=1)],
        )


def test_notifications_and_settings(live_server, client, http_seller):
    assert "PO_CREATED" in {event.event_type for event in client.notifications.event_types()}
    created = client.notifications.create_subscription(
        events=[
            build_event(
                event_type="PO_CREATED",
                resource_name="ORDER",
                event_url="https://shop.example/hook",
                auth_details={"authMethod": "HMAC", "authHeaderName": "WM_SEC.SIGNATURE"},
            )
        ]
    )
    subscription_id = created[0].subscription_id
    assert [found.subscription_id for found in client.notifications.subscriptions()] == [subscription_id]
    assert client.notifications.update_subscription(subscription_id, status="INACTIVE").status == "INACTIVE"
    with responses.RequestsMock() as outbound:  # the emulator's call to the seller's URL leaves the process
        outbound.add_passthru(live_server.url)
        outbound.add(responses.POST, "https://shop.example/check", status=200)
        message = client.notifications.test(
            event=build_event(event_type="PO_CREATED", resource_name="ORDER", event_url="https://shop.example/check")
        )
    assert message == "Eventurl successfully validated"
    client.notifications.delete_subscription(subscription_id)
    assert not WebhookSubscription.objects.exists()
    profile = client.settings.partner_profile()
    limits = {limit.feed_type: (limit.count, limit.window_seconds) for limit in profile.feed_limits}
    assert limits["inventory"] == (10, 3600)
    assert limits["price"] == (10, 3600)
    assert [carrier["carrierMethodName"] for carrier in client.settings.shipping_carriers()][:2] == ["USPS", "UPS"]


def test_rate_limit_headers_and_429(client, http_seller, settings):
    settings.WALMART_EMULATOR_RATE_LIMITS = {"inventory_update": {"count": 2, "seconds": 60}}
    published_offer(http_seller, "SKU-1", quantity=0)
    client.inventory.update("SKU-1", 1)
    assert client.rate_limits["inventory.update"].tokens_left == 1
    client.inventory.update("SKU-1", 2)
    with pytest.raises(WalmartRateLimited) as raised:
        client.inventory.update("SKU-1", 3)
    assert raised.value.retry_after == pytest.approx(30, abs=1)
    assert Offer.objects.get().quantity == 2


def test_server_error_is_retried_by_the_client_for_reads(live_server, http_seller):
    published_offer(http_seller, "SKU-1", quantity=4)
    with make_client(live_server, http_seller, max_retries=2) as walmart:
        walmart.token_detail()
        services.fault_set(seller=http_seller, error_share=1.0, error_status=503, remaining=1)
        assert walmart.inventory.get("SKU-1").quantity == 4
        services.fault_set(seller=http_seller, error_share=1.0, error_status=500, remaining=None)
        with pytest.raises(WalmartServerError) as raised:
            walmart.inventory.get("SKU-1")
        assert raised.value.status == 500


def test_lost_answer_is_an_ambiguous_connection_error_after_the_change(client, http_seller, order):
    client.token_detail()
    services.fault_set(seller=http_seller, lost_answer_share=1.0, remaining=1)
    with pytest.raises(WalmartConnectionError) as raised:
        client.orders.acknowledge(order.purchase_order_id)
    assert raised.value.request_sent is True
    # the change was applied: reading back shows it
    assert {row.status for row in LineStatus.objects.filter(line__order=order)} == {"Acknowledged"}
    remote = client.orders.get(order.purchase_order_id)
    assert {status.status for line in remote.lines for status in line.statuses} == {"Acknowledged"}


def test_hang_past_the_timeout_is_a_connection_error_and_applies_nothing(live_server, http_seller, order):
    with make_client(live_server, http_seller, timeout=0.3) as walmart:
        walmart.token_detail()
        services.fault_set(seller=http_seller, hang_seconds=1.0, remaining=1)
        with pytest.raises(WalmartConnectionError) as raised:
            walmart.orders.acknowledge(order.purchase_order_id)
        assert raised.value.request_sent is True
    time.sleep(1.0)
    assert {row.status for row in LineStatus.objects.filter(line__order=order)} == {"Created"}
    assert Order.objects.get(pk=order.pk).is_open is True
