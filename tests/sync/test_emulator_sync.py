"""End to end against the Walmart emulator through Django's live server: catalog changes reach Walmart
(single calls and feeds, per-item results), reconciliation finds injected drift and repairs it, and
Walmart's 429 pauses the stream."""

from decimal import Decimal

import pytest

from channel_manager.models import Feed
from inventory.services import stock_bulk_set
from listings.models import Listing, Product
from sync.models import ItemUpdate, StoreSyncSettings, SyncState
from sync.services import sync_reconcile, sync_run
from walmart_emulator import services as emulator
from walmart_emulator.models import Offer

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cret-value-never-shown"


def walmart_quantities(seller):
    return dict(Offer.objects.filter(seller=seller).values_list("sku", "quantity"))


def walmart_prices(seller):
    return dict(Offer.objects.filter(seller=seller).values_list("sku", "price"))


def test_reconciliation_finds_injected_drift_and_repairs_it_zero_stock_first(emulated):
    # given: in sync, then the catalog runs out of SKU-3 while the stream was off...
    store, seller = emulated()
    Product.objects.filter(sku="SKU-3").update(quantity=0)
    Listing.objects.filter(product__sku="SKU-3").update(confirmed_quantity=0)
    emulator.inventory_update(seller=seller, sku="SKU-3", quantity=0)
    # ...and someone changes quantities and a price directly on Walmart
    emulator.inventory_update(seller=seller, sku="SKU-1", quantity=40)
    emulator.inventory_update(seller=seller, sku="SKU-3", quantity=3)
    emulator.price_update(seller=seller, body={"sku": "SKU-2", "pricing": [{"currentPrice": {"amount": 7.5}}]})
    # when: the hourly reconciliation runs for both streams (each queues a run that re-asserts)
    inventory = sync_reconcile(store=store, stream="inventory")
    price = sync_reconcile(store=store, stream="price")
    # then: the drift was found and flagged on the right listings
    assert (inventory.checked, inventory.drifted, price.drifted) == (4, 2, 1)
    flagged = dict(Listing.objects.values_list("product__sku", "inventory_drift_at"))
    assert sorted(sku for sku, at in flagged.items() if at) == ["SKU-1", "SKU-3"]
    assert Listing.objects.get(product__sku="SKU-2").price_drift_at is not None
    # and repaired on Walmart, the zero first
    assert walmart_quantities(seller) == {"SKU-0": 5, "SKU-1": 5, "SKU-2": 5, "SKU-3": 0}
    assert walmart_prices(seller)["SKU-2"] == Decimal("10.00")
    sent = list(ItemUpdate.objects.filter(stream="inventory").order_by("id").values_list("sku", "value", "status"))
    assert sent == [("SKU-3", "0", "succeeded"), ("SKU-1", "5", "succeeded")]
    assert dict(Listing.objects.values_list("product__sku", "confirmed_quantity")) == {
        "SKU-0": 5,
        "SKU-1": 5,
        "SKU-2": 5,
        "SKU-3": 0,
    }
    # a second reconciliation finds nothing left
    assert sync_reconcile(store=store, stream="inventory").drifted == 0


def test_catalog_changes_reach_walmart_by_single_calls_and_feeds_with_per_item_results(emulated):
    # given: one single call per run; five quantity changes, one to zero; a listing Walmart does not know
    store, seller = emulated(count=5)
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=1)
    ghost = Product.objects.create(sku="GHOST-1", name="Not on Walmart", price="3.00", quantity=2)
    Listing.objects.create(
        store=store, product=ghost, status=Listing.Status.MATCH, confirmed_quantity=1, confirmed_price=Decimal("3.00")
    )
    products = dict(Product.objects.values_list("sku", "pk"))
    quantities = {products[f"SKU-{number}"]: quantity for number, quantity in enumerate([0, 7, 8, 9, 1])}
    quantities[ghost.pk] = 2
    # when: an import commits the changes (the catalog hook queues one run: Celery is eager in tests), the
    # emulator processes the feed, and the next tick polls it
    stock_bulk_set(quantities=quantities, reason="import", actor="alice")
    first = SyncState.objects.get(store=store, stream="inventory").last_run_summary
    second = sync_run(store=store, stream="inventory")
    # then: the zero went alone first, the rest in one feed, and Walmart holds every value
    assert (first["singles_sent"], first["feeds_sent"], first["feed_items"]) == (1, 1, 5)
    assert ItemUpdate.objects.get().sku == "SKU-0"
    assert walmart_quantities(seller) == {"SKU-0": 0, "SKU-1": 7, "SKU-2": 8, "SKU-3": 9, "SKU-4": 1}
    assert second.feeds_completed == 1
    feed = Feed.objects.get()
    assert (feed.status, feed.items_received, feed.items_succeeded, feed.items_failed) == ("PROCESSED", 5, 4, 1)
    confirmed = dict(Listing.objects.values_list("product__sku", "confirmed_quantity"))
    assert confirmed == {"SKU-0": 0, "SKU-1": 7, "SKU-2": 8, "SKU-3": 9, "SKU-4": 1, "GHOST-1": 1}
    ghost_listing = Listing.objects.get(product=ghost)
    assert "ERR_EXT_DATA_SKU_NOT_FOUND" in ghost_listing.inventory_error
    assert "SKU 'GHOST-1' is not set up for this seller." in ghost_listing.inventory_error
    assert Listing.objects.exclude(product=ghost).filter(inventory_error="").count() == 5
    # and nothing is left to send (the refused value is not retried)
    third = sync_run(store=store, stream="inventory")
    assert (third.singles_sent, third.feeds_sent, third.plan["changes"], third.plan["blocked"]) == (0, 0, 0, 1)


def test_walmarts_429_pauses_single_price_updates_for_walmarts_wait(emulated, settings):
    # given: Walmart allows 2 price updates per hour; three prices changed
    settings.WALMART_EMULATOR_RATE_LIMITS = {"price_update": {"count": 2, "seconds": 3600}}
    store, seller = emulated(count=3)
    Product.objects.update(price=Decimal("12.00"))
    # when
    result = sync_run(store=store, stream="price")
    # then: two applied, the third refused with 429; the stream waits the replenish time (30 minutes)
    assert result.rate_limited is True
    assert list(ItemUpdate.objects.order_by("id").values_list("status", flat=True)) == [
        "succeeded",
        "succeeded",
        "rate_limited",
    ]
    assert sorted(walmart_prices(seller).values()) == [Decimal("10.00"), Decimal("12.00"), Decimal("12.00")]
    state = SyncState.objects.get(store=store, stream="price")
    wait = (state.single_not_before - state.last_run_at).total_seconds()
    assert 1700 <= wait <= 1801
    # when: the next run comes within the wait, with no feed slot needed for one item
    again = sync_run(store=store, stream="price")
    # then: no single call was tried (the last change goes by feed instead, a separate bucket)
    assert ItemUpdate.objects.count() == 3
    assert (again.singles_sent, again.feeds_sent, again.feed_items) == (0, 1, 1)
