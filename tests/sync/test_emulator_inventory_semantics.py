"""Walmart's inventory semantics end to end against the emulator (which models them: inputQty counts the units
sold and not yet shipped, reservedQty those units, availToSellQty the difference).

Before per-store reservations, every SKU in an unshipped order was reported as drift and re-pushed on every
reconciliation, and Walmart showed fewer units to sell than the catalog had while the order was unshipped.
Here the order's units move into the store's reservation, what is sent is available + that reservation -
buffer, and a shipment lowers what we believe Walmart holds: nothing is sent, nothing drifts, and Walmart
offers exactly the catalog's available units less the buffer throughout."""

from datetime import UTC, datetime

import pytest

from inventory.services import ReservationMove, reservations_apply, stock_set
from listings.models import Listing, Product
from sync.models import StoreSyncSettings
from sync.services import sync_client_get, sync_reconcile, sync_run
from walmart_client.models import CancelLine, ShipLine
from walmart_emulator.models import Offer
from walmart_emulator.orders import order_simulate

pytestmark = pytest.mark.django_db(transaction=True)


def walmart_inventory(seller, sku):
    """(inputQty, reservedQty, availToSellQty) of the SKU on the emulator."""
    offer = Offer.objects.get(seller=seller, sku=sku)
    return offer.quantity, offer.reserved_quantity, max(offer.quantity - offer.reserved_quantity, 0)


def walmart_ships(client, order, *, quantity, tracking_number, seller_order_id):
    """Walmart ships `quantity` units of the order's first line (by UPS, now)."""
    ship = ShipLine(
        line_number=1,
        quantity=quantity,
        tracking_number=tracking_number,
        method_code="Standard",
        carrier="UPS",
        ship_datetime=datetime.now(tz=UTC),
    )
    client.orders.ship(order.purchase_order_id, lines=[ship], seller_order_id=seller_order_id)


def quiet_run_and_reconcile(store):
    """A planner run and a reconciliation of the inventory stream; returns (units sent, drifted listings)."""
    run = sync_run(store=store, stream="inventory")
    reconcile = sync_reconcile(store=store, stream="inventory")
    return run.singles_sent + run.feed_items, reconcile.drifted


def test_an_order_its_shipment_and_a_cancellation_keep_walmart_and_the_catalog_in_step(emulated):
    # given: SKU-0 with 5 in stock, in sync on Walmart (inputQty 5), a buffer of 1 already applied (so 4 sent)
    store, seller = emulated(count=1)
    StoreSyncSettings.objects.create(store=store, safety_buffer=1)
    product = Product.objects.get(sku="SKU-0")
    Listing.objects.filter(store=store).update(confirmed_quantity=4)
    Offer.objects.filter(seller=seller, sku="SKU-0").update(quantity=4)
    # when: a customer buys 3 on Walmart, and intake reserves them here
    order = order_simulate(seller=seller, lines=[("SKU-0", 3)])
    reservations_apply(
        store_id=store.pk,
        moves=[ReservationMove(product.pk, reserved=3)],
        actor="poll",
        reference=order.purchase_order_id,
    )
    # then: nothing to send and no drift while the order is unshipped; Walmart offers available 2 - buffer 1
    assert quiet_run_and_reconcile(store) == (0, 0)
    assert walmart_inventory(seller, "SKU-0") == (4, 3, 1)
    assert Product.objects.get(pk=product.pk).quantity == 2

    # when: 2 of the 3 ship on Walmart, and intake sees it
    client = sync_client_get(store)
    client.orders.acknowledge(order.purchase_order_id)
    walmart_ships(client, order, quantity=2, tracking_number="1Z-TEST", seller_order_id="S-1")
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, shipped=2)], actor="poll")
    # then: Walmart lowered inputQty by 2, and so did our belief: still nothing to send, no drift
    assert walmart_inventory(seller, "SKU-0") == (2, 1, 1)
    assert Listing.objects.get(store=store).confirmed_quantity == 2
    assert quiet_run_and_reconcile(store) == (0, 0)

    # when: the last unit is cancelled on Walmart, and intake gives it back
    client.orders.cancel(
        order.purchase_order_id,
        lines=[CancelLine(line_number=1, quantity=1, reason="SELLER_CANCEL_OUT_OF_STOCK")],
    )
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, released=1)], actor="poll")
    # then: the catalog has 3 again, Walmart offers 3 - buffer 1 = 2 (inputQty 2, nothing reserved)
    assert Product.objects.get(pk=product.pk).quantity == 3
    assert walmart_inventory(seller, "SKU-0") == (2, 0, 2)
    assert quiet_run_and_reconcile(store) == (0, 0)


def test_a_new_stock_count_during_an_unshipped_order_is_sent_with_the_order_still_counted(emulated):
    # given: 5 in stock and in sync; a customer orders 2 (unshipped)
    store, seller = emulated(count=1)
    product = Product.objects.get(sku="SKU-0")
    order = order_simulate(seller=seller, lines=[("SKU-0", 2)])
    reservations_apply(
        store_id=store.pk,
        moves=[ReservationMove(product.pk, reserved=2)],
        actor="poll",
        reference=order.purchase_order_id,
    )
    # when: the warehouse counts 10 available (the 2 sold units are set aside), and the planner runs
    Product.objects.filter(pk=product.pk).update(quantity=10)
    sent, _ = quiet_run_and_reconcile(store)
    # then: Walmart is told inputQty 12, so it offers 10 to sell (not 8)
    assert sent == 1
    assert walmart_inventory(seller, "SKU-0") == (12, 2, 10)


def test_walmart_holding_less_than_confirmed_converges_through_reconciliation(emulated):
    # given: SKU-0 confirmed at 5 and the catalog still wants 5, but Walmart holds 2 (units it shipped that
    # intake never recorded, or a value that was never applied): the planner sees nothing to send
    store, seller = emulated(count=2)
    Offer.objects.filter(seller=seller, sku="SKU-0").update(quantity=2)
    run = sync_run(store=store, stream="inventory")
    assert run.singles_sent + run.feed_items == 0
    # when: the reconciliation reads Walmart back (like with like: inputQty against what was sent)
    reconcile = sync_reconcile(store=store, stream="inventory")
    # then: the difference is drift; what we believe Walmart holds was corrected to 2, so the run the
    # reconciliation queues (run at once here) sends 5 again, and Walmart converges
    assert (reconcile.checked, reconcile.drifted) == (2, 1)
    listing = Listing.objects.get(store=store, product__sku="SKU-0")
    assert (listing.confirmed_quantity, listing.inventory_drift_at is not None) == (5, True)
    assert walmart_inventory(seller, "SKU-0") == (5, 0, 5)
    assert quiet_run_and_reconcile(store) == (0, 0)
    assert walmart_inventory(seller, "SKU-1") == (5, 0, 5)


def test_an_unshipped_order_is_not_drift_and_the_buffer_alone_is_taken_off(emulated):
    # given: a buffer of 2 and no cap; a customer orders 3 of SKU-0 (unshipped) and intake reserves them
    store, seller = emulated(count=1)
    StoreSyncSettings.objects.create(store=store, safety_buffer=2)
    product = Product.objects.get(sku="SKU-0")
    order = order_simulate(seller=seller, lines=[("SKU-0", 3)])
    reservations_apply(
        store_id=store.pk,
        moves=[ReservationMove(product.pk, reserved=3)],
        actor="poll",
        reference=order.purchase_order_id,
    )
    # when: the planner runs (the nudge of the reservation already queued one; this one finds nothing left)
    run = sync_run(store=store, stream="inventory")
    # then: Walmart was told inputQty 3 = available 2 + reserved 3 - buffer 2 (no cap hides the buffer), so it
    # offers 0 to sell; nothing is drift
    assert run.plan["changes"] == 0
    assert walmart_inventory(seller, "SKU-0") == (3, 3, 0)
    assert sync_reconcile(store=store, stream="inventory").drifted == 0


def test_a_quantity_sent_after_walmart_shipped_but_before_intake_saw_it_converges(emulated):
    """The race that left listings stuck in the fault soak: Walmart ships (inputQty lowered), our quantity
    `PUT` (counting the shipped units as still reserved) lands after it, and only then intake learns of the
    shipment. Lowering the just-confirmed value would make desired == confirmed while Walmart holds more."""
    # given: SKU-0 with 5 in stock and in sync; a customer orders 3 (reserved here)
    store, seller = emulated(count=1)
    product = Product.objects.get(sku="SKU-0")
    order = order_simulate(seller=seller, lines=[("SKU-0", 3)])
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, reserved=3)], actor="poll")
    client = sync_client_get(store)
    client.orders.acknowledge(order.purchase_order_id)
    # and Walmart ships 2 of them (the answer is not stored yet)
    walmart_ships(client, order, quantity=2, tracking_number="1Z-RACE", seller_order_id="S-1")
    assert walmart_inventory(seller, "SKU-0") == (3, 1, 2)
    # when: a restock of 1 is sent meanwhile (available 3 + reserved 3 = 6: Walmart takes 6 absolute; the
    # change's nudge runs the planner at once here)
    stock_set(product=Product.objects.get(pk=product.pk), quantity=3, reason="manual", actor="test")
    sync_run(store=store, stream="inventory")
    assert walmart_inventory(seller, "SKU-0") == (6, 1, 5)
    assert Listing.objects.get(store=store).confirmed_quantity == 6
    # and then intake records the shipment
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, shipped=2)], actor="poll")
    # then: the run its nudge queued (at once here) sent available 3 + reserved 1 = 4, and Walmart offers the
    # 3 available; nothing left to send, no drift
    assert walmart_inventory(seller, "SKU-0") == (4, 1, 3)
    assert Listing.objects.get(store=store).confirmed_quantity == 4
    assert quiet_run_and_reconcile(store) == (0, 0)


def test_a_quantity_sent_before_walmart_shipped_then_a_restock_to_the_same_value_converges(emulated):
    """The other side of the race, also found by the fault soak: our PUT landed BEFORE Walmart shipped (so
    Walmart lowered it), intake learns of the shipment while that value is still recent, and a restock brings
    the desired quantity back to the value we sent before the planner runs. Kept as it was, the belief equals
    the desired value while Walmart holds the shipped units fewer, and nothing is ever sent again."""
    from django.db import transaction
    from django.utils import timezone

    # given: SKU-0 with 5 in stock, in sync on Walmart a moment ago; a customer orders 3 (reserved here)
    store, seller = emulated(count=1)
    product = Product.objects.get(sku="SKU-0")
    Listing.objects.filter(store=store).update(confirmed_quantity=5, confirmed_quantity_at=timezone.now())
    Offer.objects.filter(seller=seller, sku="SKU-0").update(quantity=5)
    order = order_simulate(seller=seller, lines=[("SKU-0", 3)])
    reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, reserved=3)], actor="poll")
    assert walmart_inventory(seller, "SKU-0") == (5, 3, 2)
    # and Walmart ships 2 of them
    client = sync_client_get(store)
    client.orders.acknowledge(order.purchase_order_id)
    walmart_ships(client, order, quantity=2, tracking_number="1Z-BEFORE", seller_order_id="S-2")
    assert walmart_inventory(seller, "SKU-0") == (3, 1, 2)
    # when: intake records the shipment and, before the planner runs, 2 units are restocked (available 4 +
    # reserved 1 = 5: the value sent before the shipment)
    with transaction.atomic():
        reservations_apply(store_id=store.pk, moves=[ReservationMove(product.pk, shipped=2)], actor="poll")
        stock_set(product=Product.objects.get(pk=product.pk), quantity=4, reason="manual", actor="test")
    # then: the run the nudge queued sent 5, Walmart offers the 4 available; nothing left to send, no drift
    assert walmart_inventory(seller, "SKU-0") == (5, 1, 4)
    assert Listing.objects.get(store=store).confirmed_quantity == 5
    assert quiet_run_and_reconcile(store) == (0, 0)
