"""Admin: resync actions on listings and stores, read-only ledgers."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from inventory.services import stock_move
from listings.models import Listing
from sync.models import SyncFailure
from tests.inventory.factories import ProductFactory, listings_create

pytestmark = pytest.mark.django_db


def test_full_inventory_resync_of_selected_listings_clears_their_confirmed_quantity(admin_client, store):
    # given: three listings confirmed by Walmart, one with a refused value
    first, second, third = listings_create(store, 3, quantity=4, confirmed_quantity=4)
    SyncFailure.objects.create(listing=second, stream="inventory", value="4", message="x", created_at=second.created_at)
    # when
    response = admin_client.post(
        reverse("admin:sync_listingsync_changelist"),
        {"action": "resync_inventory", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    # then
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "2 listings will be sent to Walmart again (inventory)."
    ]
    values = dict(Listing.objects.values_list("pk", "confirmed_quantity"))
    assert values == {first.pk: None, second.pk: None, third.pk: 4}
    assert not SyncFailure.objects.exists()
    assert Listing.objects.get(pk=first.pk).confirmed_price is not None


def test_full_price_resync_of_a_store(admin_client, store, other_store):
    listings_create(store, 2)
    listings_create(other_store, 1, prefix="OTHER")
    response = admin_client.post(
        reverse("admin:sync_storesync_changelist"),
        {"action": "resync_price", "_selected_action": [store.pk]},
        follow=True,
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "2 listings will be sent to Walmart again (price)."
    ]
    assert list(Listing.objects.filter(confirmed_price=None).values_list("store_id", flat=True)) == [store.pk] * 2
    assert Listing.objects.get(store=other_store).confirmed_price is not None


def test_resync_of_one_listing_is_reported_in_the_singular(admin_client, store):
    listing = listings_create(store, 1)[0]
    response = admin_client.post(
        reverse("admin:sync_listingsync_changelist"),
        {"action": "resync_price", "_selected_action": [listing.pk]},
        follow=True,
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 listing will be sent to Walmart again (price)."]


@pytest.mark.parametrize(
    "model",
    [
        "inventory_stockmovement",
        "sync_storesyncsettings",
        "sync_syncstate",
        "sync_itemupdate",
        "sync_syncfailure",
        "sync_listingsync",
        "sync_storesync",
    ],
)
def test_admin_changelists_render(admin_client, store, model):
    listings_create(store, 1)
    stock_move(product=ProductFactory(quantity=3), delta=-1, reason="manual", actor="admin")
    assert admin_client.get(reverse(f"admin:{model}_changelist")).status_code == 200


def test_reconcile_now_queues_one_reconciliation_per_stream_of_each_selected_store(
    admin_client, store, other_store, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reverse("admin:sync_storesync_changelist"),
            {"action": "reconcile_now", "_selected_action": [store.pk, other_store.pk]},
            follow=True,
        )
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["4 reconciliations queued."]
    assert len(callbacks) == 4
