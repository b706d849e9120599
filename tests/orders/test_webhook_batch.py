"""Webhook events processed in batches per store: a burst of deliveries becomes one claim, one read-back of
its orders from Walmart (a listing, not one GET each) and one upsert; each event is processed exactly once,
a failing event does not hold up the others, and what no batch processed is swept after 120 s."""

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.db import InterfaceError
from django.utils import timezone

from channel_manager.models import Store
from channel_manager.work import sweep_all
from orders.models import Order, OrderEvent, WebhookEvent
from orders.services import webhook_event_record, webhook_events_process
from orders.services.webhooks import WEBHOOK_CLAIM_SECONDS, WEBHOOK_EVENT_DEADLINE_SECONDS
from orders.tasks import webhook_events_process_task
from tests.emulator_bridge import emulator_bridge
from tests.factories import StoreFactory
from tests.orders.conftest import after_commit, calls_to, run_task_like_a_worker
from tests.orders.factories import ListingFactory, ProductFactory, order_json, orders_page
from walmart_client.errors import WalmartRateLimited
from walmart_emulator import services as emulator

pytestmark = pytest.mark.django_db
SECRET = "emulator-secret-for-batches"
BASE_URL = "http://walmart.batch.test/walmart-emulator"


@pytest.fixture
def walmart():
    with emulator_bridge(BASE_URL) as bridge:
        yield bridge


@pytest.fixture
def shop(walmart):
    """Our store wired to an emulator seller selling MUG-1 and CUP-2 (50 each), both listed here."""
    store = StoreFactory(environment=Store.Environment.EMULATOR, emulator_base_url=BASE_URL, client_secret=SECRET)
    seller = emulator.seller_create(name="Batch seller", client_id=store.client_id, client_secret=SECRET)
    for index, sku in enumerate(("MUG-1", "CUP-2")):
        item = emulator.catalog_item_create(gtin=f"0003600029145{index * 7}", title=f"Item {sku}")
        emulator.offer_create(seller=seller, sku=sku, catalog_item=item, price=Decimal("9.99"), quantity=50)
        ListingFactory(store=store, product=ProductFactory(sku=sku, quantity=50))
    return store, seller


def envelope(event_id: str, purchase_order_id: str, event_type: str = "PO_CREATED") -> dict:
    return {
        "source": {"eventId": event_id, "eventType": event_type, "eventTime": timezone.now().isoformat()},
        "payload": {"purchaseOrderId": purchase_order_id},
    }


def place(seller, count: int) -> list[str]:
    return [
        emulator.order_simulate(seller=seller, lines=[("MUG-1", 1)], method_code="Standard").purchase_order_id
        for _ in range(count)
    ]


def order_reads(walmart) -> tuple[int, int]:
    """(order listings, single order GETs) the emulator answered."""
    listings = [call for call in walmart.calls if call.method == "GET" and call.path.endswith("/v3/orders")]
    singles = [
        call
        for call in walmart.calls
        if call.method == "GET" and "/v3/orders/" in call.path and not call.path.endswith("/released")
    ]
    return len(listings), len(singles)


def test_a_burst_becomes_one_batch_one_listing_and_each_event_is_processed_exactly_once(shop, walmart):
    # given: five orders placed on Walmart, their deliveries recorded in one go (the batch starts after commit)
    store, seller = shop
    placed = place(seller, 5)
    # when
    with after_commit():
        for index, purchase_order_id in enumerate(placed):
            webhook_event_record(store=store, envelope=envelope(f"EV-{index}", purchase_order_id))
    # then: one listing read them all back, no GET per order, every order stored once and acknowledged once
    assert order_reads(walmart) == (1, 0)
    assert set(Order.objects.values_list("purchase_order_id", flat=True)) == set(placed)
    assert WebhookEvent.objects.filter(processed_at__isnull=False, error="", processing_since=None).count() == 5
    received = OrderEvent.objects.filter(actor=OrderEvent.Actor.WEBHOOK, message__startswith="Order received")
    assert sorted(received.values_list("order__purchase_order_id", flat=True)) == sorted(placed)
    assert len(walmart.applied("POST", "/acknowledge")) == 5
    assert Order.objects.filter(acknowledged_at__isnull=False).count() == 5
    # and: a second batch finds nothing to do and reads nothing
    calls = len(walmart.calls)
    again = webhook_events_process(store_id=store.pk)
    assert (again.processed, again.failed, len(walmart.calls)) == ([], {}, calls)


def test_a_duplicate_delivery_in_a_burst_is_recorded_and_processed_once(shop, walmart):
    store, seller = shop
    placed = place(seller, 3)
    # when: Walmart delivers the first event twice
    with after_commit():
        results = [
            webhook_event_record(store=store, envelope=envelope(f"EV-{index}", purchase_order_id))[1]
            for index, purchase_order_id in enumerate([*placed, placed[0]])
        ]
        results.append(webhook_event_record(store=store, envelope=envelope("EV-0", placed[0]))[1])
    # then
    assert results == [True, True, True, True, False]
    assert WebhookEvent.objects.count() == 4  # EV-3 names the first order again: a different event
    assert Order.objects.count() == 3
    assert OrderEvent.objects.filter(message__startswith="Order received").count() == 3
    assert len(walmart.applied("POST", "/acknowledge")) == 3


def test_an_event_claimed_by_a_running_batch_is_left_to_it(shop, walmart):
    # given: a batch claimed the event a moment ago (its worker is still reading Walmart)
    store, seller = shop
    (purchase_order_id,) = place(seller, 1)
    event, _ = webhook_event_record(store=store, envelope=envelope("EV-1", purchase_order_id))
    WebhookEvent.objects.filter(pk=event.pk).update(processing_since=timezone.now())
    # when: another batch runs
    result = webhook_events_process(store_id=store.pk)
    # then: it claims nothing, reads nothing
    assert (result.processed, result.failed) == ([], {})
    assert walmart.calls == []
    assert Order.objects.count() == 0


@pytest.fixture
def mocked(store, walmart_api, api_base, order_settings, listed_product):
    """Walmart mocked at the HTTP boundary: PO-1 and PO-3 are listed and readable, PO-2 does not exist."""
    orders = [order_json("PO-1"), order_json("PO-3")]
    walmart_api.add(responses.GET, f"{api_base}/v3/orders", json=orders_page(orders))
    walmart_api.add(
        responses.GET,
        f"{api_base}/v3/orders/PO-2",
        status=404,
        json={"errors": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API", "description": "Purchase order not found"}]},
    )
    for order in orders:
        po = order["purchaseOrderId"]
        walmart_api.add(responses.POST, f"{api_base}/v3/orders/{po}/acknowledge", json={"order": order})
    return walmart_api


def test_a_failing_event_does_not_hold_up_the_rest_of_the_batch(store, mocked, api_base):
    # given: three events in one batch, the second names an order Walmart cannot find
    with after_commit():
        for index in (1, 2, 3):
            webhook_event_record(store=store, envelope=envelope(f"EV-{index}", f"PO-{index}"))
    # then: the other two are stored and processed; the failing one keeps its error, and its claim as a
    # back-off (the batches queued by the next two deliveries did not read it again): the sweep's
    assert sorted(Order.objects.values_list("purchase_order_id", flat=True)) == ["PO-1", "PO-3"]
    assert len(calls_to(mocked, "GET", "/v3/orders")) == 1
    assert len(calls_to(mocked, "GET", "/v3/orders/PO-2")) == 1
    rows = {
        event.event_id: (event.processed_at is not None, event.attempts, event.processing_since is not None)
        for event in WebhookEvent.objects.all()
    }
    assert rows == {"EV-1": (True, 0, False), "EV-2": (False, 1, True), "EV-3": (True, 0, False)}
    failed = WebhookEvent.objects.get(event_id="EV-2")
    assert "Purchase order not found" in failed.error
    # and: the sweep after the deadline tries it again (still missing: a second attempt counted)
    with after_commit():
        sweep_all(now=timezone.now() + timedelta(seconds=WEBHOOK_EVENT_DEADLINE_SECONDS + WEBHOOK_CLAIM_SECONDS))
    failed.refresh_from_db()
    assert (failed.processed_at, failed.attempts) == (None, 2)
    assert len(calls_to(mocked, "GET", "/v3/orders/PO-2")) == 2


def test_a_rate_limited_read_back_releases_the_claims_without_counting_an_attempt(
    store, walmart_api, api_base, order_settings
):
    # given: Walmart's order-read budget is empty
    walmart_api.add(
        responses.GET,
        f"{api_base}/v3/orders",
        status=429,
        headers={"x-current-token-count": "0", "x-next-replenish-time": "9999999999999"},
        json={"errors": [{"code": "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"}]},
    )
    for index in (1, 2, 3):
        webhook_event_record(store=store, envelope=envelope(f"EV-{index}", f"PO-{index}"))
    # when
    with pytest.raises(WalmartRateLimited):
        webhook_events_process(store_id=store.pk)
    # then: nothing processed, nothing counted, nothing claimed: the rescheduled batch takes them all
    assert (
        list(WebhookEvent.objects.values_list("processed_at", "attempts", "processing_since")) == [(None, 0, None)] * 3
    )
    assert Order.objects.count() == 0


def test_an_event_no_batch_processed_is_swept_after_120_seconds(shop, walmart):
    # given: an event recorded whose batch never ran (lost with Redis), and one whose worker died mid-batch
    store, seller = shop
    lost_po, dead_po = place(seller, 2)
    lost, _ = webhook_event_record(store=store, envelope=envelope("EV-LOST", lost_po))
    dead, _ = webhook_event_record(store=store, envelope=envelope("EV-DEAD", dead_po))
    WebhookEvent.objects.filter(pk=dead.pk).update(processing_since=timezone.now())
    now = timezone.now()
    # when: the sweep runs before the deadline, then after it
    with after_commit():
        early = sweep_all(now=now + timedelta(seconds=WEBHOOK_EVENT_DEADLINE_SECONDS - 5))
    assert early["orders.webhook_event"] == 0
    assert Order.objects.count() == 0
    later = now + timedelta(seconds=max(WEBHOOK_EVENT_DEADLINE_SECONDS, WEBHOOK_CLAIM_SECONDS) + 5)
    with after_commit():
        swept = sweep_all(now=later)
    # then: both processed, each order stored and acknowledged once
    assert swept["orders.webhook_event"] == 2
    assert set(Order.objects.values_list("purchase_order_id", flat=True)) == {lost_po, dead_po}
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert len(walmart.applied("POST", "/acknowledge")) == 2
    with after_commit():
        assert sweep_all(now=later)["orders.webhook_event"] == 0


def test_a_batch_whose_orders_could_not_be_stored_gives_its_claims_back_and_its_retry_processes_them(shop, walmart):
    # given: three events recorded, their batch not run yet
    store, seller = shop
    placed = place(seller, 3)
    for index, purchase_order_id in enumerate(placed):
        webhook_event_record(store=store, envelope=envelope(f"EV-{index}", purchase_order_id))
    # when: the listing answers, then our database fails while the orders are stored
    with walmart.outage_after_answer("GET", r"/v3/orders$", InterfaceError("connection already closed")) as failing:
        with after_commit():
            runs = run_task_like_a_worker(webhook_events_process_task, store.pk)
    # then: the retry (seconds later, not the sweep) took the same events again and processed them once
    assert (failing.fired, runs) == (True, 2)
    assert WebhookEvent.objects.filter(processed_at__isnull=False, attempts=0, processing_since=None).count() == 3
    assert set(Order.objects.values_list("purchase_order_id", flat=True)) == set(placed)
    assert order_reads(walmart) == (2, 0)
    assert len(walmart.applied("POST", "/acknowledge")) == 3
