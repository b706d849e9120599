"""Admin actions (pluralised counts), the periodic jobs, Channel Settings -> Webhooks, and the order detail."""

from datetime import timedelta

import pytest
import responses
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from channel_manager.work import sweep_all
from orders.models import Order, OrderSettings, Shipment
from orders.services import order_upsert_from_walmart, shipment_create, stores_poll_due
from tests.orders.conftest import after_commit, calls_to
from tests.orders.factories import line_json, order_json
from walmart_client.models import WalmartOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123456")
    client.force_login(user)
    return client


def stored(store, po="PO-1", **kwargs) -> Order:
    order, _ = order_upsert_from_walmart(
        store=store, remote=WalmartOrder.from_api(order_json(po, **kwargs)), actor="schedule"
    )
    return order


def test_admin_reacknowledges_and_rereads_with_pluralised_counts(
    admin_client, store, walmart_api, api_base, listed_product
):
    # given: two stored orders Walmart knows
    orders = [stored(store, "PO-1"), stored(store, "PO-2")]
    for po in ("PO-1", "PO-2"):
        walmart_api.add(
            responses.POST,
            f"{api_base}/v3/orders/{po}/acknowledge",
            json={"order": order_json(po, lines=[line_json(statuses=[("Acknowledged", 1)])])},
        )
        walmart_api.add(
            responses.GET,
            f"{api_base}/v3/orders/{po}",
            json={"order": order_json(po, lines=[line_json(statuses=[("Acknowledged", 1)])])},
        )
    url = reverse("admin:orders_order_changelist")
    ids = [order.pk for order in orders]
    # when
    acknowledged = admin_client.post(url, {"action": "reacknowledge", "_selected_action": ids}, follow=True)
    reread = admin_client.post(url, {"action": "reread_from_walmart", "_selected_action": ids[:1]}, follow=True)
    # then
    assert "2 orders acknowledged." in acknowledged.content.decode()
    assert "1 order re-read." in reread.content.decode()
    assert Order.objects.filter(acknowledged_at__isnull=False).count() == 2
    assert len(calls_to(walmart_api, "POST", "/acknowledge")) == 2
    assert len(calls_to(walmart_api, "GET", "/v3/orders/PO-1")) == 1


def test_admin_retries_failed_shipments(admin_client, store, walmart_api, api_base, listed_product):
    # given: a shipment Walmart refused
    order = stored(store, lines=[line_json(statuses=[("Acknowledged", 1)])])
    Order.objects.filter(pk=order.pk).update(acknowledged_at=timezone.now())
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        status=400,
        json={"errors": [{"code": "BAD", "description": "no"}]},
    )
    with after_commit():
        shipment = shipment_create(
            order=order,
            quantities={order.lines.get().pk: 1},
            tracking_number="T1",
            method_code="Standard",
            ship_date=timezone.now(),
            carrier="UPS",
        )
    shipment.refresh_from_db()
    assert shipment.status == "error"
    walmart_api.replace(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        json={"order": order_json("PO-1", lines=[line_json(statuses=[("Shipped", 1, "T1")])])},
    )
    # when
    with after_commit():
        response = admin_client.post(
            reverse("admin:orders_shipment_changelist"),
            {"action": "retry_selected", "_selected_action": [shipment.pk]},
            follow=True,
        )
    # then
    assert "1 shipment queued again." in response.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == "sent"


def test_poll_is_due_per_store_interval(store, other_store, order_settings):
    now = timezone.now()
    OrderSettings.objects.filter(pk=order_settings.pk).update(
        poll_interval_seconds=300, last_poll_started_at=now - timedelta(seconds=100)
    )
    OrderSettings.objects.create(
        store=other_store, poll_interval_seconds=60, last_poll_started_at=now - timedelta(seconds=100)
    )
    assert stores_poll_due(now=now) == [other_store.pk]
    other_store.orders_enabled = False
    other_store.save()
    assert stores_poll_due(now=now + timedelta(seconds=300)) == [store.pk]


def test_lost_push_tasks_are_enqueued_again(store, walmart_api, api_base, listed_product):
    # given: a pending shipment whose task never ran (enqueued outside any commit hook here)
    order = stored(store, lines=[line_json(statuses=[("Acknowledged", 1)])])
    Order.objects.filter(pk=order.pk).update(acknowledged_at=timezone.now())
    shipment = shipment_create(
        order=order,
        quantities={order.lines.get().pk: 1},
        tracking_number="T9",
        method_code="Standard",
        ship_date=timezone.now(),
        carrier="UPS",
    )
    Shipment.objects.filter(pk=shipment.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/shipping",
        json={"order": order_json("PO-1", lines=[line_json(statuses=[("Shipped", 1, "T9")])])},
    )
    # when: the one sweeper runs
    counts = sweep_all()
    # then
    assert counts["orders.shipment"] == 1
    shipment.refresh_from_db()
    assert shipment.status == "sent"
    assert sweep_all()["orders.shipment"] == 0


def test_webhooks_page_subscribes_and_sends_the_test_event(
    operator_client, store, walmart_api, api_base, order_settings
):
    # given
    walmart_api.add(
        responses.GET,
        f"{api_base}/v3/webhooks/eventTypes",
        json={
            "eventTypes": [
                {"resourceName": "ORDER", "eventType": "PO_CREATED", "eventVersion": "V1"},
                {"resourceName": "ORDER", "eventType": "ORDER_UPDATES", "eventVersion": "V1"},
            ]
        },
    )
    walmart_api.add(
        responses.POST, f"{api_base}/v3/webhooks/subscriptions", json={"events": [{"subscriptionId": "S-1"}]}
    )
    url = reverse("orders:webhook_settings", args=[store.pk])
    endpoint = "http://testserver" + reverse("orders:webhook_receive", args=[order_settings.webhook_token])
    walmart_api.add(
        responses.GET,
        f"{api_base}/v3/webhooks/subscriptions",
        json={
            "events": [
                {
                    "event": [
                        {
                            "subscriptionId": "S-1",
                            "eventType": "PO_CREATED",
                            "resourceName": "ORDER",
                            "eventUrl": endpoint,
                            "status": "ACTIVE",
                        }
                    ]
                }
            ]
        },
    )
    walmart_api.add(responses.POST, f"{api_base}/v3/webhooks/test", json={"message": "Eventurl successfully validated"})
    # when
    subscribed = operator_client.post(url, {"action": "subscribe"}, follow=True)
    tested = operator_client.post(url, {"action": "test"}, follow=True)
    # then
    assert "Subscribed to 1 order event type(s)." in subscribed.content.decode()
    assert "Walmart&#x27;s test event: Eventurl successfully validated" in tested.content.decode()
    import json

    body = json.loads(calls_to(walmart_api, "POST", "/v3/webhooks/subscriptions")[0].request.body)
    assert body["events"] == [
        {
            "eventType": "PO_CREATED",
            "eventVersion": "V1",
            "resourceName": "ORDER",
            "eventUrl": endpoint,
            "headers": {"content-type": "application/json"},
            "authDetails": {"authMethod": "HMAC", "authHeaderName": "X-Walmart-Signature"},
            "status": "ACTIVE",
        }
    ]
    assert OrderSettings.objects.get(pk=order_settings.pk).webhook_subscription_ids == ["S-1"]


def test_cannot_ship_a_line_the_customer_asked_to_cancel(store, listed_product, walmart_api):
    from django.core.exceptions import ValidationError

    order = stored(store, lines=[line_json(statuses=[("Acknowledged", 1)], intent_to_cancel="Y")])
    with pytest.raises(ValidationError) as error:
        shipment_create(
            order=order,
            quantities={order.lines.get().pk: 1},
            tracking_number="T1",
            method_code="Standard",
            ship_date=timezone.now(),
            carrier="UPS",
        )
    assert "the customer asked to cancel it" in str(error.value)
    assert Shipment.objects.count() == 0


def test_order_detail_shows_lines_address_charges_and_timeline(operator_client, store, listed_product):
    order = stored(
        store, lines=[line_json(quantity=2, price="20.00", tax="1.60", shipping="4.99", intent_to_cancel="Y")]
    )
    html = operator_client.get(reverse("orders:order_detail", args=[store.pk, order.pk])).content.decode()
    assert "The customer asked to cancel this order." in html
    assert "1 Analytical Way" in html
    assert "Bentonville, AR 72712" in html
    assert "<td>20.00</td><td>4.99</td><td>1.60</td>" in html
    assert "Order value 26.59" in html
    assert "Order received from Walmart; commerce order WM00000001 created." in html


def test_operator_acknowledges_from_the_detail_page(operator_client, store, walmart_api, api_base, order_settings):
    # given: automatic acknowledgement is off, the order is not acknowledged
    OrderSettings.objects.filter(pk=order_settings.pk).update(auto_acknowledge=False)
    order = stored(store)
    detail = reverse("orders:order_detail", args=[store.pk, order.pk])
    assert 'id="acknowledge-button"' in operator_client.get(detail).content.decode()
    walmart_api.add(
        responses.POST,
        f"{api_base}/v3/orders/PO-1/acknowledge",
        json={"order": order_json("PO-1", lines=[line_json(statuses=[("Acknowledged", 1)])])},
    )
    # when: pressed twice
    url = reverse("orders:order_acknowledge", args=[store.pk, order.pk])
    first = operator_client.post(url, follow=True).content.decode()
    second = operator_client.post(url, follow=True).content.decode()
    # then: Walmart is called once
    assert "Acknowledged on Walmart." in first
    assert "Already acknowledged" in second
    assert len(calls_to(walmart_api, "POST", "/v3/orders/PO-1/acknowledge")) == 1
    order.refresh_from_db()
    assert order.acknowledged_at is not None
    assert order.lines.get().quantity_acknowledged == 1


def test_a_poll_already_running_for_the_store_is_not_started_twice(store, walmart_api, api_base, order_settings):
    from django.core.cache import cache

    from orders.tasks import order_poll_task

    walmart_api.add(responses.GET, f"{api_base}/v3/orders", status=404, json={})
    walmart_api.add(responses.GET, f"{api_base}/v3/orders/released", status=404, json={})
    cache.set(f"orders:poll:{store.pk}", 1, timeout=60)  # another worker is polling this store
    order_poll_task.delay(store.pk)
    assert calls_to(walmart_api, "GET", "/v3/orders") == []
    cache.delete(f"orders:poll:{store.pk}")
    order_poll_task.delay(store.pk)
    assert len(calls_to(walmart_api, "GET", "/v3/orders")) == 1
    assert cache.get(f"orders:poll:{store.pk}") is None
    order_settings.refresh_from_db()
    assert order_settings.polled_through is not None


def test_admin_change_pages_show_pushes_and_timeline_read_only(
    admin_client, store, walmart_api, api_base, listed_product
):
    # given: an order with a failed shipment
    order = stored(store, lines=[line_json(statuses=[("Acknowledged", 1)])])
    Order.objects.filter(pk=order.pk).update(acknowledged_at=timezone.now())
    walmart_api.add(
        responses.POST, f"{api_base}/v3/orders/PO-1/shipping", status=400, json={"errors": [{"code": "BAD"}]}
    )
    with after_commit():
        shipment = shipment_create(
            order=order,
            quantities={order.lines.get().pk: 1},
            tracking_number="T1",
            method_code="Standard",
            ship_date=timezone.now(),
            carrier="UPS",
        )
    # when
    order_page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    shipment_page = admin_client.get(reverse("admin:orders_shipment_change", args=[shipment.pk])).content.decode()
    # then: the inlines list the shipment and the timeline, with no inputs, no extra rows, no delete boxes
    assert "T1" in order_page
    assert "Order received from Walmart; commerce order WM00000001 created." in order_page
    assert 'name="shipments-0-tracking_number"' not in order_page
    assert 'name="events-0-message"' not in order_page
    assert "shipments-0-DELETE" not in order_page
    assert 'name="shipments-TOTAL_FORMS" value="1"' in order_page
    # and: the shipment's own page shows every field read-only, its state in the usual order
    assert '<input type="text"' not in shipment_page
    labels = ["Status:", "Error:", "Correlation id:", "Attempts:", "Request maybe applied:", "Sent at:", "Order:"]
    positions = [shipment_page.index(label) for label in labels]
    assert positions == sorted(positions)
