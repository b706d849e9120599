"""End to end: the real client (built by the Django factory) against the Walmart emulator on Django's live
server. Nothing is mocked: HTTP goes over a socket to `<live_server>/walmart-emulator/v3/...`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channel_manager.connection import store_connection_test
from channel_manager.models import Store
from channel_manager.walmart import walmart_client_for_store
from tests.factories import StoreFactory
from walmart_client import CancelLine, RefundLine, ShipLine, WalmartConnectionError, WalmartRateLimited
from walmart_client.resources.feeds import inventory_feed_payload

pytestmark = pytest.mark.django_db(transaction=True)

emulator_services = pytest.importorskip("walmart_emulator.services")
emulator_orders = pytest.importorskip("walmart_emulator.orders")


@pytest.fixture(autouse=True)
def _emulator_settings(settings):
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0


@pytest.fixture
def seller(db):
    return emulator_services.seller_create(name="E2E seller", client_id="e2e-client", client_secret="e2e-secret")


@pytest.fixture
def store(live_server, seller):
    return StoreFactory(
        environment=Store.Environment.EMULATOR,
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_id=seller.client_id,
        client_secret=seller.client_secret,
    )


@pytest.fixture
def client(store):
    return walmart_client_for_store(store, sleep=lambda seconds: None)


def offer(seller, sku: str, index: int, quantity: int = 10):
    from walmart_emulator.identifiers import gtin_check_digit

    body = f"0{index:010d}"
    upc = body + gtin_check_digit(body)
    item = emulator_services.catalog_item_create(gtin="00" + upc, title=f"E2E item {index}", price=Decimal("19.99"))
    return emulator_services.offer_create(
        seller=seller,
        sku=sku,
        catalog_item=item,
        price=Decimal("19.99"),
        quantity=quantity,
        published_status="PUBLISHED",
    ), upc


def test_connection_test_marks_the_store_connected(store):
    result = store_connection_test(store=store)
    store.refresh_from_db()
    assert result.connected is True
    assert result.missing_permissions == []
    assert store.connection_status == Store.ConnectionStatus.CONNECTED


def test_wrong_secret_is_reported_without_the_secret(store):
    store.client_secret = "not-the-secret"
    store.save()
    result = store_connection_test(store=store)
    assert result.connected is False
    assert result.error.startswith("Walmart rejected the Client ID / Client Secret")
    assert "not-the-secret" not in result.error


def test_items_inventory_and_price(client, seller):
    # given
    _, upc = offer(seller, "E2E-1", 1, quantity=4)
    # when
    client.inventory.update("E2E-1", 7)
    client.prices.update("E2E-1", Decimal("24.50"))
    item = client.items.get("E2E-1")
    inventory = client.inventory.get("E2E-1")
    listed = list(client.items.iter_all())
    found = client.items.search(upc=upc)
    # then
    assert inventory.quantity == 7
    assert item.price == Decimal("24.50")
    assert [i.sku for i in listed] == ["E2E-1"]
    assert len(found) == 1
    assert found[0].item_id
    assert "inventory.update" in client.rate_limits


def test_inventory_feed_round_trip(client, seller):
    # given
    offer(seller, "E2E-F1", 2, quantity=1)
    # when
    ack = client.feeds.submit(feed_type="inventory", payload=inventory_feed_payload({"E2E-F1": 12}))
    status = client.feeds.status(ack.feed_id)
    results = list(client.feeds.iter_item_results(ack.feed_id))
    # then
    assert ack.feed_id
    assert status.feed_id == ack.feed_id
    assert status.items_received == 1
    assert [(r.sku, r.status) for r in results] == [("E2E-F1", "SUCCESS")]
    assert client.inventory.get("E2E-F1").quantity == 12


def test_order_lifecycle(client, seller):
    # given an order for 3 units of one SKU and 1 of another
    offer(seller, "E2E-O1", 3)
    offer(seller, "E2E-O2", 4)
    placed = emulator_orders.order_simulate(seller=seller, lines=[("E2E-O1", 3), ("E2E-O2", 1)])
    po = placed.purchase_order_id
    # when
    released = [o.purchase_order_id for o in client.orders.iter_released(limit=1)]
    acknowledged = client.orders.acknowledge(po)
    number = next(line.line_number for line in acknowledged.lines if line.sku == "E2E-O1")
    client.orders.ship(
        po,
        lines=[
            ShipLine(
                line_number=number,
                quantity=1,
                carrier="UPS",
                tracking_number="1Z999AA10123456784",
                method_code=acknowledged.shipping_info.method_code or "Standard",
                ship_datetime=datetime.now(tz=UTC),
            )
        ],
        seller_order_id="CM-1",
    )
    client.orders.cancel(po, lines=[CancelLine(line_number=number, quantity=1, reason="SELLER_CANCEL_OUT_OF_STOCK")])
    client.orders.refund(po, lines=[RefundLine(line_number=number, amount=Decimal("-1.00"), reason="DamagedItem")])
    final = client.orders.get(po)
    # then
    assert po in released
    line = final.line(number)
    assert line.quantity == 3
    assert line.quantity_by_status == {"Acknowledged": 1, "Shipped": 1, "Cancelled": 1}
    shipped = next(s for s in line.statuses if s.status == "Shipped")
    assert (shipped.tracking_info.carrier, shipped.tracking_info.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert [(c.reason, c.charge.amount) for c in line.refund.charges] == [("DamagedItem", Decimal("-1"))]
    assert [o.purchase_order_id for o in client.orders.iter_all(limit=1)] == [po]


# ------------------------------------------------------------------------ faults of a flaky Walmart


class FakeTime:
    """A clock that starts at the real time and moves only when the client sleeps (recorded, not slept)."""

    def __init__(self) -> None:
        self.current = datetime.now(tz=UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def recorded_sleeps(fake_time):
    return fake_time.sleeps


@pytest.fixture
def flaky_client(store, fake_time):
    return walmart_client_for_store(store, sleep=fake_time.sleep, now=fake_time.now, jitter=lambda: 0.0)


def test_lost_answer_on_ship_is_not_resent_and_reading_back_shows_it_applied(flaky_client, seller):
    from walmart_emulator.faults import fault_set

    # given an acknowledged order, and Walmart applying the next write but losing the answer
    offer(seller, "E2E-L1", 3)
    po = emulator_orders.order_simulate(seller=seller, lines=[("E2E-L1", 2)]).purchase_order_id
    acknowledged = flaky_client.orders.acknowledge(po)
    number = acknowledged.lines[0].line_number
    fault_set(seller=seller, lost_answer_share=1.0, remaining=1)
    line = ShipLine(
        line_number=number,
        quantity=1,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        method_code="Standard",
        ship_datetime=datetime.now(tz=UTC),
    )
    # when
    with pytest.raises(WalmartConnectionError) as caught:
        flaky_client.orders.ship(po, lines=[line], seller_order_id="CM-2")
    # then the client says it may have been applied, did not resend, and the read-back shows one shipment
    assert caught.value.request_sent is True
    assert flaky_client.orders.get(po).line(number).quantity_by_status == {"Acknowledged": 1, "Shipped": 1}


def test_a_503_on_a_read_is_retried_once_and_succeeds(flaky_client, seller, recorded_sleeps):
    from walmart_emulator.faults import fault_set

    offer(seller, "E2E-R1", 4, quantity=5)
    flaky_client.auth.token_detail()  # token fetched before the fault
    fault_set(seller=seller, error_share=1.0, error_status=503, remaining=1)
    assert flaky_client.inventory.get("E2E-R1").quantity == 5
    assert recorded_sleeps == [0.25]


def test_a_throttle_storm_longer_than_the_limit_goes_back_to_the_caller(flaky_client, seller, recorded_sleeps):
    from walmart_emulator.faults import fault_set

    # given Walmart (the emulator) asks for a 60 s wait, over the 30 s a worker may block
    offer(seller, "E2E-T1", 5, quantity=6)
    flaky_client.auth.token_detail()
    fault_set(seller=seller, throttle_storm=True, remaining=1)
    # when
    with pytest.raises(WalmartRateLimited) as caught:
        flaky_client.inventory.get("E2E-T1")
    # then nothing slept; the caller (a Celery task) gets the wait to retry after
    assert 58 <= caught.value.retry_after <= 61
    assert recorded_sleeps == []
    assert flaky_client.rate_limits["inventory.get"].tokens_left == 0


def test_a_throttle_storm_within_the_limit_is_waited_out(store, seller, settings, fake_time):
    from walmart_emulator.faults import fault_set

    # given the store may block up to 120 s
    settings.WALMART_RATE_LIMIT_MAX_WAIT_SECONDS = 120
    client = walmart_client_for_store(store, sleep=fake_time.sleep, now=fake_time.now, jitter=lambda: 0.0)
    offer(seller, "E2E-T2", 6, quantity=6)
    client.auth.token_detail()
    fault_set(seller=seller, throttle_storm=True, remaining=1)
    # when
    inventory = client.inventory.get("E2E-T2")
    # then one wait of about Walmart's 60 s (recorded, not slept), then the answer
    assert inventory.quantity == 6
    assert len(fake_time.sleeps) == 1
    assert 58 <= fake_time.sleeps[0] <= 61  # the fake clock started a moment before Walmart answered
