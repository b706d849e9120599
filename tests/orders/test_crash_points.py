"""Crash points: for each kind of work that touches Walmart (shipment, cancellation, acknowledgement, webhook
event), the worker dies at each step (after the in-flight mark, after Walmart's answer, while storing the
answer), then the one sweeper runs. Walmart (the emulator, in this process) applied the work exactly once
and the row ends in a final state."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from channel_manager.models import Store
from channel_manager.push_tasks import OUTAGE_RETRY_FIRST_SECONDS
from channel_manager.work import sweep_all
from orders.models import Cancellation, Order, Shipment, WebhookEvent
from orders.services import (
    cancellation_create,
    cancellation_push,
    order_acknowledge,
    order_poll,
    shipment_create,
    shipment_push,
    webhook_event_process,
    webhook_event_record,
)
from orders.tasks import (
    cancellation_push_task,
    order_acknowledge_task,
    shipment_push_task,
    webhook_event_process_task,
)
from tests.emulator_bridge import CRASH_POINTS, ProcessDied, emulator_bridge
from tests.factories import StoreFactory
from tests.orders.conftest import after_commit, run_task_like_a_worker
from tests.orders.factories import ListingFactory, ProductFactory
from walmart_emulator import models as emulated
from walmart_emulator import orders as emulator_orders
from walmart_emulator import services as emulator

pytestmark = pytest.mark.django_db
SECRET = "emulator-secret-for-crashes"
BASE_URL = "http://walmart.crash.test/walmart-emulator"
LATER = timedelta(hours=1)  # past every claim and deadline


@pytest.fixture
def walmart():
    with emulator_bridge(BASE_URL) as bridge:
        yield bridge


@pytest.fixture
def shop(walmart, settings):
    """Our store wired to an emulator seller selling MUG-1 and CUP-2 (20 each), both listed here."""
    settings.WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS = 0
    store = StoreFactory(environment=Store.Environment.EMULATOR, emulator_base_url=BASE_URL, client_secret=SECRET)
    seller = emulator.seller_create(name="Crash seller", client_id=store.client_id, client_secret=SECRET)
    for index, sku in enumerate(("MUG-1", "CUP-2")):
        item = emulator.catalog_item_create(gtin=f"0003600029145{index * 7}", title=f"Item {sku}")
        emulator.offer_create(seller=seller, sku=sku, catalog_item=item, price=Decimal("9.99"), quantity=20)
        ListingFactory(store=store, product=ProductFactory(sku=sku, quantity=20))
    return store, seller


def emulated_statuses(purchase_order_id: str) -> dict[str, dict[str, int]]:
    """Walmart's quantities per status, per SKU."""
    totals: dict[str, dict[str, int]] = {}
    for status in emulated.LineStatus.objects.filter(line__order__purchase_order_id=purchase_order_id):
        per_sku = totals.setdefault(status.line.sku, {})
        per_sku[status.status] = per_sku.get(status.status, 0) + status.quantity
    return totals


def acknowledged_order(store, seller, lines) -> Order:
    """An order placed on Walmart, acknowledged there, and read by our poll (which records the
    acknowledgement from Walmart's line statuses)."""
    placed = emulator.order_simulate(seller=seller, lines=lines, method_code="Standard")
    emulator_orders.order_acknowledge(seller=seller, purchase_order_id=placed.purchase_order_id)
    order_poll(store=store)
    order = Order.objects.get(purchase_order_id=placed.purchase_order_id)
    assert order.acknowledged_at is not None
    return order


def sweep_later() -> dict[str, int]:
    with after_commit():
        return sweep_all(now=timezone.now() + LATER)


def ship(order: Order, quantities: dict, tracking: str = "1Z-CRASH") -> Shipment:
    return shipment_create(
        order=order,
        quantities=quantities,
        tracking_number=tracking,
        method_code="Standard",
        ship_date=order.order_date,
        carrier="UPS",
    )


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_shipment_whose_worker_died_is_applied_once_by_the_sweep(shop, walmart, point):
    store, seller = shop
    order = acknowledged_order(store, seller, [("MUG-1", 2)])
    shipment = ship(order, {order.lines.get().pk: 2})  # its task is lost: the test transaction never commits
    # given: the worker dies at `point` of the push
    with walmart.crash_at(point, "POST", r"/shipping$"), pytest.raises(ProcessDied):
        shipment_push(shipment_id=shipment.pk)
    shipment.refresh_from_db()
    assert (shipment.status, shipment.request_maybe_applied, shipment.attempt_started_at is not None) == (
        Shipment.Status.PENDING,
        True,
        True,
    )
    # when
    counts = sweep_later()
    # then
    assert counts["orders.shipment"] == 1
    shipment.refresh_from_db()
    assert (shipment.status, shipment.error, shipment.request_maybe_applied) == (Shipment.Status.SENT, "", False)
    assert emulated_statuses(order.purchase_order_id) == {"MUG-1": {"Shipped": 2}}
    assert len(walmart.applied("POST", "/shipping")) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert sweep_later()["orders.shipment"] == 0


def test_after_a_lost_answer_only_the_lines_walmart_does_not_show_shipped_are_sent(shop, walmart):
    store, seller = shop
    order = acknowledged_order(store, seller, [("MUG-1", 1), ("CUP-2", 1)])
    lines = {line.sku: line for line in order.lines.all()}
    shipment = ship(order, {lines["MUG-1"].pk: 1, lines["CUP-2"].pk: 1}, tracking="1Z-TWO-LINES")
    with walmart.crash_at("before_send", "POST", r"/shipping$"), pytest.raises(ProcessDied):
        shipment_push(shipment_id=shipment.pk)
    # given: Walmart shows line MUG-1 shipped under this shipment's tracking (applied before the answer was lost)
    emulator_orders.order_ship(
        seller=seller,
        purchase_order_id=order.purchase_order_id,
        body={
            "orderShipment": {
                "orderLines": {
                    "orderLine": [
                        {
                            "lineNumber": lines["MUG-1"].line_number,
                            "sellerOrderId": order.commerce_order_number,
                            "orderLineStatuses": {
                                "orderLineStatus": [
                                    {
                                        "status": "Shipped",
                                        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                                        "trackingInfo": {
                                            "shipDateTime": int(order.order_date.timestamp() * 1000),
                                            "carrierName": {"carrier": "UPS"},
                                            "methodCode": "Standard",
                                            "trackingNumber": "1Z-TWO-LINES",
                                        },
                                    }
                                ]
                            },
                        }
                    ]
                }
            }
        },
    )
    # when
    sweep_later()
    # then: one request, naming only line CUP-2; both lines shipped once on Walmart
    (sent,) = walmart.applied("POST", "/shipping")
    sent_lines = json.loads(sent.body)["orderShipment"]["orderLines"]["orderLine"]
    assert [line["lineNumber"] for line in sent_lines] == [lines["CUP-2"].line_number]
    assert emulated_statuses(order.purchase_order_id) == {"MUG-1": {"Shipped": 1}, "CUP-2": {"Shipped": 1}}
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SENT


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_one_unit_cancellation_whose_worker_died_is_applied_once_by_the_sweep(shop, walmart, point):
    store, seller = shop
    order = acknowledged_order(store, seller, [("MUG-1", 2)])
    cancellation = cancellation_create(
        order=order, quantities={order.lines.get().pk: 1}, reason="SELLER_CANCEL_OUT_OF_STOCK"
    )
    with walmart.crash_at(point, "POST", r"/cancel$"), pytest.raises(ProcessDied):
        cancellation_push(cancellation_id=cancellation.pk)
    cancellation.refresh_from_db()
    assert (cancellation.status, cancellation.request_maybe_applied) == (Cancellation.Status.PENDING, True)
    # when
    counts = sweep_later()
    # then
    assert counts["orders.cancellation"] == 1
    cancellation.refresh_from_db()
    assert (cancellation.status, cancellation.error) == (Cancellation.Status.SENT, "")
    assert emulated_statuses(order.purchase_order_id) == {"MUG-1": {"Acknowledged": 1, "Cancelled": 1}}
    assert len(walmart.applied("POST", "/cancel")) == 1
    line = order.lines.get()
    assert (line.quantity_cancelled, line.stock_released) == (1, 1)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_an_acknowledgement_whose_worker_died_is_applied_once_by_the_sweep(shop, walmart, point):
    store, seller = shop
    placed = emulator.order_simulate(seller=seller, lines=[("MUG-1", 2)], method_code="Standard")
    order_poll(store=store)  # its acknowledgement task is lost with the uncommitted transaction
    order = Order.objects.get(purchase_order_id=placed.purchase_order_id)
    with walmart.crash_at(point, "POST", r"/acknowledge$"), pytest.raises(ProcessDied):
        order_acknowledge(order_id=order.pk)
    order.refresh_from_db()
    assert (order.acknowledged_at, order.acknowledging_since is not None, order.acknowledge_maybe_applied) == (
        None,
        True,
        True,
    )
    # when
    counts = sweep_later()
    # then
    assert counts["orders.acknowledgement"] == 1
    order.refresh_from_db()
    assert order.acknowledged_at is not None
    assert (order.acknowledging_since, order.acknowledge_maybe_applied) == (None, False)
    assert emulated_statuses(order.purchase_order_id) == {"MUG-1": {"Acknowledged": 2}}
    assert len(walmart.applied("POST", "/acknowledge")) == 1
    assert sweep_later()["orders.acknowledgement"] == 0


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_webhook_event_whose_worker_died_is_processed_by_the_sweep(shop, walmart, point):
    store, seller = shop
    placed = emulator.order_simulate(seller=seller, lines=[("CUP-2", 1)], method_code="Standard")
    envelope = {
        "source": {"eventId": f"EV-{point}", "eventType": "PO_CREATED"},
        "payload": {"purchaseOrderId": placed.purchase_order_id},
    }
    event, created = webhook_event_record(store=store, envelope=envelope)
    assert created
    with walmart.crash_at(point, "GET", rf"/v3/orders/{placed.purchase_order_id}$"), pytest.raises(ProcessDied):
        webhook_event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.processed_at is None
    # when
    counts = sweep_later()
    # then: processed, the order stored once and acknowledged once on Walmart
    assert counts["orders.webhook_event"] == 1
    event.refresh_from_db()
    assert (event.processed_at is not None, event.error) == (True, "")
    order = Order.objects.get(purchase_order_id=placed.purchase_order_id)
    assert order.acknowledged_at is not None
    assert emulated_statuses(placed.purchase_order_id) == {"CUP-2": {"Acknowledged": 1}}
    assert len(walmart.applied("POST", "/acknowledge")) == 1
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert sweep_later()["orders.webhook_event"] == 0


# --- outages: our database or Redis fails while Walmart's answer is stored; the process lives on ---------------
# No beat and no sweep runs in these tests: the task retries itself within seconds (`retried_after_outage`).

OUTAGES = {
    "database terminated": lambda: OperationalError("terminating connection due to administrator command"),
    "database closed": lambda: InterfaceError("connection already closed"),
    "redis": lambda: RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
}


@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_a_shipment_whose_answer_could_not_be_stored_is_finished_by_its_own_retry(shop, walmart, outage):
    store, seller = shop
    order = acknowledged_order(store, seller, [("MUG-1", 2)])
    shipment = ship(order, {order.lines.get().pk: 2})
    # when: Walmart applies the shipment, then the write of its answer fails
    with walmart.outage_after_answer("POST", r"/shipping$", OUTAGES[outage]()) as failing:
        runs = run_task_like_a_worker(shipment_push_task, shipment.pk)
    # then: the retry read Walmart back and did not send again
    assert (failing.fired, runs) == (True, 2)
    shipment.refresh_from_db()
    assert (shipment.status, shipment.error, shipment.request_maybe_applied) == (Shipment.Status.SENT, "", False)
    assert shipment.claimed_until is None
    assert len(walmart.applied("POST", "/shipping")) == 1
    assert emulated_statuses(order.purchase_order_id) == {"MUG-1": {"Shipped": 2}}
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_a_retry_takes_back_its_own_claim_when_the_release_failed_too(shop, walmart, monkeypatch):
    store, seller = shop
    order = acknowledged_order(store, seller, [("MUG-1", 1)])
    cancellation = cancellation_create(
        order=order, quantities={order.lines.get().pk: 1}, reason="SELLER_CANCEL_OUT_OF_STOCK"
    )
    releases = []

    def release_fails(pk, *, attempt_id):
        releases.append(attempt_id)
        raise OperationalError("the database is still down")

    monkeypatch.setattr(Cancellation, "push_claim_release", release_fails)
    # when: the answer's write fails, and so does the release of the claim (the database still down)
    with walmart.outage_after_answer("POST", r"/cancel$", OperationalError("server closed the connection")):
        runs = run_task_like_a_worker(cancellation_push_task, cancellation.pk)
    assert len(releases) == 1
    # then: the retry (same task id) took its unexpired claim back, read back, and marked it Sent
    assert runs == 2
    cancellation.refresh_from_db()
    assert (cancellation.status, cancellation.error) == (Cancellation.Status.SENT, "")
    assert len(walmart.applied("POST", "/cancel")) == 1
    assert emulated_statuses(order.purchase_order_id) == {"MUG-1": {"Cancelled": 1}}


def test_another_attempt_does_not_take_a_claim_held_by_a_retrying_task(shop):
    store, seller = shop
    order = acknowledged_order(store, seller, [("MUG-1", 1)])
    shipment = ship(order, {order.lines.get().pk: 1})
    assert Shipment.push_claim(shipment.pk, attempt_id="a" * 32) == "a" * 32
    assert Shipment.push_claim(shipment.pk) is None  # a sweep's task: the claim is held
    assert Shipment.push_claim(shipment.pk, attempt_id="a" * 32) == "a" * 32  # the holder's retry
    assert Shipment.push_claim_release(shipment.pk, attempt_id="b" * 32) == 0  # not its claim
    assert Shipment.push_claim_release(shipment.pk, attempt_id="a" * 32) == 1
    assert Shipment.push_claim(shipment.pk) is not None


@pytest.mark.parametrize("outage", ["database terminated", "redis"])
def test_an_acknowledgement_whose_answer_could_not_be_stored_is_finished_by_its_own_retry(shop, walmart, outage):
    store, seller = shop
    placed = emulator.order_simulate(seller=seller, lines=[("MUG-1", 2)], method_code="Standard")
    order_poll(store=store)  # its acknowledgement task is lost with the uncommitted transaction
    order = Order.objects.get(purchase_order_id=placed.purchase_order_id)
    # when
    with walmart.outage_after_answer("POST", r"/acknowledge$", OUTAGES[outage]()):
        runs = run_task_like_a_worker(order_acknowledge_task, order.pk)
    # then: acknowledged once on Walmart, recorded here from the read-back
    assert runs == 2
    order.refresh_from_db()
    assert order.acknowledged_at is not None
    assert (order.acknowledging_since, order.acknowledge_maybe_applied) == (None, False)
    assert len(walmart.applied("POST", "/acknowledge")) == 1
    assert emulated_statuses(order.purchase_order_id) == {"MUG-1": {"Acknowledged": 2}}


def test_a_webhook_event_whose_order_could_not_be_stored_is_processed_by_its_own_retry(shop, walmart):
    store, seller = shop
    placed = emulator.order_simulate(seller=seller, lines=[("CUP-2", 1)], method_code="Standard")
    envelope = {
        "source": {"eventId": "EV-OUTAGE", "eventType": "PO_CREATED"},
        "payload": {"purchaseOrderId": placed.purchase_order_id},
    }
    event, _ = webhook_event_record(store=store, envelope=envelope)
    # when: the order is read, then storing it fails
    with walmart.outage_after_answer("GET", rf"/v3/orders/{placed.purchase_order_id}$", OUTAGES["database closed"]()):
        with after_commit():  # the order's acknowledgement is queued once it is stored
            runs = run_task_like_a_worker(webhook_event_process_task, event.pk)
    # then
    assert runs == 2
    event.refresh_from_db()
    assert (event.processed_at is not None, event.error) == (True, "")
    assert Order.objects.filter(purchase_order_id=placed.purchase_order_id).count() == 1
    assert len(walmart.applied("POST", "/acknowledge")) == 1


def test_an_outage_retry_does_not_count_against_the_push_retries(shop, walmart):
    store, seller = shop
    order = acknowledged_order(store, seller, [("MUG-1", 1)])
    shipment = ship(order, {order.lines.get().pk: 1})
    signature = shipment_push_task.signature((shipment.pk,), task_id="0" * 32)
    with walmart.outage_after_answer("POST", r"/shipping$", OUTAGES["redis"]()):
        with pytest.raises(Retry) as retry:
            signature.apply(retries=3, throw=True)
    # then: the retry runs in seconds, with the same task id and retry count, one outage more
    assert retry.value.sig.options["countdown"] == OUTAGE_RETRY_FIRST_SECONDS
    assert retry.value.sig.options["task_id"] == "0" * 32
    assert retry.value.sig.options["retries"] == 3
    assert retry.value.sig.kwargs == {"outages": 1}
