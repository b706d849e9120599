"""Durable sync work outside the crash points: saved work never reported as an error while Redis is down, the
sweep registered with the core, ledger rows in flight held back from the planner."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from channel_manager.celery import app as celery_app
from channel_manager.models import Feed
from channel_manager.work import sweeps_registered
from inventory.services import stock_set
from listings.models import Product
from sync.models import ItemUpdate
from sync.services import SEND_DEADLINE, sync_plan, sync_sweep
from sync.tasks import sync_run_task
from tests.factories import StoreFactory
from tests.inventory.factories import listings_create

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused


@pytest.fixture
def redis_down(settings):
    """The cache and the Celery broker both point at a Redis that refuses connections; tasks are sent for
    real (not run eagerly)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    saved = {
        name: celery_app.conf[name]
        for name in ("task_always_eager", "broker_url", "broker_connection_retry", "broker_connection_max_retries")
    }
    saved["task_publish_retry"] = celery_app.conf.task_publish_retry
    celery_app.conf.update(
        task_always_eager=False,
        broker_url=DEAD_REDIS,
        broker_connection_retry=False,
        broker_connection_max_retries=0,
        task_publish_retry=False,
    )
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.update(saved)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_stock_set_commits_and_does_not_raise_when_redis_is_down(store, redis_down, caplog):
    # given: a matched listing; Redis (cache and broker) down
    (listing,) = listings_create(store, 1, quantity=5, confirmed_quantity=5)
    product = Product.objects.get(pk=listing.product_id)
    # when: an operator sets a new stock count (its sync nudge is enqueued after the commit)
    with caplog.at_level(logging.WARNING):
        result = stock_set(product=product, quantity=2, reason="manual", actor="alice")
    # then: no error reaches the caller, the change is saved, the failed enqueue is logged for the sweeper
    assert result == 2
    assert Product.objects.get(pk=product.pk).quantity == 2
    assert "sync.tasks.sync_run_task" in caplog.text


def test_the_sync_sweep_is_registered_with_the_core():
    assert "sync.sends" in {sweep.kind for sweep in sweeps_registered()}


@pytest.mark.django_db
def test_the_sweep_queues_a_run_for_overdue_sends_and_unpolled_feeds_only(store, monkeypatch):
    # given: a ledger row in flight past the deadline, another one still within it, an open price feed not
    # polled for 10 minutes, and an inventory feed polled just now
    other = StoreFactory(name="other")
    late = timezone.now() - SEND_DEADLINE - timedelta(seconds=5)
    ItemUpdate.objects.create(store=store, stream="inventory", sku="A", value="1", status="in_flight")
    ItemUpdate.objects.filter(sku="A").update(created_at=late, in_flight_since=late)
    ItemUpdate.objects.create(store=other, stream="inventory", sku="B", value="1", status="in_flight")
    Feed.objects.create(store=other, feed_type="price", walmart_feed_id="F-1", status="RECEIVED")
    Feed.objects.filter(walmart_feed_id="F-1").update(last_polled_at=timezone.now() - timedelta(minutes=10))
    Feed.objects.create(
        store=store, feed_type="inventory", walmart_feed_id="F-2", status="INPROGRESS", last_polled_at=timezone.now()
    )
    sent = []
    monkeypatch.setattr(sync_run_task, "apply_async", lambda args=(), **options: sent.append(tuple(args)))
    # when
    queued = sync_sweep(timezone.now())
    # then
    assert queued == 2
    assert sorted(sent) == sorted([(store.pk, "inventory"), (other.pk, "price")])


@pytest.mark.django_db
def test_a_value_whose_single_call_is_in_flight_is_not_planned_again(store):
    # given: listing 0's 3 was sent by a call whose answer is not recorded; listing 1 also changed
    listings_create(store, 2, quantity=3, confirmed_quantity=4)
    ItemUpdate.objects.create(store=store, stream="inventory", sku="SKU-000000", value="3", status="in_flight")
    # when
    planned = sync_plan(store=store, stream="inventory")
    # then: only listing 1 is sent; listing 0 waits for the read-back
    assert [change.sku for change in planned.plan.singles] == ["SKU-000001"]
    assert planned.plan.in_flight_count == 1
