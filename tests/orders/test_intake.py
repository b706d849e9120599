"""Intake: polling, webhooks, acknowledgement, stock reservation, Walmart-side changes."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockMovement
from orders.models import Order, OrderEvent, OrderLine, OrderSettings, WebhookEvent
from orders.services import order_poll
from tests.orders.conftest import after_commit, calls_to
from tests.orders.factories import ORDER_DATE, line_json, order_json, orders_page

pytestmark = pytest.mark.django_db


def acknowledged(order: dict) -> dict:
    order = json.loads(json.dumps(order, default=str))
    for line in order["orderLines"]["orderLine"]:
        for status in line["orderLineStatuses"]["orderLineStatus"]:
            if status["status"] == "Created":
                status["status"] = "Acknowledged"
    return order


def mock_orders(walmart_api, api_base, orders: list[dict]) -> None:
    walmart_api.add(responses.GET, f"{api_base}/v3/orders", json=orders_page(orders))
    walmart_api.add(responses.GET, f"{api_base}/v3/orders/released", status=404, json={})
    for order in orders:
        po = order["purchaseOrderId"]
        walmart_api.add(responses.GET, f"{api_base}/v3/orders/{po}", json={"order": order})
        walmart_api.add(responses.POST, f"{api_base}/v3/orders/{po}/acknowledge", json={"order": acknowledged(order)})


def test_polling_twice_stores_one_order_acknowledged_once_with_stock_reserved_once(
    store, walmart_api, api_base, listed_product, order_settings
):
    # given: Walmart has one order for 2 units of SKU-1
    remote = order_json("PO-1", lines=[line_json(quantity=2, price="20.00", tax="1.60")])
    mock_orders(walmart_api, api_base, [remote])
    # when: polled twice (Walmart's list shows the order acknowledged the second time)
    with after_commit():
        first = order_poll(store=store)
    walmart_api.replace(responses.GET, f"{api_base}/v3/orders", json=orders_page([acknowledged(remote)]))
    with after_commit():
        second = order_poll(store=store)
    # then: one order, created then unchanged (the acknowledged answer was already stored)
    assert (first.created, first.updated, first.unchanged) == (1, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    order = Order.objects.get()
    assert order.purchase_order_id == "PO-1"
    assert order.commerce_order_number == "WM00000001"
    assert order.order_total == order.product_total + order.tax_total
    assert str(order.order_total) == "21.60"
    assert order.status == Order.Status.OPEN
    assert order.acknowledged_at is not None
    line = OrderLine.objects.get()
    assert (line.quantity, line.quantity_acknowledged, line.quantity_created, line.stock_reserved) == (2, 2, 0, 2)
    # and: acknowledged once (the timeline keeps Walmart's correlation id of that call), stock reserved once
    ack_calls = calls_to(walmart_api, "POST", "/v3/orders/PO-1/acknowledge")
    assert len(ack_calls) == 1
    ack_event = order.events.get(message="Acknowledged on Walmart.")
    assert ack_event.correlation_id == ack_calls[0].request.headers["WM_QOS.CORRELATION_ID"]
    listed_product.refresh_from_db()
    assert listed_product.quantity == 8
    assert list(StockMovement.objects.values_list("reason", "delta")) == [("order_reservation", -2)]
    # and: the watermark advanced, and the second poll overlapped the first window
    order_settings.refresh_from_db()
    assert order_settings.polled_through is not None
    assert second.window_start < first.window_start + timedelta(days=7)
    assert second.window_start > timezone.now() - timedelta(seconds=660)


def test_second_poll_reads_from_the_watermark_minus_the_overlap(store, walmart_api, api_base, order_settings):
    # given
    mock_orders(walmart_api, api_base, [])
    watermark = timezone.now() - timedelta(hours=1)
    OrderSettings.objects.filter(pk=order_settings.pk).update(polled_through=watermark, poll_overlap_seconds=120)
    # when
    with after_commit():
        result = order_poll(store=store)
    # then
    assert result.window_start == watermark - timedelta(seconds=120)
    request = calls_to(walmart_api, "GET", "/v3/orders")[0].request
    assert "lastModifiedStartDate=" in request.url
    # and: the released queue is read for orders created before that window (the window itself was just read)
    released = calls_to(walmart_api, "GET", "/v3/orders/released")[0].request
    assert "createdEndDate=" in released.url
    assert "createdStartDate=" in released.url
    order_settings.refresh_from_db()
    assert order_settings.polled_through > watermark


def test_a_failed_poll_keeps_the_watermark_and_records_the_error(store, walmart_api, api_base, order_settings):
    # given: Walmart fails on the order list
    watermark = timezone.now() - timedelta(hours=1)
    OrderSettings.objects.filter(pk=order_settings.pk).update(polled_through=watermark)
    walmart_api.add(responses.GET, f"{api_base}/v3/orders", status=400, json={"errors": [{"code": "BAD"}]})
    # when
    with pytest.raises(Exception, match="BAD"):
        with after_commit():
            order_poll(store=store)
    # then
    order_settings.refresh_from_db()
    assert order_settings.polled_through == watermark
    assert "BAD" in order_settings.last_poll_error
    assert Order.objects.count() == 0


def test_a_line_whose_sku_has_no_listing_is_kept_as_error(store, walmart_api, api_base, listed_product):
    # given: line 2 is a SKU this store does not list
    mock_orders(walmart_api, api_base, [order_json("PO-2", lines=[line_json("1", "SKU-1"), line_json("2", "NOPE")])])
    # when
    with after_commit():
        order_poll(store=store)
    # then
    order = Order.objects.get()
    assert order.status == Order.Status.ERROR
    assert order.status_details == (
        "Line 2: Walmart SKU NOPE is not linked to a catalog product in this store (nothing reserved). "
        "Link this SKU and the order is processed again."
    )
    errored = OrderLine.objects.get(line_number="2")
    assert (errored.status, errored.listing_id, errored.stock_reserved) == ("Error", None, 0)
    assert OrderLine.objects.get(line_number="1").stock_reserved == 1


def test_auto_acknowledge_off_does_not_acknowledge(store, walmart_api, api_base, order_settings):
    OrderSettings.objects.filter(pk=order_settings.pk).update(auto_acknowledge=False)
    mock_orders(walmart_api, api_base, [order_json("PO-3")])
    with after_commit():
        order_poll(store=store)
    assert Order.objects.get().acknowledged_at is None
    assert calls_to(walmart_api, "POST", "/v3/orders/PO-3/acknowledge") == []


def test_walmart_side_cancellation_returns_stock_once(store, walmart_api, api_base, listed_product):
    # given: an order for 3 units was stored (3 reserved)
    mock_orders(walmart_api, api_base, [order_json("PO-4", lines=[line_json(quantity=3)])])
    with after_commit():
        order_poll(store=store)
    # when: Walmart auto-cancels 2 of them, and the order is read twice
    walmart_api.replace(
        responses.GET,
        f"{api_base}/v3/orders",
        json=orders_page(
            [order_json("PO-4", lines=[line_json(quantity=3, statuses=[("Acknowledged", 1), ("Cancelled", 2)])])]
        ),
    )
    with after_commit():
        order_poll(store=store)
    with after_commit():
        order_poll(store=store)
    # then: 2 units came back exactly once
    listed_product.refresh_from_db()
    assert listed_product.quantity == 10 - 3 + 2
    assert list(StockMovement.objects.order_by("id").values_list("reason", "delta")) == [
        ("order_reservation", -3),
        ("order_cancellation", 2),
    ]
    line = OrderLine.objects.get()
    assert (line.quantity_cancelled, line.stock_released) == (2, 2)
    messages = list(Order.objects.get().events.values_list("message", flat=True))
    assert "Walmart: line 1 (SKU-1): cancelled 0 -> 2" in messages
    assert "2 unit(s) of SKU-1 cancelled on Walmart returned to stock." in messages


def test_intent_to_cancel_is_pulled_back_and_flagged(store, walmart_api, api_base, listed_product):
    mock_orders(walmart_api, api_base, [order_json("PO-5", lines=[line_json(intent_to_cancel="Y")])])
    with after_commit():
        order_poll(store=store)
    order = Order.objects.get()
    assert order.intent_to_cancel is True
    assert "intent_to_cancel" in order.flags(now=ORDER_DATE)


def test_flags_ship_by_today_late_and_auto_cancel_risk(store):
    order = Order(store=store, order_date=ORDER_DATE, ship_by=ORDER_DATE + timedelta(hours=5))
    assert order.flags(now=ORDER_DATE) == ["ship_by_today"]
    assert order.flags(now=ORDER_DATE + timedelta(days=1)) == ["late"]
    assert order.flags(now=ORDER_DATE + timedelta(days=3, hours=6)) == ["late", "auto_cancel_risk"]
    order.status = Order.Status.SHIPPED
    assert order.flags(now=ORDER_DATE + timedelta(days=3, hours=6)) == []


# --- webhooks ------------------------------------------------------------------------------------------


def delivery(po="PO-1", event_id="evt-1") -> bytes:
    return json.dumps(
        {
            "source": {"eventType": "PO_CREATED", "eventTime": "2026-11-20T15:00:00.000Z", "eventId": event_id},
            "payload": {"partnerId": "1", "purchaseOrderId": po},
        }
    ).encode()


def signature(store, body: bytes) -> str:
    return base64.b64encode(hmac.new(store.client_secret.encode(), body, hashlib.sha256).digest()).decode()


def post_webhook(client, order_settings, body: bytes, signature_value: str | None):
    headers = {} if signature_value is None else {"HTTP_X_WALMART_SIGNATURE": signature_value}
    return client.post(
        reverse("orders:webhook_receive", args=[order_settings.webhook_token]),
        data=body,
        content_type="application/json",
        **headers,
    )


def test_webhook_fetches_the_order_and_a_poll_then_finds_the_same_one(
    client, store, walmart_api, api_base, order_settings, listed_product
):
    # given
    mock_orders(walmart_api, api_base, [order_json("PO-1")])
    body = delivery()
    # when: the webhook arrives, then the poll runs
    with after_commit():
        response = post_webhook(client, order_settings, body, signature(store, body))
    with after_commit():
        order_poll(store=store)
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    order = Order.objects.get()
    assert order.purchase_order_id == "PO-1"
    assert order.acknowledged_at is not None
    assert len(calls_to(walmart_api, "GET", "/v3/orders/PO-1")) == 1
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/acknowledge")) == 1
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.event_type, event.purchase_order_id) == ("evt-1", "PO_CREATED", "PO-1")
    assert event.processed_at is not None
    assert order.events.filter(actor=OrderEvent.Actor.WEBHOOK).count() == 1
    listed_product.refresh_from_db()
    assert listed_product.quantity == 9


def test_hex_encoded_signature_is_accepted_too(client, store, walmart_api, api_base, order_settings):
    mock_orders(walmart_api, api_base, [order_json("PO-1")])
    body = delivery()
    hex_signature = hmac.new(store.client_secret.encode(), body, hashlib.sha256).hexdigest()
    with after_commit():
        response = post_webhook(client, order_settings, body, hex_signature)
    assert response.status_code == 200
    assert Order.objects.count() == 1


@pytest.mark.parametrize("signature_value", [None, "", "bm90LWEtc2lnbmF0dXJl", "0" * 64])
def test_webhook_with_a_bad_signature_is_refused_and_changes_nothing(
    client, store, walmart_api, order_settings, signature_value
):
    # when
    with after_commit():
        response = post_webhook(client, order_settings, delivery(), signature_value)
    # then
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert Order.objects.count() == 0
    assert len(walmart_api.calls) == 0


def test_webhook_signed_for_another_body_is_refused(client, store, walmart_api, order_settings):
    with after_commit():
        response = post_webhook(client, order_settings, delivery(po="PO-9"), signature(store, delivery(po="PO-1")))
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_webhook_to_an_unknown_token_is_refused(client, store, walmart_api, order_settings):
    body = delivery()
    response = client.post(
        "/webhooks/walmart/not-a-token/",
        data=body,
        content_type="application/json",
        HTTP_X_WALMART_SIGNATURE=signature(store, body),
    )
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_a_duplicate_event_is_ignored(client, store, walmart_api, api_base, order_settings):
    # given
    mock_orders(walmart_api, api_base, [order_json("PO-1")])
    body = delivery()
    with after_commit():
        post_webhook(client, order_settings, body, signature(store, body))
    # when: Walmart delivers the same event again
    with after_commit():
        response = post_webhook(client, order_settings, body, signature(store, body))
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1
    assert len(calls_to(walmart_api, "GET", "/v3/orders/PO-1")) == 1
    assert Order.objects.count() == 1


def test_basic_auth_webhook(client, store, walmart_api, api_base, order_settings):
    # given: the subscription uses basic authentication
    order_settings.webhook_auth_method = OrderSettings.WebhookAuth.BASIC
    order_settings.webhook_auth_header = "Authorization"
    order_settings.webhook_basic_username = "walmart"
    order_settings.webhook_basic_password = "pa55word"
    order_settings.save()
    mock_orders(walmart_api, api_base, [order_json("PO-1")])
    url = reverse("orders:webhook_receive", args=[order_settings.webhook_token])
    good = "Basic " + base64.b64encode(b"walmart:pa55word").decode()
    bad = "Basic " + base64.b64encode(b"walmart:wrong").decode()
    # when
    with after_commit():
        refused = client.post(url, data=delivery(), content_type="application/json", HTTP_AUTHORIZATION=bad)
    with after_commit():
        accepted = client.post(url, data=delivery(), content_type="application/json", HTTP_AUTHORIZATION=good)
    # then
    assert (refused.status_code, accepted.status_code) == (401, 200)
    assert WebhookEvent.objects.count() == 1


def test_status_card_counters_follow_every_status_change(store, walmart_api, api_base, listed_product):
    # given: two orders, one of them for a SKU without listing (Error)
    from orders.models import OrderStatusCount
    from orders.services import order_status_counts_rebuild

    mock_orders(walmart_api, api_base, [order_json("PO-A"), order_json("PO-B", lines=[line_json(sku="NOPE")])])
    with after_commit():
        order_poll(store=store)
    # when: Walmart shows PO-A shipped
    shipped = order_json("PO-A", lines=[line_json(statuses=[("Shipped", 1, "1Z")])])
    walmart_api.replace(responses.GET, f"{api_base}/v3/orders", json=orders_page([shipped]))
    with after_commit():
        order_poll(store=store)
    # then: the counters equal a fresh count
    kept = dict(OrderStatusCount.objects.filter(store=store).values_list("status", "count"))
    assert {status: count for status, count in kept.items() if count} == {"shipped": 1, "error": 1}
    assert order_status_counts_rebuild(store=store) == {
        "open": 0,
        "shipped": 1,
        "partially_shipped": 0,
        "canceled": 0,
        "error": 1,
    }
