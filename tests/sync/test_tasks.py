"""Beat ticks and schedules: which stores get a run, and the jobs declared for beat."""

import pytest

from channel_manager.models import Feed
from channel_manager.schedules import schedules_declared
from sync.tasks import inventory_sync_tick_task, price_sync_tick_task, sync_reconcile_tick_task
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_the_inventory_tick_queues_a_run_per_enabled_store(django_capture_on_commit_callbacks):
    # given: one store on, one off, one off but with an inventory feed still open (the sweep's, not the tick's)
    StoreFactory(name="on")
    StoreFactory(name="off", inventory_enabled=False)
    polling = StoreFactory(name="off with feed", inventory_enabled=False)
    Feed.objects.create(store=polling, feed_type="inventory", walmart_feed_id="F-1", status="INPROGRESS")
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        queued = inventory_sync_tick_task()
    # then
    assert queued == 1
    assert len(callbacks) == 1


def test_a_second_tick_within_the_debounce_queues_nothing(django_capture_on_commit_callbacks):
    StoreFactory(name="on")
    with django_capture_on_commit_callbacks():
        assert inventory_sync_tick_task() == 1
    with django_capture_on_commit_callbacks() as callbacks:
        assert inventory_sync_tick_task() == 0
    assert callbacks == []


def test_the_price_tick_follows_the_price_switch(django_capture_on_commit_callbacks):
    StoreFactory(name="on")
    StoreFactory(name="price off", price_enabled=False)
    with django_capture_on_commit_callbacks():
        assert price_sync_tick_task() == 1


def test_the_hourly_reconciliation_covers_each_enabled_stream(django_capture_on_commit_callbacks):
    StoreFactory(name="both")
    StoreFactory(name="inventory only", price_enabled=False)
    with django_capture_on_commit_callbacks() as callbacks:
        assert sync_reconcile_tick_task() == 3
    assert len(callbacks) == 3


def test_the_planner_jobs_are_declared_for_beat():
    jobs = {job.task: job.every_seconds for job in schedules_declared()}
    assert jobs["sync.tasks.inventory_sync_tick_task"] == 60
    assert jobs["sync.tasks.price_sync_tick_task"] == 60
    assert jobs["sync.tasks.sync_reconcile_tick_task"] == 3600
