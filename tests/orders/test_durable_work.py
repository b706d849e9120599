"""Durable work around a push: a broker outage after commit never reaches the operator (the saved action
waits, pending, for the sweeper); a rate limit reschedules the task for Walmart's replenish time instead of
holding the worker."""

from datetime import timedelta

import pytest
import responses
from celery.exceptions import Retry
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from channel_manager.work import sweep_all
from orders.models import Order, Shipment
from orders.services import order_upsert_from_walmart, shipment_create
from orders.tasks import shipment_push_task
from tests.orders.conftest import after_commit, calls_to
from tests.orders.factories import line_json, order_json
from walmart_client.models import WalmartOrder

pytestmark = pytest.mark.django_db
SHIP_PATH = "/v3/orders/PO-1/shipping"


@pytest.fixture
def order(store, listed_product):
    """PO-1: 2 units of SKU-1, acknowledged on Walmart, stored."""
    remote = WalmartOrder.from_api(order_json("PO-1", lines=[line_json(quantity=2, statuses=[("Acknowledged", 2)])]))
    stored, _ = order_upsert_from_walmart(store=store, remote=remote, actor="schedule")
    return stored


def ship(order: Order) -> Shipment:
    return shipment_create(
        order=order,
        quantities={order.lines.get().pk: 2},
        tracking_number="1Z-DURABLE",
        method_code="Standard",
        ship_date=order.order_date,
        carrier="UPS",
    )


def shipped_answer() -> dict:
    return {"order": order_json("PO-1", lines=[line_json(quantity=2, statuses=[("Shipped", 2, "1Z-DURABLE")])])}


def test_a_broker_outage_after_commit_leaves_the_shipment_pending_for_the_sweeper(
    operator_client, store, order, walmart_api, api_base, monkeypatch
):
    # given: the broker refuses every task
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(shipment_push_task, "apply_async", broker_down)
    # when: the operator's shipment is saved and committed
    with after_commit():
        shipment = ship(order)
    # then: no error reached the caller; the page shows the shipment pending; nothing was sent
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PENDING
    page = operator_client.get(reverse("orders:order_detail", args=[store.pk, order.pk]))
    assert "1Z-DURABLE" in page.content.decode()
    assert "Pending" in page.content.decode()
    assert calls_to(walmart_api, "POST", SHIP_PATH) == []
    # when: the broker is back and the sweeper runs
    monkeypatch.undo()
    walmart_api.add(responses.POST, f"{api_base}{SHIP_PATH}", json=shipped_answer())
    counts = sweep_all(now=timezone.now() + timedelta(minutes=5))
    # then: sent once
    assert counts["orders.shipment"] == 1
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SENT
    assert len(calls_to(walmart_api, "POST", SHIP_PATH)) == 1


def test_a_rate_limited_push_is_rescheduled_for_the_replenish_time_instead_of_waiting(
    store, order, walmart_api, api_base
):
    # given: Walmart's ship budget is exhausted for 42 s
    walmart_api.add(
        responses.POST,
        f"{api_base}{SHIP_PATH}",
        status=429,
        headers={"Retry-After": "42"},
        json={"errors": [{"code": "REQUEST_THRESHOLD_VIOLATED"}]},
    )
    shipment = ship(order)
    # when: the push task runs
    with pytest.raises(Retry) as retried:
        shipment_push_task.apply(args=[shipment.pk], throw=True)
    # then: rescheduled 42 s later, after one request (no wait-and-resend inside the worker)
    assert retried.value.when == 42.0
    assert len(calls_to(walmart_api, "POST", SHIP_PATH)) == 1
    shipment.refresh_from_db()
    assert (shipment.status, shipment.request_maybe_applied, shipment.attempts) == (Shipment.Status.PENDING, False, 1)
    assert 40 <= (shipment.next_attempt_at - timezone.now()).total_seconds() <= 42


def test_an_acknowledgement_with_walmarts_budget_spent_is_rescheduled_without_calling_walmart(
    store, walmart_api, api_base, listed_product
):
    # given: a new order, and Walmart's last answer said the acknowledge budget refills in 50 s
    from channel_manager.walmart import DjangoRateLimitStore, store_cache_key
    from orders.tasks import order_acknowledge_task
    from walmart_client.ratelimit import RateLimitInfo

    remote = WalmartOrder.from_api(order_json("PO-7", lines=[line_json(quantity=1)]))
    stored, _ = order_upsert_from_walmart(store=store, remote=remote, actor="schedule")
    now = timezone.now()
    DjangoRateLimitStore(store_cache_key(store), store.client_id).set(
        RateLimitInfo("orders.acknowledge", 0, now + timedelta(seconds=50), now)
    )
    # when: its acknowledgement task runs
    with pytest.raises(Retry) as retried:
        order_acknowledge_task.apply(args=[stored.pk], throw=True)
    # then: rescheduled for the refill, nothing sent, the order free for that retry (not in flight)
    assert 45 <= retried.value.when <= 50
    assert calls_to(walmart_api, "POST", "/v3/orders/PO-7/acknowledge") == []
    stored.refresh_from_db()
    assert (stored.acknowledged_at, stored.acknowledging_since, stored.acknowledge_maybe_applied) == (None, None, False)
