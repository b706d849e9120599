"""Crash points of the sync's sends, end to end against the Walmart emulator (CONTRACTS section 3).

For a single-item update and for a feed upload, the process dies at each step: right after the in-flight
write (before the HTTP call), right after Walmart's 200 (before anything is recorded), and during the write
after the call (a database error). Then the deadline passes, the sweep runs (as beat runs it every minute)
and the work is finished by reading Walmart back first: a value Walmart already holds is never sent again.
Every request reaching the emulator is recorded, so "applied once" is counted, not assumed; and Walmart's
final value equals the desired one.
"""

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import responses
from django.db import OperationalError
from django.utils import timezone

from channel_manager.models import Feed
from listings.models import Listing, Product
from sync import services
from sync.models import ItemUpdate, StoreSyncSettings
from sync.services import SEND_DEADLINE, sync_run, sync_sweep
from sync.tasks import sync_run_task
from tests.orders.conftest import run_task_like_a_worker
from walmart_client.resources.feeds import Feeds
from walmart_emulator.models import Offer

pytestmark = pytest.mark.django_db(transaction=True)

CRASH_POINTS = ["after_in_flight_write", "after_walmarts_200", "during_post_call_write"]


class Crash(BaseException):
    """The process dies here: like a SIGKILL, no handler of the code under test runs (finally blocks do)."""


@pytest.fixture
def recorded(live_server):
    """Every request to the emulator goes through, and is recorded."""
    pattern = re.compile(re.escape(live_server.url) + ".*")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in (responses.GET, responses.PUT, responses.POST):
            mock.add(responses.PassthroughResponse(method, pattern))
        yield mock


def writes(recorded, method, path):
    return [c for c in recorded.calls if c.request.method == method and urlparse(c.request.url).path.endswith(path)]


def time_passes_beyond_the_deadline():
    """Move every in-flight mark back past the deadline (instead of sleeping two minutes)."""
    earlier = timezone.now() - SEND_DEADLINE - timedelta(seconds=1)
    ItemUpdate.objects.update(created_at=earlier, in_flight_since=earlier)
    Feed.objects.filter(walmart_feed_id__isnull=True).update(created_at=earlier)


def single_crash_injected(monkeypatch, point):
    if point == "after_in_flight_write":
        real = services._item_update_start

        def start_then_die(**kwargs):
            real(**kwargs)
            raise Crash

        monkeypatch.setattr(services, "_item_update_start", start_then_die)
    elif point == "after_walmarts_200":
        real = services._single_call

        def call_then_die(**kwargs):
            real(**kwargs)
            raise Crash

        monkeypatch.setattr(services, "_single_call", call_then_die)
    else:

        def database_gone(**kwargs):
            raise OperationalError("terminating connection due to administrator command")

        monkeypatch.setattr(services, "_listing_confirm", database_gone)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_single_quantity_update_interrupted_at_each_step_is_finished_once(emulated, recorded, monkeypatch, point):
    # given: SKU-0 in sync at 5 on Walmart; the catalog drops it to 0 (an urgent single update)
    store, seller = emulated(count=1)
    Product.objects.filter(sku="SKU-0").update(quantity=0)
    single_crash_injected(monkeypatch, point)
    # when: the run dies at the crash point
    with pytest.raises((Crash, OperationalError)):
        sync_run(store=store, stream="inventory")
    monkeypatch.undo()
    # then: the ledger row is left in flight, and nothing more is sent before it is resolved
    row = ItemUpdate.objects.get()
    assert (row.status, row.value) == (ItemUpdate.Status.IN_FLIGHT, "0")
    assert row.attempt_id is not None
    sync_run(store=store, stream="inventory")
    assert len(writes(recorded, "PUT", "/v3/inventory")) == (0 if point == "after_in_flight_write" else 1)
    # when: the deadline passes and the sweep runs
    time_passes_beyond_the_deadline()
    assert sync_sweep(timezone.now()) == 1
    # then: Walmart was read back first; the value was applied exactly once, and is the desired one
    assert len(writes(recorded, "PUT", "/v3/inventory")) == 1
    assert Offer.objects.get(seller=seller, sku="SKU-0").quantity == 0
    assert Listing.objects.get(store=store).confirmed_quantity == 0
    rows = list(ItemUpdate.objects.order_by("id").values_list("status", "error"))
    if point == "after_in_flight_write":
        assert rows[0] == (ItemUpdate.Status.FAILED, "Answer lost; not applied: Walmart holds 5 (read back).")
        assert rows[1] == (ItemUpdate.Status.SUCCEEDED, "")
    else:
        assert rows == [(ItemUpdate.Status.SUCCEEDED, "Answer lost; Walmart holds the value (read back).")]
    # and nothing is left to resolve
    assert sync_sweep(timezone.now()) == 0


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_single_price_update_interrupted_at_each_step_is_finished_once(emulated, recorded, monkeypatch, point):
    store, seller = emulated(count=1)
    Product.objects.filter(sku="SKU-0").update(price="12.50")
    single_crash_injected(monkeypatch, point)
    with pytest.raises((Crash, OperationalError)):
        sync_run(store=store, stream="price")
    monkeypatch.undo()
    time_passes_beyond_the_deadline()
    assert sync_sweep(timezone.now()) == 1
    assert len(writes(recorded, "PUT", "/v3/price")) == 1
    assert str(Offer.objects.get(seller=seller, sku="SKU-0").price) == "12.50"
    assert str(Listing.objects.get(store=store).confirmed_price) == "12.50"
    assert ItemUpdate.objects.order_by("-id").values_list("status", flat=True).first() == ItemUpdate.Status.SUCCEEDED
    assert not ItemUpdate.objects.filter(status__in=ItemUpdate.OPEN_STATUSES).exists()


def feed_crash_injected(monkeypatch, point):
    real = Feeds.submit
    if point == "after_in_flight_write":

        def die_before_upload(self, **kwargs):
            raise Crash

        monkeypatch.setattr(Feeds, "submit", die_before_upload)
    elif point == "after_walmarts_200":

        def upload_then_die(self, **kwargs):
            real(self, **kwargs)
            raise Crash

        monkeypatch.setattr(Feeds, "submit", upload_then_die)
    else:

        def database_gone(**kwargs):
            raise OperationalError("terminating connection due to administrator command")

        monkeypatch.setattr(services, "_feed_acknowledged", database_gone)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_feed_upload_interrupted_at_each_step_is_finished_once(emulated, recorded, monkeypatch, point):
    # given: three quantities to send, by feed only (no single-call budget)
    store, seller = emulated(count=3)
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=0)
    Product.objects.update(quantity=9)
    feed_crash_injected(monkeypatch, point)
    # when: the run dies at the crash point
    with pytest.raises((Crash, OperationalError)):
        sync_run(store=store, stream="inventory")
    monkeypatch.undo()
    # then: the feed row is left PENDING without Walmart's id; its items are not uploaded again meanwhile
    feed = Feed.objects.get()
    assert (feed.status, feed.walmart_feed_id, feed.item_count) == ("PENDING", None, 3)
    sync_run(store=store, stream="inventory")
    uploaded = 0 if point == "after_in_flight_write" else 1
    assert len(writes(recorded, "POST", "/v3/feeds")) == uploaded
    # when: the deadline passes, the sweep runs, and the next runs poll
    time_passes_beyond_the_deadline()
    assert sync_sweep(timezone.now()) == 1
    sync_run(store=store, stream="inventory")
    # then: the three quantities were uploaded in exactly one feed Walmart took, and hold the desired value
    assert len(writes(recorded, "POST", "/v3/feeds")) == 1
    assert sorted(Offer.objects.filter(seller=seller).values_list("quantity", flat=True)) == [9, 9, 9]
    assert sorted(Listing.objects.filter(store=store).values_list("confirmed_quantity", flat=True)) == [9, 9, 9]
    statuses = list(Feed.objects.order_by("id").values_list("status", "error"))
    if point == "after_in_flight_write":
        assert statuses == [
            ("ERROR", "Not on Walmart's feed list: never received; its items are planned again."),
            ("PROCESSED", ""),
        ]
    else:
        assert statuses == [("PROCESSED", "")]
    assert sync_sweep(timezone.now()) == 0


def test_a_run_that_lost_its_database_after_walmarts_200_runs_again_by_itself(emulated, recorded, monkeypatch):
    # given: SKU-0 to drop to 0 (an urgent single update), and the write after Walmart's 200 fails once
    store, seller = emulated(count=1)
    Product.objects.filter(sku="SKU-0").update(quantity=0)
    real = services._listing_confirm
    failures = []

    def database_gone_once(**kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("terminating connection due to administrator command")
        real(**kwargs)

    monkeypatch.setattr(services, "_listing_confirm", database_gone_once)
    # when: the run's task meets the outage (no beat: the task retries itself)
    runs = run_task_like_a_worker(sync_run_task, store.pk, "inventory")
    # then: it ran again at once, and sent nothing more while the call is in flight
    assert (failures, runs) == ([1], 2)
    assert len(writes(recorded, "PUT", "/v3/inventory")) == 1
    assert ItemUpdate.objects.get().status == ItemUpdate.Status.IN_FLIGHT
    # when: the deadline passes and a run (the sweep's) reads it back
    time_passes_beyond_the_deadline()
    run_task_like_a_worker(sync_run_task, store.pk, "inventory")
    # then: applied once, confirmed at Walmart's value
    assert len(writes(recorded, "PUT", "/v3/inventory")) == 1
    assert ItemUpdate.objects.get().status == ItemUpdate.Status.SUCCEEDED
    assert Offer.objects.get(seller=seller, sku="SKU-0").quantity == 0
    assert Listing.objects.get(store=store).confirmed_quantity == 0
