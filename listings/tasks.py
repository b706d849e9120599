"""Celery tasks of the listings app: thin interfaces that take ids and call a service."""

from celery import shared_task

from channel_manager.walmart import RETRYABLE

SUBMIT_MAX_RETRIES = 6


@shared_task(acks_late=True, soft_time_limit=3000, time_limit=3300)
def catalog_import_task(job_pk: int) -> None:
    """Run a catalog import. Safe to re-run (upserts by SKU); a job already finished is left alone.
    Its time limit (55 min) stays under the broker's visibility timeout (60 min), so a running import is
    never handed to a second worker; a worker lost mid-import makes the broker redeliver it and the
    import starts again from the top (rows already imported come back as unchanged)."""
    from listings.catalog_import import catalog_import_run
    from listings.models import ImportJob

    job = ImportJob.objects.get(pk=job_pk)
    if job.is_finished:
        return
    catalog_import_run(job=job)


@shared_task(bind=True, acks_late=True, max_retries=SUBMIT_MAX_RETRIES)
def match_feed_submit_task(self, feed_pk: int) -> None:
    """Send one PENDING item-match feed. Retries 429 / 5xx / connection failures with exponential backoff
    (30 s, 60 s, ... capped at 6 retries); after the last one the feed and its listings go to Error."""
    from channel_manager.models import Feed
    from listings.services import match_feed_fail, match_feed_submit

    feed = Feed.objects.get(pk=feed_pk)
    try:
        match_feed_submit(feed=feed)
    except RETRYABLE as error:
        if self.request.retries >= self.max_retries:
            match_feed_fail(
                feed=feed,
                message=f"Could not send for matching (Walmart unreachable or busy: {error}). Re-match to try again.",
            )
            return
        countdown = getattr(error, "retry_after", None) or 30 * (2**self.request.retries)
        raise self.retry(exc=error, countdown=min(countdown, 1800)) from error


@shared_task(acks_late=True)
def match_feeds_poll_task() -> None:
    """Every minute: poll each open item-match feed, and send again PENDING feeds nobody sent (a worker
    that died between commit and submit). One feed failing does not stop the others."""
    from channel_manager.models import Feed
    from listings.services import match_feed_poll, match_feeds_poll_all

    to_poll, to_resend = match_feeds_poll_all()
    for feed_pk in to_resend:
        match_feed_submit_task.delay(feed_pk)
    for feed_pk in to_poll:
        try:
            match_feed_poll(feed=Feed.objects.get(pk=feed_pk))
        except RETRYABLE:
            continue  # the next tick polls it again


@shared_task(acks_late=True)
def listings_reconcile_task() -> None:
    """Hourly: read every matched store's items back from Walmart (one task per store)."""
    from listings.services import stores_to_reconcile

    for store_pk in stores_to_reconcile():
        store_listings_reconcile_task.delay(store_pk)


@shared_task(
    acks_late=True, autoretry_for=RETRYABLE, retry_backoff=60, retry_jitter=True, max_retries=5, retry_backoff_max=900
)
def store_listings_reconcile_task(
    store_pk: int, cursor: str = "*", started_at: str | None = None, updated: int = 0, items: int = 0
) -> None:
    """Read one store's items back; when Walmart's rate limit stops the paging, go on from the same cursor after
    Walmart's wait (a new task with a countdown: the worker never sleeps)."""
    from datetime import datetime

    from channel_manager.models import Store
    from listings.services import store_listings_reconcile

    progress = store_listings_reconcile(
        store=Store.objects.get(pk=store_pk),
        cursor=cursor,
        started_at=datetime.fromisoformat(started_at) if started_at else None,
        updated=updated,
        items=items,
    )
    if progress.complete:
        return
    store_listings_reconcile_task.apply_async(
        args=(store_pk, progress.resume_cursor, progress.started_at.isoformat(), progress.updated, progress.items),
        countdown=progress.wait_seconds,
    )


@shared_task(
    acks_late=True, autoretry_for=RETRYABLE, retry_backoff=30, retry_jitter=True, max_retries=5, retry_backoff_max=900
)
def listings_reread_task(listing_pks: list[int]) -> None:
    from listings.models import Listing
    from listings.services import listings_reread

    listings_reread(listings=Listing.objects.filter(pk__in=listing_pks))


@shared_task(
    acks_late=True, autoretry_for=RETRYABLE, retry_backoff=30, retry_jitter=True, max_retries=5, retry_backoff_max=900
)
def listings_retire_task(listing_pks: list[int]) -> None:
    """Retire listings; on a retry the ones already retired (now Draft, lifecycle RETIRED) are retired again,
    which Walmart accepts."""
    from listings.models import Listing
    from listings.services import listings_retire

    listings_retire(listings=Listing.objects.filter(pk__in=listing_pks))
