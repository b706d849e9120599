"""Provisional orders: Walmart's PO_CREATED notification stores the order at once (its lines linked, their stock
reserved), marked as awaiting Walmart's details, even while Walmart's API answers 429 or hangs; any read of
Walmart's copy completes it into exactly what the read alone would have stored. End to end against the emulator:
its own deliveries are posted to our endpoint, signed as it signs them."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channel_manager.listing_pages import ListQuery
from channel_manager.models import Store
from channel_manager.walmart import DjangoRateLimitStore, store_cache_key
from channel_manager.work import sweep_all
from inventory.models import StockMovement, StockReservation
from listings.models import Listing, Product
from orders.models import CustomerName, Order, OrderEvent, OrderLine, OrderSettings, WebhookEvent
from orders.selectors import order_page, order_status_counts
from orders.services import (
    cancellation_create,
    order_acknowledge,
    order_poll,
    orders_provisional_store,
    shipment_create,
    webhook_events_process,
)
from orders.services.acknowledge import acknowledgements_due
from sync.selectors import sync_rows
from tests.emulator_bridge import CRASH_POINTS, ProcessDied, emulator_bridge
from tests.factories import StoreFactory
from tests.orders.conftest import after_commit
from tests.orders.factories import ListingFactory, ProductFactory
from walmart_client.errors import WalmartError
from walmart_client.events import PoCreated, po_created_from_envelope
from walmart_client.models import CancelLine
from walmart_client.resources.orders import build_cancel_body
from walmart_emulator import faults
from walmart_emulator import orders as emulator_orders
from walmart_emulator import services as emulator
from walmart_emulator.models import WebhookDelivery
from walmart_emulator.webhooks import subscriptions_create, webhook_signature

pytestmark = pytest.mark.django_db
SECRET = "emulator-secret-for-provisional-orders"
BASE_URL = "http://walmart.provisional.test/walmart-emulator"
LATER = timedelta(minutes=3)


@pytest.fixture
def walmart():
    with emulator_bridge(BASE_URL) as bridge:
        yield bridge


def _store_of(seller_client_id: str | None = None, *, prefix: str) -> Store:
    """Our store on the emulator, listing MUG-1 and CUP-2 (20 units each, products of its own)."""
    extra = {"client_id": seller_client_id} if seller_client_id else {}
    store = StoreFactory(
        environment=Store.Environment.EMULATOR, emulator_base_url=BASE_URL, client_secret=SECRET, **extra
    )
    OrderSettings.objects.get_or_create(store=store)
    for sku in ("MUG-1", "CUP-2"):
        ListingFactory(store=store, product=ProductFactory(sku=f"{prefix}{sku}", quantity=20), walmart_sku=sku)
    return store


@pytest.fixture
def shop(walmart):
    """A seller on Walmart selling MUG-1 and CUP-2 (50 each), subscribed to PO_CREATED and ORDER_UPDATES, and
    our store listing both."""
    store = _store_of(prefix="")
    seller = emulator.seller_create(name="Provisional seller", client_id=store.client_id, client_secret=SECRET)
    for index, sku in enumerate(("MUG-1", "CUP-2")):
        item = emulator.catalog_item_create(gtin=f"0003600029145{index * 7}", title=f"Item {sku}")
        emulator.offer_create(seller=seller, sku=sku, catalog_item=item, price=Decimal("9.99"), quantity=50)
    subscriptions_create(
        seller=seller,
        body={
            "events": [
                {
                    "eventType": event_type,
                    "eventVersion": "V1",
                    "resourceName": "ORDER",
                    "eventUrl": "https://shop.example.com/hook",
                    "status": "ACTIVE",
                    "authDetails": {"authMethod": "HMAC", "authHeaderName": "X-Walmart-Signature"},
                }
                for event_type in ("PO_CREATED", "ORDER_UPDATES")
            ]
        },
    )
    return store, seller


def place(seller, lines) -> tuple[str, dict[str, bytes]]:
    """An order placed on Walmart; returns its purchase order id and the bodies Walmart delivers for it, by
    subscribed event type."""
    placed = emulator.order_simulate(seller=seller, lines=lines, method_code="Express")
    bodies = {
        delivery.subscription.event_type: delivery.body.encode()
        for delivery in WebhookDelivery.objects.filter(event_type="PO_CREATED").select_related("subscription")
        if json.loads(delivery.body)["payload"]["purchaseOrderId"] == placed.purchase_order_id
    }
    return placed.purchase_order_id, bodies


def deliver(client, store: Store, body: bytes):
    """Walmart's delivery of `body` to the store's endpoint, signed as Walmart signs it. The batch it queues
    after commit is not run: the tests run it (`process_batch`) or the sweep."""
    token = OrderSettings.objects.get(store=store).webhook_token
    with TestCase.captureOnCommitCallbacks(execute=False):
        return client.post(
            reverse("orders:webhook_receive", args=[token]),
            data=body,
            content_type="application/json",
            headers={"X-Walmart-Signature": webhook_signature(body, store.client_secret)},
        )


def reserved(store: Store) -> dict[str, int]:
    return {
        row.product.sku: row.quantity
        for row in StockReservation.objects.filter(store=store).select_related("product")
        if row.quantity
    }


def on_hand(store: Store) -> dict[str, int]:
    return {listing.walmart_sku: listing.product.quantity for listing in Listing.objects.filter(store=store)}


def timeline(order: Order) -> list[tuple[str, str]]:
    return [(event.actor, event.message) for event in OrderEvent.objects.filter(order=order).order_by("pk")]


def walmart_answers_again(seller) -> None:
    """The storm is over: Walmart answers, and the pacing its 429s left behind (the buckets it said were empty)
    has run out."""
    faults.fault_set(seller=seller, throttle_storm=False)
    for store in Store.objects.filter(client_id=seller.client_id):
        pacing = DjangoRateLimitStore(store_cache_key(store), store.client_id)
        for family in cache.get(pacing.prefix + "families") or []:
            cache.delete(pacing.prefix + family)


def process_batch(store: Store):
    with after_commit():
        return webhook_events_process(store_id=store.pk)


# --- what the operator sees at once ------------------------------------------------------------------------------


def test_during_a_429_storm_the_order_is_stored_at_once_with_its_stock_reserved(shop, walmart, client):
    # given: every call to Walmart is answered 429; a second store sells the same mug from the same stock
    store, seller = shop
    other = StoreFactory()
    ListingFactory(store=other, product=Product.objects.get(sku="MUG-1"))
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("MUG-1", 2), ("CUP-2", 1)])
    # when: Walmart delivers PO_CREATED
    response = deliver(client, store, bodies["PO_CREATED"])
    # then: accepted, and the order is there, awaiting Walmart's details
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    order = Order.objects.get(store=store, purchase_order_id=purchase_order_id)
    placed = emulator_orders.Order.objects.get(purchase_order_id=purchase_order_id)
    assert (order.provisional, order.status, order.commerce_order_number) == (True, "open", "WM00000001")
    assert (order.customer_order_id, order.order_date, order.ship_by, order.deliver_by) == (
        placed.customer_order_id,
        placed.order_date.replace(microsecond=0),
        placed.estimated_ship_date.replace(microsecond=0),
        placed.estimated_delivery_date.replace(microsecond=0),
    )
    assert (order.customer_name, order.address1, order.order_total, order.acknowledged_at) == ("", "", 0, None)
    lines = [
        (line.line_number, line.sku, line.quantity, line.status, line.listing.walmart_sku, line.stock_reserved)
        for line in OrderLine.objects.filter(order=order).order_by("line_number")
    ]
    assert lines == [("1", "MUG-1", 2, "Created", "MUG-1", 2), ("2", "CUP-2", 1, "Created", "CUP-2", 1)]
    # the units are reserved through the store's reservations: the catalog has 2 mugs fewer, so the quantity
    # the other store sends Walmart drops at once
    assert reserved(store) == {"MUG-1": 2, "CUP-2": 1}
    assert on_hand(store) == {"MUG-1": 18, "CUP-2": 19}
    assert [row.desired for row in sync_rows(store=other, stream="inventory")] == [18]
    assert timeline(order) == [("webhook", "Order received from Walmart; commerce order WM00000001 created.")]
    # not acknowledged from the notification
    assert order.pk not in acknowledgements_due(now=timezone.now() + LATER)
    assert walmart.applied("POST", "/acknowledge") == []


def test_the_dashboard_marks_it_and_offers_no_ship_cancel_or_acknowledge(shop, client, admin_user):
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("MUG-1", 1)])
    deliver(client, store, bodies["PO_CREATED"])
    order = Order.objects.get(purchase_order_id=purchase_order_id)
    client.force_login(admin_user)
    # the list
    page = client.get(reverse("orders:order_list", args=[store.pk])).content.decode()
    assert "Awaiting Walmart&#x27;s details" in page or "Awaiting Walmart's details" in page
    assert "awaiting Walmart</td>" in page.replace("\n", "")
    # the detail
    detail = client.get(reverse("orders:order_detail", args=[store.pk, order.pk])).content.decode()
    assert 'id="awaiting-walmart"' in detail
    assert 'id="ship-to-awaiting"' in detail
    for absent in ('id="ship-button"', 'id="cancel-button"', 'id="acknowledge-button"', "Cancel line"):
        assert absent not in detail
    # the pages behind the actions send the operator back with the reason
    for name in ("orders:order_ship", "orders:order_cancel"):
        response = client.get(reverse(name, args=[store.pk, order.pk]), follow=True)
        assert response.redirect_chain[-1][0] == reverse("orders:order_detail", args=[store.pk, order.pk])
        assert "is awaiting Walmart&#x27;s details" in response.content.decode()


def test_ship_and_cancel_are_refused_by_the_services_until_it_is_complete(shop, client):
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("MUG-1", 1)])
    deliver(client, store, bodies["PO_CREATED"])
    order = Order.objects.get(purchase_order_id=purchase_order_id)
    line = order.lines.get()
    with pytest.raises(ValidationError, match="awaiting Walmart's details.*cannot be shipped"):
        shipment_create(
            order=order,
            quantities={line.pk: 1},
            tracking_number="1Z1",
            method_code="Standard",
            ship_date=timezone.now(),
            carrier="UPS",
        )
    with pytest.raises(ValidationError, match="cannot be cancelled"):
        cancellation_create(order=order, quantities=None, reason="SELLER_CANCEL_OUT_OF_STOCK")
    assert order_acknowledge(order_id=order.pk) is False
    assert (order.shipments.count(), order.cancellations.count(), walmart_calls(order)) == (0, 0, [])


def walmart_calls(order: Order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).exclude(actor="webhook").values_list("message", flat=True))


# --- completed by the read-back ------------------------------------------------------------------------------------


def test_after_the_storm_the_batch_completes_it_and_acknowledges_it_once(shop, walmart, client):
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("MUG-1", 2)])
    deliver(client, store, bodies["PO_CREATED"])
    with pytest.raises(WalmartError):
        process_batch(store)
    order = Order.objects.get(purchase_order_id=purchase_order_id)
    assert order.provisional
    # when: Walmart answers again
    walmart_answers_again(seller)
    process_batch(store)
    # then: complete, stock reserved once, acknowledged once (from the read-back's line statuses)
    order.refresh_from_db()
    placed = emulator_orders.Order.objects.get(purchase_order_id=purchase_order_id)
    assert (order.provisional, order.customer_name, order.method_code) == (
        False,
        placed.postal_address["name"],
        "Express",
    )
    charged = sum(
        line.product_amount + line.product_tax + line.shipping_amount + line.shipping_tax for line in placed.lines.all()
    )
    assert order.order_total == charged > 0
    assert reserved(store) == {"MUG-1": 2}
    assert on_hand(store)["MUG-1"] == 18
    assert len(walmart.applied("POST", "/acknowledge")) == 1
    assert order.acknowledged_at is not None
    assert timeline(order) == [
        ("webhook", "Order received from Walmart; commerce order WM00000001 created."),
        ("system", "Acknowledged on Walmart."),
    ]
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0


def _state(store: Store) -> dict:
    """Everything intake writes for a store's one order, without ids, times and correlation ids."""
    order = Order.objects.get(store=store)
    skip = {"id", "store", "created_at", "updated_at", "last_read_at", "acknowledged_at", "acknowledging_since"}
    fields = {f.name: getattr(order, f.attname) for f in Order._meta.concrete_fields if f.name not in skip}
    lines = [
        {
            **{
                f.name: getattr(line, f.attname)
                for f in OrderLine._meta.concrete_fields
                if f.name not in ("id", "order")
            },
            "listing": line.listing.walmart_sku if line.listing else None,
        }
        for line in OrderLine.objects.filter(order=order).select_related("listing").order_by("line_number")
    ]
    products = [listing.product_id for listing in Listing.objects.filter(store=store).order_by("walmart_sku")]
    movements = [
        (movement.product.sku[-5:], movement.reason, movement.delta, movement.quantity_after, movement.actor)
        for movement in StockMovement.objects.filter(product_id__in=products).select_related("product").order_by("pk")
    ]
    return {
        "order": fields,
        "lines": lines,
        "reserved": {sku[-5:]: units for sku, units in reserved(store).items()},
        "on_hand": on_hand(store),
        "movements": movements,
        "timeline": timeline(order),
    }


@pytest.fixture
def twin(shop):
    """A second store of ours reading the same Walmart seller, with products of its own: it stores each order
    by the read alone (its webhook event carries no lines), for comparison."""
    store, seller = shop
    twin = _store_of(store.client_id, prefix="B-")
    # Both read one seller: neither acknowledges (the first would make the other read it acknowledged).
    OrderSettings.objects.filter(store__in=[store, twin]).update(auto_acknowledge=False)
    return twin


def _read_alone(store: Store, purchase_order_id: str) -> None:
    from orders.services import webhook_event_record

    with after_commit():
        webhook_event_record(
            store=store,
            envelope={
                "source": {"eventId": "EV-ALONE", "eventType": "PO_CREATED"},
                "payload": {"purchaseOrderId": purchase_order_id},
            },
        )
    process_batch(store)


def test_the_completed_order_is_exactly_what_the_read_alone_stores(shop, twin, client):
    store, seller = shop
    purchase_order_id, bodies = place(seller, [("MUG-1", 2), ("CUP-2", 3)])
    # when: provisional first, then completed by the batch; the twin only reads
    deliver(client, store, bodies["PO_CREATED"])
    assert Order.objects.get(store=store).provisional
    process_batch(store)
    _read_alone(twin, purchase_order_id)
    # then
    assert _state(store) == _state(twin)
    assert _state(store)["order"]["provisional"] is False


def test_a_read_back_with_a_line_cancelled_and_another_quantity_ends_as_the_read_alone(shop, twin, client):
    # given: the notification says 1 mug, Walmart's copy holds 3; the cup line is cancelled on Walmart before
    # the read-back
    store, seller = shop
    purchase_order_id, bodies = place(seller, [("MUG-1", 3), ("CUP-2", 2)])
    envelope = json.loads(bodies["PO_CREATED"])
    envelope["payload"]["orderLines"][0]["quantity"]["measurementValue"] = 1
    deliver(client, store, json.dumps(envelope).encode())
    assert reserved(store) == {"MUG-1": 1, "CUP-2": 2}
    emulator_orders.order_cancel(
        seller=seller,
        purchase_order_id=purchase_order_id,
        body=build_cancel_body([CancelLine(line_number="2", quantity=2, reason="SELLER_CANCEL_OUT_OF_STOCK")]),
    )
    # when
    process_batch(store)
    _read_alone(twin, purchase_order_id)
    # then: the same order, lines, reservations, stock and timeline; the mug reserved in two steps (1, then 2)
    mine, alone = _state(store), _state(twin)
    assert mine["order"] == alone["order"]
    assert mine["lines"] == alone["lines"]
    assert mine["reserved"] == alone["reserved"] == {"MUG-1": 3}
    assert mine["on_hand"] == alone["on_hand"] == {"MUG-1": 17, "CUP-2": 20}
    assert mine["timeline"] == alone["timeline"]
    assert [(sku, reason, delta) for sku, reason, delta, _after, _actor in mine["movements"]] == [
        ("MUG-1", "order_reservation", -1),
        ("CUP-2", "order_reservation", -2),
        ("MUG-1", "order_reservation", -2),
        ("CUP-2", "order_cancellation", 2),
    ]
    assert sum(movement[2] for movement in mine["movements"]) == sum(movement[2] for movement in alone["movements"])


# --- never twice, never a downgrade --------------------------------------------------------------------------------


def test_duplicate_deliveries_and_order_updates_store_one_order(shop, client):
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("MUG-1", 2)])
    assert set(bodies) == {"PO_CREATED", "ORDER_UPDATES"}
    first = deliver(client, store, bodies["PO_CREATED"])
    again = deliver(client, store, bodies["PO_CREATED"])
    updates = deliver(client, store, bodies["ORDER_UPDATES"])
    assert [r.json()["status"] for r in (first, again, updates)] == ["accepted", "duplicate", "accepted"]
    assert Order.objects.filter(purchase_order_id=purchase_order_id).count() == 1
    assert reserved(store) == {"MUG-1": 2}
    assert OrderEvent.objects.count() == 1


def test_order_updates_alone_stores_it_provisionally(shop, client):
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("CUP-2", 1)])
    assert json.loads(bodies["ORDER_UPDATES"])["payload"]["subEventType"] == "PO_CREATED"
    deliver(client, store, bodies["ORDER_UPDATES"])
    assert Order.objects.get(purchase_order_id=purchase_order_id).provisional
    assert reserved(store) == {"CUP-2": 1}


def test_a_late_notification_never_downgrades_a_complete_order(shop, client):
    # given: the poll stored the complete order first
    store, seller = shop
    purchase_order_id, bodies = place(seller, [("MUG-1", 2)])
    with after_commit():
        order_poll(store=store)
    before = _state(store)
    assert before["order"]["customer_name"]
    # when: the notification arrives after
    response = deliver(client, store, bodies["PO_CREATED"])
    # then: recorded, nothing about the order changed
    assert response.json() == {"status": "accepted"}
    assert _state(store) == before
    assert Order.objects.get().provisional is False


def test_a_sku_not_listed_is_handled_as_intake_handles_it(shop, client):
    store, seller = shop
    Listing.objects.filter(store=store, walmart_sku="CUP-2").delete()
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("MUG-1", 1), ("CUP-2", 1)])
    deliver(client, store, bodies["PO_CREATED"])
    order = Order.objects.get(purchase_order_id=purchase_order_id)
    cup = order.lines.get(sku="CUP-2")
    assert (cup.status, cup.listing_id, cup.stock_reserved) == ("Error", None, 0)
    assert "Walmart SKU CUP-2 is not linked to a catalog product in this store" in cup.status_details
    assert (order.status, order.provisional) == ("error", True)
    assert reserved(store) == {"MUG-1": 1}


# --- a burst's deliveries written together ------------------------------------------------------------------------


def _envelope(body: bytes) -> dict:
    return json.loads(body)


def test_a_burst_of_deliveries_is_written_at_once_with_the_statements_of_one(shop):
    # given: a delivery written alone (after a first one: the store's reservation rows exist), then four
    # deliveries gathered together
    store, seller = shop
    first, one = (_envelope(place(seller, [("MUG-1", 1)])[1]["PO_CREATED"]) for _ in range(2))
    burst = [_envelope(place(seller, [("MUG-1", 1), ("CUP-2", 2)])[1]["PO_CREATED"]) for _ in range(4)]
    orders_provisional_store(store=store, envelopes=[first])
    with CaptureQueriesContext(connection) as alone:
        assert len(orders_provisional_store(store=store, envelopes=[one])) == 1
    # when
    with CaptureQueriesContext(connection) as together:
        created = orders_provisional_store(store=store, envelopes=burst)
    # then: the four stored in order, numbered in sequence, their stock reserved, in as many statements as one
    assert len(together) == len(alone)
    orders = list(Order.objects.filter(pk__in=created).order_by("pk"))
    assert [order.purchase_order_id for order in orders] == [
        envelope["payload"]["purchaseOrderId"] for envelope in burst
    ]
    assert [order.commerce_order_number for order in orders] == ["WM00000003", "WM00000004", "WM00000005", "WM00000006"]
    assert {order.provisional for order in orders} == {True}
    assert reserved(store) == {"MUG-1": 6, "CUP-2": 8}
    assert OrderEvent.objects.filter(order__in=orders).count() == 4


def test_in_a_batch_what_is_stored_repeated_or_malformed_is_skipped_and_the_rest_stored(shop, client):
    # given: an order stored already, a new one delivered twice (PO_CREATED and ORDER_UPDATES), a payload that
    # does not describe an order
    store, seller = shop
    _stored, first = place(seller, [("MUG-1", 1)])
    deliver(client, store, first["PO_CREATED"])
    new, second = place(seller, [("CUP-2", 2)])
    malformed = {"source": {"eventId": "EV-9", "eventType": "PO_CREATED"}, "payload": {"purchaseOrderId": "P-9"}}
    envelopes = [_envelope(first["PO_CREATED"]), _envelope(second["PO_CREATED"]), malformed]
    envelopes.append(_envelope(second["ORDER_UPDATES"]))
    # when
    created = orders_provisional_store(store=store, envelopes=envelopes)
    # then: only the new order, once
    assert list(Order.objects.filter(pk__in=created).values_list("purchase_order_id", flat=True)) == [new]
    assert Order.objects.count() == 2
    assert reserved(store) == {"MUG-1": 1, "CUP-2": 2}


def test_an_order_stored_while_the_batch_is_written_is_left_as_stored_and_the_rest_written(shop, walmart, monkeypatch):
    # given: two deliveries; the first one's order is read from Walmart and stored by another process just after
    # the batch looked for stored orders (while it takes its commerce numbers)
    from orders.services import intake

    store, seller = shop
    raced, first = place(seller, [("MUG-1", 1)])
    other, second = place(seller, [("CUP-2", 2)])
    take = intake.commerce_numbers_take

    def meanwhile(**kwargs):
        if not Order.objects.filter(purchase_order_id=raced).exists():
            with after_commit():
                intake.order_fetch(store=store, purchase_order_id=raced, actor=OrderEvent.Actor.SCHEDULE)
        return take(**kwargs)

    monkeypatch.setattr(intake, "commerce_numbers_take", meanwhile)
    # when
    created = orders_provisional_store(
        store=store, envelopes=[_envelope(first["PO_CREATED"]), _envelope(second["PO_CREATED"])]
    )
    # then: the complete order untouched (never downgraded), the other one provisional, each reserved once
    assert list(Order.objects.filter(pk__in=created).values_list("purchase_order_id", flat=True)) == [other]
    assert dict(Order.objects.values_list("purchase_order_id", "provisional")) == {raced: False, other: True}
    assert reserved(store) == {"MUG-1": 1, "CUP-2": 2}


@pytest.mark.parametrize(
    "payload",
    [
        {"purchaseOrderId": "P-1"},
        {"purchaseOrderId": "P-1", "orderLines": [{"lineNumber": "1", "sku": "MUG-1", "quantity": {}}]},
        {
            "purchaseOrderId": "P-1",
            "orderLines": [{"lineNumber": "1", "sku": "MUG-1", "quantity": {"measurementValue": "1.5"}}],
        },
        {"purchaseOrderId": "P-1", "orderLines": [{"sku": "MUG-1", "quantity": {"measurementValue": 1}}]},
        {
            "purchaseOrderId": "P-1",
            "orderDate": "yesterday",
            "orderLines": [{"lineNumber": "1", "sku": "MUG-1", "quantity": {"measurementValue": 1}}],
        },
    ],
)
def test_a_notification_that_does_not_describe_an_order_is_recorded_without_one(shop, client, payload):
    store, _seller = shop
    body = json.dumps({"source": {"eventId": "EV-1", "eventType": "PO_CREATED"}, "payload": payload}).encode()
    response = deliver(client, store, body)
    assert response.json() == {"status": "accepted"}
    assert WebhookEvent.objects.filter(purchase_order_id="P-1").count() == 1
    assert (Order.objects.count(), reserved(store)) == (0, {})


def test_the_payload_parser_names_what_is_wrong():
    with pytest.raises(ValueError, match="no orderLines"):
        PoCreated.from_api({"purchaseOrderId": "1"})
    with pytest.raises(ValueError, match="line 1: quantity.measurementValue must be a positive whole number"):
        PoCreated.from_api(
            {"purchaseOrderId": "1", "orderLines": [{"lineNumber": 1, "sku": "A", "quantity": {"measurementValue": 0}}]}
        )
    line = {"lineNumber": "1", "sku": "A", "quantity": {"measurementValue": 1}}
    with pytest.raises(ValueError, match="repeats a lineNumber"):
        PoCreated.from_api({"purchaseOrderId": "1", "orderLines": [line, line]})
    offer = {"source": {"eventType": "OFFER_PUBLISHED"}, "payload": {"sku": "A"}}
    assert po_created_from_envelope(offer) is None
    intent = {"source": {"eventType": "ORDER_UPDATES"}, "payload": {"subEventType": "INTENT_TO_CANCEL"}}
    assert po_created_from_envelope(intent) is None


# --- the sweep: an order no other path completed ----------------------------------------------------------------


def test_the_sweep_keeps_reading_it_back_with_backoff_and_completes_it(shop, walmart, client, settings):
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("MUG-1", 1)])
    deliver(client, store, bodies["PO_CREATED"])
    WebhookEvent.objects.update(processed_at=timezone.now())  # only the sweep is left to read it
    order = Order.objects.get()
    stored_at = timezone.now()
    # the first read-back is due 120 s after it was stored; 429 again: the next is due 240 s after that
    with after_commit():
        assert sweep_all(now=stored_at + timedelta(seconds=60))["orders.provisional"] == 0
    with after_commit():
        assert sweep_all(now=stored_at + timedelta(seconds=121))["orders.provisional"] == 1
    order.refresh_from_db()
    assert (order.provisional, order.provisional_read_attempts) == (True, 1)
    assert "429" in order.provisional_read_error or "REQUEST_THRESHOLD" in order.provisional_read_error
    assert order.provisional_read_at == stored_at + timedelta(seconds=121 + 240)
    with after_commit():
        assert sweep_all(now=stored_at + timedelta(seconds=300))["orders.provisional"] == 0
    # when: Walmart answers again
    walmart_answers_again(seller)
    with after_commit():
        assert sweep_all(now=stored_at + timedelta(seconds=362))["orders.provisional"] == 1
    # then
    order.refresh_from_db()
    assert (order.provisional, order.provisional_read_at, order.provisional_read_attempts) == (False, None, 0)
    assert order.customer_name
    assert reserved(store) == {"MUG-1": 1}
    assert len(walmart.applied("POST", "/acknowledge")) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the names are kept by PostgreSQL triggers")
def test_the_name_its_read_back_brings_is_kept_and_found_by_a_name_search(shop, walmart, client):
    # given: an order stored from its notification during a 429 storm: no customer name yet
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    _, bodies = place(seller, [("MUG-1", 1)])
    deliver(client, store, bodies["PO_CREATED"])
    WebhookEvent.objects.update(processed_at=timezone.now())
    order = Order.objects.get()
    assert order.customer_name == ""
    # when: Walmart answers again and the sweep reads it back
    walmart_answers_again(seller)
    with after_commit():
        assert sweep_all(now=timezone.now() + timedelta(seconds=121))["orders.provisional"] == 1
    # then: its name is kept beside the empty one it had, and a search of part of it finds the order
    order.refresh_from_db()
    assert not order.provisional
    names = CustomerName.objects.filter(store=store).values_list("customer_name", flat=True)
    assert sorted(names) == ["", order.customer_name]
    query = ListQuery(search=order.customer_name[1:-1])
    page = order_page(store=store, query=query, counts=order_status_counts(store=store))
    assert [row.pk for row in page.rows] == [order.pk]


def test_an_order_walmart_never_returns_is_released_after_the_acknowledgement_window(shop, client):
    # given: a notification for a purchase order Walmart's API does not know
    store, _seller = shop
    body = {
        "source": {"eventId": "EV-GHOST", "eventType": "PO_CREATED"},
        "payload": {
            "purchaseOrderId": "999000111",
            "orderDate": "2026-01-01T10:00:00.000Z",
            "orderLines": [
                {"lineNumber": "1", "sku": "MUG-1", "quantity": {"unitOfMeasure": "EACH", "measurementValue": 2}}
            ],
        },
    }
    deliver(client, store, json.dumps(body).encode())
    WebhookEvent.objects.update(processed_at=timezone.now())
    order = Order.objects.get()
    assert reserved(store) == {"MUG-1": 2}
    # an hour of "not found": still waiting, still reserved
    with after_commit():
        sweep_all(now=timezone.now() + timedelta(hours=1))
    order.refresh_from_db()
    assert (order.provisional, order.status, reserved(store)) == (True, "open", {"MUG-1": 2})
    assert "not found" in order.provisional_read_error.lower() or "404" in order.provisional_read_error
    # when: past the 4 hours
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=5))
    with after_commit():
        sweep_all(now=timezone.now() + timedelta(hours=5))
    # then: its units are back, it says why, and the sweep leaves it alone
    order.refresh_from_db()
    assert (order.provisional, order.status, order.provisional_read_at) == (True, "error", None)
    assert order.status_details.startswith("Walmart does not return purchase order 999000111")
    assert "its 2 reserved unit(s) went back to stock" in order.status_details
    assert (reserved(store), on_hand(store)["MUG-1"]) == ({}, 20)
    assert order.lines.get().stock_reserved == 0
    assert timeline(order)[-1] == ("system", order.status_details)
    with after_commit():
        assert sweep_all(now=timezone.now() + timedelta(hours=9))["orders.provisional"] == 0


# --- crash safety ---------------------------------------------------------------------------------------------


def test_a_death_while_the_order_is_written_leaves_the_event_and_in_the_end_one_order(shop, client, monkeypatch):
    # given: the process dies while the order's stock is reserved, after the delivery's event was committed
    store, seller = shop
    purchase_order_id, bodies = place(seller, [("MUG-1", 1)])

    def dies(**kwargs):
        raise ProcessDied("died while reserving")

    monkeypatch.setattr("inventory.services.reservations_apply", dies)
    with pytest.raises(ProcessDied):
        deliver(client, store, bodies["PO_CREATED"])
    assert (WebhookEvent.objects.count(), Order.objects.count(), OrderEvent.objects.count()) == (1, 0, 0)
    assert reserved(store) == {}
    # when: Walmart, without our answer, delivers it again
    monkeypatch.undo()
    response = deliver(client, store, bodies["PO_CREATED"])
    # then: one event, one order (the number the dead write took is skipped)
    assert response.json() == {"status": "duplicate"}
    order = Order.objects.get()
    assert (order.provisional, order.commerce_order_number) == (True, "WM00000002")
    assert (WebhookEvent.objects.count(), reserved(store)) == (1, {"MUG-1": 1})


def test_the_order_is_written_apart_from_its_commerce_number(shop, client):
    # given: a delivery of a new order
    store, seller = shop
    _po, bodies = place(seller, [("MUG-1", 1)])
    # when
    with CaptureQueriesContext(connection) as captured:
        deliver(client, store, bodies["PO_CREATED"])
    # then: the store's numbering row is updated in a transaction of its own, before the order's
    statements = [query["sql"] for query in captured.captured_queries]
    numbering = next(i for i, sql in enumerate(statements) if sql.startswith('UPDATE "orders_ordersettings"'))
    # PostgreSQL: the order's key drawn from its sequence (the rows go by COPY); SQLite: the INSERT
    order_insert = next(
        i for i, sql in enumerate(statements) if "'orders_order'" in sql or 'INTO "orders_order"' in sql
    )
    between = [sql.split()[0] for sql in statements[numbering:order_insert]]
    assert between.count("RELEASE") + between.count("COMMIT") >= 1


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_read_back_that_died_leaves_one_order_completed_by_the_sweep(shop, walmart, client, point):
    store, seller = shop
    purchase_order_id, bodies = place(seller, [("CUP-2", 2)])
    deliver(client, store, bodies["PO_CREATED"])
    with walmart.crash_at(point, "GET", rf"/v3/orders/{purchase_order_id}$"), pytest.raises(ProcessDied):
        webhook_events_process(store_id=store.pk)
    assert Order.objects.get().provisional
    # when
    with after_commit():
        sweep_all(now=timezone.now() + LATER)
    # then
    order = Order.objects.get()
    assert (order.provisional, reserved(store), on_hand(store)["CUP-2"]) == (False, {"CUP-2": 2}, 18)
    assert len(walmart.applied("POST", "/acknowledge")) == 1


def test_a_refund_of_a_line_of_an_order_awaiting_walmarts_details_is_refused(store, listed_product, walmart_api):
    # given: a return linked to the lines of an order that is (again) awaiting Walmart's details
    from returns.models import Refund
    from returns.services import RefundLineRequest, refund_create, return_upsert_from_walmart
    from tests.returns.factories import return_json, shipped_order
    from walmart_client.models import WalmartReturn

    order = shipped_order(store)
    returned, _ = return_upsert_from_walmart(store=store, remote=WalmartReturn.from_api(return_json()))
    line = returned.lines.get()
    assert line.order_line.order_id == order.pk
    Order.objects.filter(pk=order.pk).update(provisional=True)
    # when / then
    with pytest.raises(ValidationError, match="PO-1 is awaiting Walmart's details.*cannot be refunded"):
        refund_create(return_order=returned, lines=[RefundLineRequest(line.pk, 1, back_to_stock=True)])
    assert Refund.objects.count() == 0
    assert [call.request.url for call in walmart_api.calls] == []


def test_while_walmart_fails_the_sweep_tries_once_for_all_its_orders_not_once_each(shop, walmart, client):
    # given: three provisional orders, and Walmart answering 500 to everything
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    for _ in range(3):
        _po, bodies = place(seller, [("MUG-1", 1)])
        deliver(client, store, bodies["PO_CREATED"])
    WebhookEvent.objects.update(processed_at=timezone.now())
    walmart_answers_again(seller)
    faults.fault_set(seller=seller, error_share=1.0, error_status=500)
    walmart.calls.clear()
    # when
    with after_commit():
        assert sweep_all(now=timezone.now() + LATER)["orders.provisional"] == 3
    # then: the listing failed, and no order was asked for on its own
    reads = [call.path for call in walmart.calls if call.method == "GET" and "/v3/orders" in call.path]
    assert reads
    assert [path for path in reads if not path.endswith("/v3/orders")] == []
    errors = set(Order.objects.values_list("provisional", "provisional_read_attempts", "provisional_read_error"))
    assert len(errors) == 1
    provisional, attempts, error = errors.pop()
    assert (provisional, attempts) == (True, 1)
    assert "500" in error or "SYSTEM_ERROR" in error


def test_the_endpoint_answers_before_it_writes_the_order(shop, rf):
    # given: a signed PO_CREATED delivery
    from orders.views import webhook_receive_view

    store, seller = shop
    _po, bodies = place(seller, [("MUG-1", 2)])
    body = bodies["PO_CREATED"]
    request = rf.post(
        "/hook",
        data=body,
        content_type="application/json",
        headers={"X-Walmart-Signature": webhook_signature(body, store.client_secret)},
    )
    # when: the view has answered, the server not yet done with the response
    with TestCase.captureOnCommitCallbacks(execute=False):
        response = webhook_receive_view(request, OrderSettings.objects.get(store=store).webhook_token)
    # then: the event is recorded, the order not yet; it is once the server closes the sent response
    assert (response.status_code, json.loads(response.content)) == (200, {"status": "accepted"})
    assert (WebhookEvent.objects.count(), Order.objects.count()) == (1, 0)
    request_finished.disconnect(close_old_connections)  # as the test client does: the test's transaction stays
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert Order.objects.get().provisional
    assert reserved(store) == {"MUG-1": 2}


def test_the_poll_completes_it_too(shop, walmart, client):
    store, seller = shop
    faults.fault_set(seller=seller, throttle_storm=True)
    purchase_order_id, bodies = place(seller, [("CUP-2", 2)])
    deliver(client, store, bodies["PO_CREATED"])
    walmart_answers_again(seller)
    # when: the poll reads it (the webhook batch never ran)
    with after_commit():
        order_poll(store=store)
    # then
    order = Order.objects.get(purchase_order_id=purchase_order_id)
    assert (order.provisional, bool(order.customer_name), reserved(store)) == (False, True, {"CUP-2": 2})
    assert len(walmart.applied("POST", "/acknowledge")) == 1
    assert [message for _actor, message in timeline(order)][0] == (
        "Order received from Walmart; commerce order WM00000001 created."
    )
