"""The planner's dirty set (`sync.due`): what marks a listing due, how a run settles it, and what a run costs
when nothing changed (a few queries, whatever the catalog's size). The equivalence with a full scan is
tests/sync/test_incremental_planner.py."""

from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockReservation
from inventory.services import ReservationMove, reservations_apply
from listings.models import Listing, Product
from sync.due import due_settle
from sync.models import ListingSyncDue, StoreSyncSettings, SyncState
from sync.services import sync_due_refresh, sync_plan, sync_run
from tests.inventory.factories import listings_create

pytestmark = pytest.mark.django_db


def due(store, stream="inventory"):
    return sorted(
        ListingSyncDue.objects.filter(store=store, stream=stream).values_list("listing__product__sku", flat=True)
    )


def settled(store):
    """As a run leaves it: the store rescanned just now, every listing compared and the equal ones dropped."""
    for stream in ("inventory", "price"):
        sync_due_refresh(store=store, stream=stream)
        due_settle(marks=ListingSyncDue.objects.filter(store=store, stream=stream).values_list("pk", "generation"))


def test_every_input_of_the_desired_quantity_marks_the_listing_due(store):
    # given: three matched listings in sync, nothing due
    a, b, c = listings_create(store, 3, quantity=5, confirmed_quantity=5)
    settled(store)
    assert due(store) == []
    # when: a catalog quantity, a reservation and a confirmed value change, each its own way
    Product.objects.filter(pk=a.product_id).update(quantity=4)
    StockReservation.objects.create(store=store, product_id=b.product_id, quantity=2)
    Listing.objects.filter(pk=c.pk).update(confirmed_quantity=1)
    # then
    assert due(store) == ["SKU-000000", "SKU-000001", "SKU-000002"]
    # and a price-only change marks the price stream only
    settled(store)
    Product.objects.filter(pk=a.product_id).update(price="11.00")
    assert (due(store, "inventory"), due(store, "price")) == ([], ["SKU-000000"])


def test_a_listing_not_matched_is_not_marked_and_becomes_due_when_matched(store):
    (draft,) = listings_create(store, 1, status=Listing.Status.DRAFT, confirmed_quantity=None)
    Product.objects.filter(pk=draft.product_id).update(quantity=3)
    assert due(store) == []
    Listing.objects.filter(pk=draft.pk).update(status=Listing.Status.MATCH)
    assert due(store) == ["SKU-000000"]


def test_a_mark_made_while_the_planner_ran_is_not_settled_away(store):
    # given: a due listing read by a plan (equal values: settled)
    (listing,) = listings_create(store, 1, quantity=5, confirmed_quantity=5)
    planned = sync_plan(store=store, stream="inventory")
    assert [entry.settled for entry in planned.due] == [True]
    # when: the catalog changes before the plan's rows are settled
    Product.objects.filter(pk=listing.product_id).update(quantity=2)
    settled_now = due_settle(marks=[(entry.due_id, entry.generation) for entry in planned.due])
    # then: the row stays (its generation moved on) and the next plan sends the change
    assert settled_now == 0
    assert [change.value for change in sync_plan(store=store, stream="inventory").plan.singles] == [2]


def generations(store):
    return dict(
        ListingSyncDue.objects.filter(store=store, stream="inventory").values_list(
            "listing__product__sku", "generation"
        )
    )


def test_a_stock_move_marks_each_listing_of_its_products_once_and_misses_none(store, other_store):
    # given: four products listed in two stores; two of them with units reserved in the first store; the second
    # product out of stock; the third never confirmed on Walmart (a shipment then lowers no confirmed value:
    # only its reservation says it changed); nothing due
    mine = listings_create(store, 4, quantity=5, confirmed_quantity=5)
    products = [listing.product_id for listing in mine]
    for product_id in products:
        Listing.objects.create(store=other_store, product_id=product_id, status="match", confirmed_quantity=5)
    Product.objects.filter(pk=products[1]).update(quantity=0)
    Listing.objects.filter(pk=mine[2].pk).update(confirmed_quantity=None)
    moves = [ReservationMove(products[2], reserved=2), ReservationMove(products[3], reserved=2)]
    reservations_apply(store_id=store.pk, moves=moves, actor="poll")
    settled(store)
    settled(other_store)
    # when: one move of each kind: reserved (available and reservation change), reserved out of stock (only the
    # reservation changes), shipped (only the reservation), released (both)
    moves = [
        ReservationMove(products[0], reserved=1),
        ReservationMove(products[1], reserved=1),
        ReservationMove(products[2], shipped=2),
        ReservationMove(products[3], released=2),
    ]
    reservations_apply(store_id=store.pk, moves=moves, actor="poll")
    # then: every listing of the store is due; in the other store those whose available changed; on PostgreSQL
    # each marked once (SQLite's row-level triggers mark once per trigger)
    mine, others = generations(store), generations(other_store)
    assert (sorted(mine), sorted(others)) == (
        ["SKU-000000", "SKU-000001", "SKU-000002", "SKU-000003"],
        ["SKU-000000", "SKU-000003"],
    )
    if connection.vendor == "postgresql":
        assert set(mine.values()) | set(others.values()) == {1}


def test_a_reservation_change_marks_again_what_an_earlier_write_marked(store):
    # given: one listing due, its mark read by a planner; another one settled
    due_before, settled_before = listings_create(store, 2, quantity=5, confirmed_quantity=5)
    settled(store)
    Product.objects.filter(pk=due_before.product_id).update(quantity=4)
    read = list(ListingSyncDue.objects.filter(store=store).values_list("pk", "generation"))
    # when: in a later transaction the first one's reservation changes; and the second one's available changes
    # in a savepoint rolled back before its reservation changes
    with transaction.atomic():
        StockReservation.objects.create(store=store, product_id=due_before.product_id, quantity=1)
    with transaction.atomic():
        with suppress(ValueError), transaction.atomic():
            Product.objects.filter(pk=settled_before.product_id).update(quantity=3)
            raise ValueError("rolled back")
        StockReservation.objects.create(store=store, product_id=settled_before.product_id, quantity=1)
    # then: the planner's read mark is not settled away, and the second listing is due
    assert due_settle(marks=read) == 0
    assert due(store) == ["SKU-000000", "SKU-000001"]


def test_a_new_buffer_is_found_by_the_rescan_it_asks_for(store, operator_client):
    listings_create(store, 2, quantity=5, confirmed_quantity=5)
    settled(store)
    # when: the manager sets a buffer on the settings page
    response = operator_client.post(
        reverse("sync:sync_settings", args=[store.pk]),
        {
            "sync-safety_buffer": "2",
            "sync-feeds_per_hour": "6",
            "sync-inventory_feed_max_bytes": "5242880",
            "sync-price_feed_max_bytes": "10000000",
            "sync-inventory_feed_max_items": "100000",
            "sync-price_feed_max_items": "10000",
            "sync-single_calls_per_tick": "50",
            "price-markup_type": "none",
            "price-markup_value": "0",
        },
    )
    assert response.status_code == 302
    assert StoreSyncSettings.objects.get(store=store).safety_buffer == 2
    assert SyncState.objects.get(store=store, stream="inventory").rescan_requested_at is not None
    # then: the next refresh rescans in SQL and the plan sends 5 - 2 to both
    assert sync_due_refresh(store=store, stream="inventory") is True
    assert [change.value for change in sync_plan(store=store, stream="inventory").plan.singles] == [3, 3]
    assert SyncState.objects.get(store=store, stream="inventory").rescan_requested_at is None


def test_the_rescan_also_runs_as_a_periodic_safety_net(store):
    (listing,) = listings_create(store, 1, quantity=5, confirmed_quantity=5)
    settled(store)
    # given: a listing out of sync that nothing marked (a write with the triggers bypassed)
    ListingSyncDue.objects.all().delete()
    Product.objects.filter(pk=listing.product_id).update(quantity=1)
    ListingSyncDue.objects.all().delete()
    assert sync_due_refresh(store=store, stream="inventory") is False
    # when: the last rescan is over an hour old
    SyncState.objects.filter(store=store).update(rescanned_at=timezone.now() - timedelta(hours=2))
    # then
    assert sync_due_refresh(store=store, stream="inventory") is True
    assert due(store) == ["SKU-000000"]


def run_queries(store, *, client):
    with CaptureQueriesContext(connection) as queries:
        sync_run(store=store, stream="inventory", client=client)
    return len(queries)


def test_an_idle_run_costs_the_same_few_queries_whatever_the_catalogs_size(walmart, store, api_client):
    # given: a store with 5 matched listings in sync, then one with 400
    listings_create(store, 5, quantity=5, confirmed_quantity=5)
    settled(store)
    small = run_queries(store, client=api_client)
    listings_create(store, 400, quantity=5, confirmed_quantity=5, prefix="MORE")
    settled(store)
    # when / then: an idle run reads no listing: the same queries as for the small catalog
    large = run_queries(store, client=api_client)
    assert large == small
    assert small <= 20
