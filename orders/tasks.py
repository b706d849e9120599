"""Celery tasks of the orders app: thin interfaces that take ids and call a service.

Pushes and reads retry only what can clear by itself (rate limit, 5xx, a connection failure) with
exponential backoff, jitter and a cap; the services record every attempt on the row.
"""

from celery import shared_task

from channel_manager.push_tasks import PUSH_MAX_RETRIES as PUSH_MAX_RETRIES  # re-exported for callers
from channel_manager.push_tasks import PUSH_TASK_OPTIONS, RETRYABLE, is_final_attempt


@shared_task(**PUSH_TASK_OPTIONS)
def shipment_push_task(self, shipment_pk: int) -> None:
    from orders.services import shipment_push

    shipment_push(shipment_id=shipment_pk, final_attempt=is_final_attempt(self))


@shared_task(**PUSH_TASK_OPTIONS)
def cancellation_push_task(self, cancellation_pk: int) -> None:
    from orders.services import cancellation_push

    cancellation_push(cancellation_id=cancellation_pk, final_attempt=is_final_attempt(self))


@shared_task(
    bind=True, autoretry_for=RETRYABLE, retry_backoff=15, retry_backoff_max=300, retry_jitter=True, max_retries=10
)
def order_acknowledge_task(self, order_pk: int) -> None:
    from orders.services import order_acknowledge

    order_acknowledge(order_id=order_pk)


@shared_task(
    bind=True, autoretry_for=RETRYABLE, retry_backoff=5, retry_backoff_max=120, retry_jitter=True, max_retries=8
)
def webhook_event_process_task(self, webhook_event_pk: int) -> None:
    from orders.services import webhook_event_process

    webhook_event_process(event_id=webhook_event_pk)


POLL_LOCK_SECONDS = 1800


@shared_task(acks_late=True)
def order_poll_task(store_pk: int) -> None:
    """One poll per store at a time (a slow poll is not overlapped by the next tick's)."""
    from channel_manager.locks import cache_lock
    from channel_manager.models import Store
    from orders.services import order_poll

    with cache_lock(f"orders:poll:{store_pk}", POLL_LOCK_SECONDS) as held:
        if held:
            order_poll(store=Store.objects.get(pk=store_pk))


@shared_task
def orders_poll_due_task() -> int:
    """Every minute: start the poll of each store whose own interval has elapsed."""
    from orders.services import stores_poll_due

    store_ids = stores_poll_due()
    for store_pk in store_ids:
        order_poll_task.delay(store_pk)
    return len(store_ids)


@shared_task
def order_operations_due_task() -> int:
    """Every minute: re-enqueue pushes and acknowledgements whose task was lost."""
    from orders.services import operations_due_enqueue

    return operations_due_enqueue()
