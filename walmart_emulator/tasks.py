"""Celery tasks of the emulator: thin, ids in, services do the work."""

from celery import shared_task


@shared_task
def feed_process_task(feed_pk: int) -> None:
    """Process a feed if it is due (a feed read later does it too, so a lost task loses nothing)."""
    from walmart_emulator.feeds import feed_process
    from walmart_emulator.models import Feed

    if Feed.objects.filter(pk=feed_pk).exists():
        feed_process(feed_pk=feed_pk)


@shared_task
def report_process_task(report_pk: int) -> None:
    """Make a report if it is due (a status read later does it too, so a lost task loses nothing)."""
    from walmart_emulator.models import ReportRequest
    from walmart_emulator.reports import report_process

    if ReportRequest.objects.filter(pk=report_pk).exists():
        report_process(report_pk=report_pk)


@shared_task
def webhook_delivery_send_task(delivery_pk: int) -> None:
    """One delivery attempt; the service schedules the next one while attempts remain."""
    from walmart_emulator.webhooks import webhook_delivery_attempt

    webhook_delivery_attempt(delivery_pk=delivery_pk)


@shared_task
def emulator_sweep_task() -> None:
    """Time-driven changes: due feeds, deliveries, auto-cancels, auto-refunds. Safe to re-run."""
    from walmart_emulator.services import emulator_sweep

    emulator_sweep()


@shared_task
def emulator_order_trickle_task() -> None:
    """The demo's gentle trickle: one customer order per seller flagged simulate_orders."""
    from walmart_emulator.services import order_trickle

    order_trickle()
