"""Celery tasks of the inventory and price sync: thin, ids in, a service does the work."""

from __future__ import annotations

from celery import shared_task

from sync.models import SyncStream


@shared_task(bind=True, acks_late=True, ignore_result=True)
def sync_run_task(self, store_id: int, stream: str, outages: int = 0) -> dict | None:
    """One planner run (`sync.services.sync_run`) of `stream` for the store. Not retried for Walmart's
    answers (the next minute's tick is the retry, paced inside Walmart's limits); a database or Redis
    failure runs it again within seconds (`retried_after_outage`): a call it left in flight is read back."""
    from channel_manager.models import Store
    from channel_manager.push_tasks import retried_after_outage
    from sync.services import sync_run

    with retried_after_outage(self):
        store = Store.objects.filter(pk=store_id).first()
        if store is None:
            return None
        return sync_run(store=store, stream=stream).summary()


@shared_task(bind=True, acks_late=True, ignore_result=True)
def sync_feed_poll_task(self, feed_id: int, step: int = 0, outages: int = 0) -> None:
    """Early poll number `step` of a just-submitted feed (`sync.services.sync_feed_poll`); queues the next one
    until the feed is done or the minute's run takes over (at most `FEED_POLL_AFTER_SECONDS` polls). A
    database or Redis failure polls again within seconds."""
    from channel_manager.push_tasks import retried_after_outage
    from channel_manager.work import enqueue
    from sync.services import sync_feed_poll

    with retried_after_outage(self):
        following = sync_feed_poll(feed_id=feed_id, step=step)
    if following is not None:
        next_step, countdown = following
        enqueue(sync_feed_poll_task, feed_id, next_step, countdown=countdown)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def sync_reconcile_task(self, store_id: int, stream: str, outages: int = 0) -> dict | None:
    """Read Walmart's values back and flag drift (`sync.services.sync_reconcile`). Safe to re-run; a
    database or Redis failure runs it again within seconds."""
    from channel_manager.push_tasks import retried_after_outage

    with retried_after_outage(self):
        return _reconcile(store_id=store_id, stream=stream)


def _reconcile(*, store_id: int, stream: str) -> dict | None:
    from channel_manager.models import Store
    from channel_manager.work import enqueue
    from sync.services import sync_reconcile
    from walmart_client.errors import WalmartError

    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return None
    try:
        result = sync_reconcile(store=store, stream=stream)
    except WalmartError as error:
        from sync.models import SyncState

        SyncState.objects.update_or_create(
            store=store, stream=stream, defaults={"last_error": f"Reconciliation failed: {error}"[:2000]}
        )
        return {"error": str(error)}
    if result.status == "continues":
        # the pass goes on after Walmart's wait (or at once after a slice): no worker waits for Walmart
        enqueue(sync_reconcile_task, store_id, stream, countdown=result.resume_after)
    return result.summary()


@shared_task(ignore_result=True)
def inventory_sync_tick_task() -> int:
    """Every minute: a run of the inventory stream for every store that has it on (or feeds to poll)."""
    from sync.services import sync_tick

    return sync_tick(stream=SyncStream.INVENTORY)


@shared_task(ignore_result=True)
def price_sync_tick_task() -> int:
    """Every minute: a run of the price stream for every store that has it on (or feeds to poll)."""
    from sync.services import sync_tick

    return sync_tick(stream=SyncStream.PRICE)


@shared_task(ignore_result=True)
def sync_reconcile_tick_task() -> int:
    """Every hour: reconciliation of each enabled stream of every store."""
    from sync.services import sync_reconcile_tick

    return sync_reconcile_tick()
