"""Celery tasks of the emulator: thin, ids in, services do the work."""

from celery import shared_task


@shared_task
def feed_process_task(feed_pk: int) -> None:
    """Process a feed if it is due (a feed read later does it too, so a lost task loses nothing)."""
    from walmart_emulator.feeds import feed_process
    from walmart_emulator.models import Feed

    if Feed.objects.filter(pk=feed_pk).exists():
        feed_process(feed_pk=feed_pk)
