"""Celery tasks of onboarding (queue `reads`): thin interfaces that take ids and call a service."""

from celery import shared_task

from channel_manager.walmart import RETRYABLE

IMPORT_MAX_RETRIES = 8


@shared_task(bind=True, acks_late=True, max_retries=IMPORT_MAX_RETRIES, soft_time_limit=3000, time_limit=3300)
def walmart_import_task(self, walmart_import_pk: int) -> None:
    """Advance one import. While Walmart makes the report it is run again later (a countdown, never a sleep);
    429 / 5xx / connection failures are retried with backoff, then the import fails with Walmart's error."""
    from channel_manager.walmart import error_text
    from onboarding.models import WalmartImport
    from onboarding.services import ImportWaiting, walmart_import_fail, walmart_import_run

    walmart_import = WalmartImport.objects.get(pk=walmart_import_pk)
    try:
        walmart_import_run(walmart_import=walmart_import)
    except ImportWaiting as waiting:
        self.apply_async(args=[walmart_import_pk], countdown=waiting.countdown)
    except RETRYABLE as error:
        if self.request.retries >= self.max_retries:
            walmart_import_fail(walmart_import=walmart_import, message=f"Walmart unreachable: {error_text(error)}")
            return
        countdown = getattr(error, "retry_after", None) or 30 * (2**self.request.retries)
        raise self.retry(exc=error, countdown=min(countdown, 1800)) from error


@shared_task(acks_late=True, autoretry_for=RETRYABLE, retry_backoff=30, retry_jitter=True, max_retries=8)
def orders_relink_task(order_pk: int) -> None:
    """Re-process one order after a SKU of it was linked: read it again from Walmart and store it (its lines
    now resolve to the listing; stock is reserved once)."""
    from onboarding.services import order_relink

    order_relink(order_pk=order_pk)


@shared_task(acks_late=True)
def store_connected_task(store_pk: int) -> None:
    """A store connected: read whether it is live; start its first import on its first connection."""
    from onboarding.services import store_connected_handle

    store_connected_handle(store_id=store_pk)
