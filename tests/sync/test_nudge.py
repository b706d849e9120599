"""The debounced nudge: a burst of committed catalog changes gives one planner run per stream."""

import json

import pytest
import responses

from inventory.services import stock_move
from listings.models import Listing, Product
from sync.models import ItemUpdate, SyncState
from tests.inventory.factories import listings_create

pytestmark = pytest.mark.django_db


def test_a_burst_of_stock_moves_gives_one_run_that_sends_the_final_value(
    walmart, base_url, store, django_capture_on_commit_callbacks
):
    # given: a matched listing in sync at 10
    listing = listings_create(store, 1, quantity=10, confirmed_quantity=10)[0]
    walmart.add(responses.PUT, f"{base_url}/v3/inventory", json={"sku": "SKU-000000"})
    product = Product.objects.get(pk=listing.product_id)
    # when: three orders reserve stock in a burst, then everything commits
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(3):
            stock_move(product=product, delta=-3, reason="order_reservation", actor="webhook", reference=f"PO-{number}")
    # then: one inventory run sent the final quantity once; no price run (only quantities changed)
    puts = [c for c in walmart.calls if c.request.method == "PUT"]
    assert [json.loads(c.request.body) for c in puts] == [
        {"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 1}}
    ]
    assert list(ItemUpdate.objects.values_list("value", "status")) == [("1", "succeeded")]
    assert Listing.objects.get().confirmed_quantity == 1
    assert SyncState.objects.get(store=store, stream="inventory").last_run_summary["singles_sent"] == 1
    assert not SyncState.objects.filter(store=store, stream="price").exists()


def test_a_change_to_a_product_no_store_lists_queues_nothing(walmart, store, django_capture_on_commit_callbacks):
    product = Product.objects.create(sku="LONE", name="Lone", price="1.00", quantity=5)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stock_move(product=product, delta=-1, reason="manual", actor="alice")
    assert len(callbacks) == 1  # only the catalog hook itself
    assert not SyncState.objects.exists()
    assert [c.request.method for c in walmart.calls] == []


def test_a_change_while_the_stream_is_busy_still_queues_a_run(store, django_capture_on_commit_callbacks):
    # given: a run of the stream in progress (its lock held), and a nudge whose run found it busy
    from django.core.cache import cache

    from sync.services import sync_enqueue, sync_run

    cache.set(f"sync:lock:{store.pk}:inventory", "another worker", 60)
    with django_capture_on_commit_callbacks() as queued:
        assert sync_enqueue(store_id=store.pk, stream="inventory") is True
    assert sync_run(store=store, stream="inventory").status == "busy"
    # when: the catalog changes again while the first run is still going
    with django_capture_on_commit_callbacks() as again:
        queued_again = sync_enqueue(store_id=store.pk, stream="inventory")
    # then: a run is queued for it (the debounce does not wait for the busy run's key to expire)
    assert (len(queued), queued_again, len(again)) == (1, True, 1)
