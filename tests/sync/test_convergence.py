"""Convergence after a burst (issue 11): the changes over the single-call budget go by single calls, oldest
first, when the next feed slot is far; a just-submitted feed is polled within seconds; a feed in flight and
a newer single call for the same SKU end with the newer value on Walmart. Against the Walmart emulator."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses
from django.core.cache import cache
from django.utils import timezone

from channel_manager.intents import claim_seconds
from channel_manager.models import Feed
from listings.models import Listing, Product
from sync.models import ItemUpdate, ListingSyncDue, StoreSyncSettings, SyncState
from sync.pacing import FEED_POLL_AFTER_SECONDS, feed_poll_next
from sync.planning import FeedLimits, SyncRow, plan_build
from sync.services import LOCK_SECONDS, sync_feed_poll, sync_nudge, sync_run
from tests.inventory.factories import listings_create
from walmart_emulator import services as emulator
from walmart_emulator.clock import clock_advance
from walmart_emulator.feeds import feeds_process_all_due
from walmart_emulator.models import Offer

LIMITS = FeedLimits(count=6, window_seconds=3600, max_bytes=10**9, max_items=10_000)
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def walmart_quantities(seller):
    return dict(Offer.objects.filter(seller=seller).values_list("sku", "quantity"))


def walmart_prices(seller):
    return dict(Offer.objects.filter(seller=seller).values_list("sku", "price"))


def skus(numbers):
    return [f"SKU-{number}" for number in numbers]


def feed_sent_earlier(store, *, stream="inventory", ago=timedelta(minutes=1), catch_up=True):
    """A feed of the stream that went `ago`: the next feed slot is a feed spacing after it (400 s at the
    emulator's ten feeds an hour). With `catch_up`, it was the window's catch-up feed (no other one now)."""
    at = timezone.now() - ago
    if catch_up:
        SyncState.objects.update_or_create(store=store, stream=stream, defaults={"feed_catch_up_at": at})
    return Feed.objects.create(
        store=store,
        feed_type=stream,
        status=Feed.Status.PROCESSED,
        walmart_feed_id=f"F-earlier-{stream}",
        item_count=1,
        submitted_at=at,
        completed_at=at,
    )


# ------------------------------------------------------------------------------------------ the planner


def test_over_the_single_budget_the_longest_due_go_first_urgent_before_all():
    # given: listing 1 due last, listings 2 and 3 due earlier, listing 4 due latest but going to zero
    rows = [
        SyncRow(1, "A", 9, 5, NOW),
        SyncRow(2, "B", 9, 5, NOW - timedelta(seconds=90)),
        SyncRow(3, "C", 2, 5, NOW - timedelta(seconds=30)),
        SyncRow(4, "D", 0, 5, NOW + timedelta(seconds=5)),
    ]
    # when: no feed slot for five minutes, three single calls
    plan = plan_build(stream="inventory", rows=rows, single_budget=3, feed_slots=0, limits=LIMITS, feed_next_in=300)
    # then
    assert [change.sku for change in plan.singles] == ["D", "B", "C"]
    assert [change.sku for change in plan.waiting] == ["A"]


def test_changes_over_the_single_budget_wait_for_a_feed_slot_under_a_minute_away():
    rows = [SyncRow(number, f"S{number}", 7, 5) for number in range(5)] + [SyncRow(9, "Z", 0, 5)]
    near = plan_build(stream="inventory", rows=rows, single_budget=3, feed_slots=0, limits=LIMITS, feed_next_in=45)
    far = plan_build(stream="inventory", rows=rows, single_budget=3, feed_slots=0, limits=LIMITS, feed_next_in=75)
    # the urgent zero goes at once either way; the rest waits for a near feed, not for a far one
    assert [change.sku for change in near.singles] == ["Z"]
    assert len(near.waiting) == 5
    assert [change.sku for change in far.singles] == ["Z", "S0", "S1"]
    assert len(far.waiting) == 3


# ------------------------------------------------------------------------------------------ single calls

emulator_db = pytest.mark.django_db(transaction=True)


@emulator_db
def test_a_burst_over_the_single_budget_converges_by_single_calls_oldest_first_before_the_next_feed_slot(
    emulated,
):
    # given: four single calls per run; a feed went a minute ago (the next slot is five minutes away)
    store, seller = emulated(count=10)
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=4)
    feed_sent_earlier(store)
    assert sync_run(store=store, stream="inventory").plan["changes"] == 0  # in sync: every listing settled
    # a burst: SKU-5..SKU-9 change a minute before SKU-0..SKU-4 (the later ones have the lower listing ids)
    Product.objects.filter(sku__in=skus(range(5, 10))).update(quantity=8)
    ListingSyncDue.objects.filter(stream="inventory").update(due_since=timezone.now() - timedelta(minutes=1))
    Product.objects.filter(sku__in=skus(range(5))).update(quantity=9)
    # when: the runs that follow (each queues the next in a second while Walmart's bucket has tokens)
    runs, ended = [], []
    for _ in range(3):
        runs.append(sync_run(store=store, stream="inventory"))
        ended.append(timezone.now())
    # then: four, four and two single calls; no feed; every value on Walmart
    assert [(run.singles_sent, run.feeds_sent, run.waiting) for run in runs] == [(4, 0, 6), (4, 0, 2), (2, 0, 0)]
    assert Feed.objects.count() == 1
    assert walmart_quantities(seller) == {**dict.fromkeys(skus(range(5)), 9), **dict.fromkeys(skus(range(5, 10)), 8)}
    assert dict(Listing.objects.values_list("product__sku", "confirmed_quantity")) == walmart_quantities(seller)
    # the changes waiting longest went first
    sent = list(ItemUpdate.objects.order_by("id").values_list("sku", "status"))
    assert sent == [(sku, "succeeded") for sku in skus([5, 6, 7, 8, 9, 0, 1, 2, 3, 4])]
    # a run that left changes waiting with tokens left asked for the next one within seconds; the last none
    assert ended[0] - timedelta(seconds=1) < runs[0].follow_up_at <= ended[0] + timedelta(seconds=1)
    assert runs[2].follow_up_at is None


@emulator_db
def test_a_burst_waits_for_a_feed_slot_under_a_minute_away_and_the_run_is_queued_for_it(emulated):
    # given: the next feed slot 40 s away (the last feed went 6 minutes ago, 400 s apart)
    store, seller = emulated(count=6)
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=2)
    earlier = feed_sent_earlier(store, ago=timedelta(minutes=6))
    Product.objects.update(quantity=3)
    # when
    result = sync_run(store=store, stream="inventory")
    # then: nothing sent singly; a run is due when the slot opens
    assert (result.singles_sent, result.feeds_sent, result.waiting) == (0, 0, 6)
    assert result.follow_up_at == earlier.submitted_at + timedelta(seconds=400)


# ------------------------------------------------------------------------------------------ early feed polls


def test_a_feed_is_polled_early_at_10_20_and_40_seconds_then_by_the_minute_run():
    at = NOW
    assert FEED_POLL_AFTER_SECONDS == (10.0, 20.0, 40.0)
    assert feed_poll_next(step=0, submitted_at=at, now=at + timedelta(seconds=10.5)) == (1, 9.5)
    assert feed_poll_next(step=1, submitted_at=at, now=at + timedelta(seconds=20.2)) == (2, pytest.approx(19.8))
    assert feed_poll_next(step=2, submitted_at=at, now=at + timedelta(seconds=40.1)) is None
    # a late poll skips the times already past
    assert feed_poll_next(step=0, submitted_at=at, now=at + timedelta(seconds=25)) == (2, 15.0)
    assert feed_poll_next(step=0, submitted_at=at, now=at + timedelta(seconds=45)) is None


@emulator_db
def test_a_just_submitted_feed_is_polled_early_and_its_results_applied_once_walmart_processed_it(emulated, settings):
    # given: Walmart processes feeds 15 s after submission; six changes over a budget of two single calls
    store, seller = emulated(count=6)
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 15
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=2)
    Product.objects.update(quantity=7)
    first = sync_run(store=store, stream="inventory")
    assert (first.singles_sent, first.feeds_sent, first.feed_items) == (0, 1, 6)
    feed = Feed.objects.get()
    # when: the first early poll comes before Walmart has processed it
    following = sync_feed_poll(feed_id=feed.pk, step=0)
    # then: read, still open, and the next early poll is due 20 s after the submission
    feed.refresh_from_db()
    assert (feed.status, feed.last_polled_at is not None) == ("RECEIVED", True)
    assert following is not None
    assert following[0] == 1
    assert 0 < following[1] <= 20
    assert set(Listing.objects.values_list("confirmed_quantity", flat=True)) == {5}
    # when: Walmart has processed it by the next early poll
    clock_advance(seconds=16)
    assert sync_feed_poll(feed_id=feed.pk, step=1) is None
    # then: the results are applied, and nothing is left to send
    feed.refresh_from_db()
    assert (feed.status, feed.items_succeeded) == ("PROCESSED", 6)
    assert set(Listing.objects.values_list("confirmed_quantity", flat=True)) == {7}
    assert set(walmart_quantities(seller).values()) == {7}
    # a poll of a feed already done reads nothing and queues nothing
    assert sync_feed_poll(feed_id=feed.pk, step=2) is None


# ------------------------------------------------------------------------------------------ feed in flight + single


def price_feed_then_newer_single_call(emulated, settings):
    """A price feed in flight (Walmart processes it 30 s after submission) sending 12.00 for SKU-0..3, then
    SKU-0 changed to 14.00 and sent singly by the next run (no feed slot)."""
    store, seller = emulated(count=4)
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 30
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=2)
    Product.objects.update(price=Decimal("12.00"))
    first = sync_run(store=store, stream="price")
    assert (first.feeds_sent, first.feed_items) == (1, 4)
    Product.objects.filter(sku="SKU-0").update(price=Decimal("14.00"))
    second = sync_run(store=store, stream="price")
    assert (second.singles_sent, second.feeds_sent) == (1, 0)
    assert walmart_prices(seller)["SKU-0"] == Decimal("14.00")
    return store, seller


@emulator_db
def test_a_feed_in_flight_and_a_newer_single_call_end_with_the_newer_value_on_walmart(emulated, settings):
    # given: a feed in flight for SKU-0..3 and a newer value of SKU-0 sent singly after it
    store, seller = price_feed_then_newer_single_call(emulated, settings)
    # and Walmart then processes the older feed, overwriting SKU-0 with its 12.00
    clock_advance(seconds=31)
    # when: the run that polls the feed
    third = sync_run(store=store, stream="price")
    # then: the feed's 12.00 is not believed for SKU-0 (a newer value was confirmed after the feed went): its
    # value became unknown and the newest value went again; the others are confirmed by the feed
    assert (third.feeds_completed, third.singles_sent) == (1, 1)
    assert walmart_prices(seller) == {
        "SKU-0": Decimal("14.00"),
        "SKU-1": Decimal("12.00"),
        "SKU-2": Decimal("12.00"),
        "SKU-3": Decimal("12.00"),
    }
    assert dict(Listing.objects.values_list("product__sku", "confirmed_price")) == walmart_prices(seller)
    sent = list(ItemUpdate.objects.order_by("id").values_list("sku", "value", "status"))
    assert sent == [("SKU-0", "14.00", "succeeded"), ("SKU-0", "14.00", "succeeded")]
    # and nothing is left to send
    fourth = sync_run(store=store, stream="price")
    assert (fourth.singles_sent, fourth.feeds_sent, fourth.plan["changes"]) == (0, 0, 0)


@emulator_db
def test_a_feed_whose_value_came_back_after_a_newer_single_call_is_not_believed_for_that_sku(emulated, settings):
    # given: a feed in flight sends 12.00 for SKU-0..3; SKU-0 then went to 14.00 by a single call, and back
    # to 12.00 in the catalog (equal to the feed's value in flight: nothing is sent meanwhile)
    store, seller = price_feed_then_newer_single_call(emulated, settings)
    Product.objects.filter(sku="SKU-0").update(price=Decimal("12.00"))
    waiting_for_the_feed = sync_run(store=store, stream="price")
    assert (waiting_for_the_feed.plan["changes"], waiting_for_the_feed.plan["in_flight"]) == (0, 4)
    # when: Walmart had processed the feed before the single call reached it (it holds the call's 14.00)...
    clock_advance(seconds=31)
    feeds_process_all_due()
    emulator.price_update(seller=seller, body={"sku": "SKU-0", "pricing": [{"currentPrice": {"amount": 14.0}}]})
    # ...and the run polls the feed
    result = sync_run(store=store, stream="price")
    # then: SKU-0's confirmed value was not taken from the feed; 12.00 went again, singly
    assert (result.feeds_completed, result.singles_sent) == (1, 1)
    assert walmart_prices(seller)["SKU-0"] == Decimal("12.00")
    assert Listing.objects.get(product__sku="SKU-0").confirmed_price == Decimal("12.00")


# ------------------------------------------------------------------------------------------ the run's lock


@pytest.mark.django_db
def test_a_run_re_arms_its_short_lock_before_each_call_so_a_killed_worker_frees_the_stream_soon(
    walmart, base_url, store, api_client
):
    # given: three quantity changes; Walmart's answer to each call reads how long the run's lock still holds
    listings_create(store, 3, quantity=7, confirmed_quantity=8)
    held_for = []
    redis, lock_key = cache._cache.get_client(write=True), cache.make_key(f"sync:lock:{store.pk}:inventory")

    def answer(request):
        held_for.append(redis.ttl(lock_key))
        return 200, {}, request.body

    walmart.add_callback(responses.PUT, f"{base_url}/v3/inventory", callback=answer, content_type="application/json")
    # when
    result = sync_run(store=store, stream="inventory", client=api_client)
    # then: each call was made with the lock re-armed to one call's length (a run killed then frees the
    # stream within that, instead of after Celery's hard time limit), and the lock is released after
    assert result.singles_sent == 3
    assert LOCK_SECONDS == claim_seconds() <= 120
    assert len(held_for) == 3
    assert all(LOCK_SECONDS - 15 <= seconds <= LOCK_SECONDS for seconds in held_for), held_for
    assert cache.get(f"sync:lock:{store.pk}:inventory") is None


# ------------------------------------------------------------------------------------------ catch-up feed


@emulator_db
def test_changes_left_waiting_go_in_one_catch_up_feed_per_window_once_the_catalog_is_quiet(emulated):
    # given: two single calls per run; the last price feed went two minutes ago (the next slot 4.7 min away)
    store, seller = emulated(count=8)
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=2)
    feed_sent_earlier(store, stream="price", ago=timedelta(minutes=2), catch_up=False)
    assert sync_run(store=store, stream="price").plan["changes"] == 0  # in sync: every listing settled
    # six prices changed, and nothing announced since (the catalog is quiet)
    Product.objects.filter(sku__in=skus(range(6))).update(price=Decimal("11.00"))
    # when
    first = sync_run(store=store, stream="price")
    # then: the six went in the window's catch-up feed (more than the single calls take)
    assert (first.singles_sent, first.feeds_sent, first.feed_items, first.waiting) == (0, 1, 6, 0)
    state = SyncState.objects.get(store=store, stream="price")
    catch_up_feed = Feed.objects.get(walmart_feed_id__isnull=False, item_count=6)
    assert abs(state.feed_catch_up_at - catch_up_feed.created_at) < timedelta(seconds=1)
    # when: more changes after it, still quiet
    clock_advance(seconds=1)  # Walmart processes the feed
    Product.objects.filter(sku__in=skus([6, 7])).update(price=Decimal("12.00"))
    Product.objects.filter(sku__in=skus(range(3))).update(price=Decimal("12.00"))
    second = sync_run(store=store, stream="price")
    # then: no second catch-up feed this hour: two single calls, the rest waits for the spaced slot
    assert (second.feeds_completed, second.singles_sent, second.feeds_sent, second.waiting) == (1, 2, 0, 3)


@emulator_db
def test_no_catch_up_feed_while_the_catalog_keeps_changing_and_a_run_is_asked_for_when_it_is_quiet(emulated):
    # given: no single calls at all; the last price feed two minutes ago (the next slot 4.7 min away)
    store, seller = emulated(count=8)
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=0)
    feed_sent_earlier(store, stream="price", ago=timedelta(minutes=2), catch_up=False)
    assert sync_run(store=store, stream="price").plan["changes"] == 0
    # when: six prices change, announced as the catalog does (the run it queues follows at once)
    Product.objects.filter(sku__in=skus(range(6))).update(price=Decimal("11.00"))
    changed = Product.objects.filter(sku__in=skus(range(6))).values_list("pk", flat=True)
    sync_nudge(product_ids=changed, streams=["price"])
    announced = timezone.now()
    # then: nothing sent: a catch-up feed only once the catalog has been quiet a minute
    summary = SyncState.objects.get(store=store, stream="price").last_run_summary
    assert (summary["singles_sent"], summary["feeds_sent"], summary["waiting"]) == (0, 0, 6)
    assert SyncState.objects.get(store=store, stream="price").feed_catch_up_at is None
    # and a run then asks for the next one for when that minute is over
    again = sync_run(store=store, stream="price")
    assert (again.feeds_sent, again.waiting) == (0, 6)
    assert announced <= again.follow_up_at <= announced + timedelta(seconds=60)
    assert again.follow_up_at > timezone.now()
