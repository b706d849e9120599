"""Against the Walmart emulator through Django's live server: orders placed there arrive by webhook and
by polling, are acknowledged, ship partially, the rest is cancelled and stock comes back; a ship call
whose answer is lost is never applied twice."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from channel_manager.models import Store
from orders.models import Cancellation, Order, OrderLine, Shipment
from orders.services import (
    cancellation_create,
    order_poll,
    order_settings_ensure,
    shipment_create,
    webhook_subscribe,
    webhook_test,
    webhook_unsubscribe,
)
from orders.tasks import shipment_push_task
from tests.factories import StoreFactory
from tests.orders.conftest import run_like_a_worker
from tests.orders.factories import ListingFactory, ProductFactory
from walmart_emulator import faults
from walmart_emulator import models as emulated
from walmart_emulator import services as emulator
from walmart_emulator.orders import order_simulate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_server_threads_finish")]
SECRET = "emulator-secret-for-orders"


@pytest.fixture
def shop(live_server, settings):
    """Our store wired to an emulator seller that sells MUG-1 (20 in stock on both sides)."""
    settings.WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS = 0
    settings.WALMART_HTTP_TIMEOUT_SECONDS = 3  # a lost answer is a read timeout: keep it short
    store = StoreFactory(
        name="Mugs on Walmart",
        environment=Store.Environment.EMULATOR,
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_secret=SECRET,
    )
    seller = emulator.seller_create(name="Mugs", client_id=store.client_id, client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="MUG-1", catalog_item=item, price=Decimal("9.99"), quantity=20)
    product = ProductFactory(sku="MUG-1", quantity=20)
    ListingFactory(store=store, product=product)
    return store, seller, product


def emulated_line(purchase_order_id: str) -> dict[str, int]:
    line = emulated.OrderLine.objects.get(order__purchase_order_id=purchase_order_id)
    totals: dict[str, int] = {}
    for status in line.statuses.all():
        totals[status.status] = totals.get(status.status, 0) + status.quantity
    return totals


def test_order_placed_on_walmart_arrives_by_webhook_ships_partially_and_the_rest_is_cancelled(live_server, shop):
    store, seller, product = shop
    # given: our endpoint is subscribed to Walmart's order events
    order_settings = order_settings_ensure(store=store)
    endpoint = live_server.url + reverse("orders:webhook_receive", args=[order_settings.webhook_token])
    assert webhook_subscribe(store=store, event_url=endpoint) == 3
    # when: a customer orders 3 mugs on Walmart
    placed = order_simulate(seller=seller, lines=[("MUG-1", 3)], method_code="Standard")
    # then: the webhook brought the order in, acknowledged, with 3 units reserved
    order = Order.objects.get(store=store)
    assert order.purchase_order_id == placed.purchase_order_id
    assert order.acknowledged_at is not None
    assert emulated_line(placed.purchase_order_id) == {"Acknowledged": 3}
    product.refresh_from_db()
    assert product.quantity == 17
    # and: a poll finds the same order, not a second one
    result = order_poll(store=store)
    assert (result.created, Order.objects.count()) == (0, 1)

    # when: 2 are shipped
    line = OrderLine.objects.get(order=order)
    shipment = shipment_create(
        order=order,
        quantities={line.pk: 2},
        tracking_number="1Z999AA10123456784",
        method_code="Standard",
        ship_date=order.order_date,
        carrier="UPS",
    )
    # then: Walmart shows 2 shipped
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SENT
    assert emulated_line(placed.purchase_order_id) == {"Acknowledged": 1, "Shipped": 2}
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED

    # when: the last one is cancelled
    cancellation = cancellation_create(order=order, quantities=None, reason="SELLER_CANCEL_OUT_OF_STOCK")
    # then: Walmart shows it cancelled, the order is Shipped (nothing left), the unit is back in stock
    cancellation.refresh_from_db()
    assert cancellation.status == Cancellation.Status.SENT
    assert emulated_line(placed.purchase_order_id) == {"Shipped": 2, "Cancelled": 1}
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    product.refresh_from_db()
    assert product.quantity == 18

    # and: Channel Settings -> Webhooks: Walmart's test event reaches the endpoint signed; unsubscribe removes all
    assert webhook_test(store=store, event_url=endpoint) == "Eventurl successfully validated"
    assert webhook_unsubscribe(store=store) == 6  # 3 order events, the 2 offer events and the buy box event
    assert emulated.WebhookSubscription.objects.filter(seller=seller).count() == 0


def test_lost_answer_on_ship_is_resolved_by_reading_back_and_never_ships_twice(live_server, shop):
    store, seller, _product = shop
    # given: an order stored by polling, and Walmart losing the answer of the next write
    placed = order_simulate(seller=seller, lines=[("MUG-1", 2)], method_code="Standard")
    order_poll(store=store)
    order = Order.objects.get(store=store)
    assert order.acknowledged_at is not None
    faults.fault_set(seller=seller, lost_answer_share=1.0, remaining=1)
    # when: the shipment is pushed (the answer is lost), then the task retries as a worker would
    from celery.exceptions import Retry

    with pytest.raises(Retry):
        shipment_create(
            order=order,
            quantities={order.lines.get().pk: 2},
            tracking_number="9400111899223100000000",
            method_code="Standard",
            ship_date=order.order_date,
            carrier="USPS",
        )
    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.request_maybe_applied) == (Shipment.Status.PENDING, True)
    run_like_a_worker(shipment_push_task, shipment.pk)
    # then: shipped once on Walmart, our shipment Sent, the order Shipped
    assert emulated_line(placed.purchase_order_id) == {"Shipped": 2}
    assert emulated.LineStatus.objects.filter(line__order__purchase_order_id=placed.purchase_order_id).count() == 1
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SENT
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_a_line_the_customer_asked_to_cancel_ships_only_with_the_override(live_server, shop):
    store, seller, product = shop
    # given: an order read from Walmart whose customer then asked to cancel it
    placed = order_simulate(seller=seller, lines=[("MUG-1", 1)], method_code="Standard")
    emulator.order_intent_to_cancel(seller=seller, purchase_order_id=placed.purchase_order_id)
    order_poll(store=store)
    order = Order.objects.get(store=store)
    line = OrderLine.objects.get(order=order)
    assert (order.intent_to_cancel, line.intent_to_cancel) == (True, True)
    ship = {
        "order": order,
        "quantities": {line.pk: 1},
        "tracking_number": "1Z999AA10123456784",
        "method_code": "Standard",
        "ship_date": order.order_date,
        "carrier": "UPS",
    }
    # when: shipped without the operator's confirmation: refused here, nothing reaches Walmart
    with pytest.raises(ValidationError):
        shipment_create(**ship)
    assert Shipment.objects.count() == 0
    assert "Shipped" not in emulated_line(placed.purchase_order_id)
    # when: shipped with it
    shipment = shipment_create(**ship, intent_to_cancel_override=True)
    # then: Walmart accepted the override and shows the unit shipped
    shipment.refresh_from_db()
    assert (shipment.status, shipment.error) == (Shipment.Status.SENT, "")
    assert emulated_line(placed.purchase_order_id) == {"Shipped": 1}
