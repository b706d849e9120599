"""Celery tasks of the orders app: thin interfaces that take ids and call a service.

Pushes and reads retry only what can clear by itself (rate limit, 5xx, a connection failure) with
exponential backoff, jitter and a cap; a rate limit reschedules the task for when Walmart's budget refills
(never a sleep in the worker); the services record every attempt on the row. What a lost task leaves
undone is found by the sweeps the app registers (OrdersConfig.ready).
"""

from celery import shared_task

from channel_manager.push_tasks import PUSH_MAX_RETRIES as PUSH_MAX_RETRIES  # re-exported for callers
from channel_manager.push_tasks import (
    PUSH_TASK_OPTIONS,
    RETRYABLE,
    is_final_attempt,
    rescheduled_when_rate_limited,
)


@shared_task(**PUSH_TASK_OPTIONS)
def shipment_push_task(self, shipment_pk: int) -> None:
    from orders.services import shipment_push

    with rescheduled_when_rate_limited(self):
        shipment_push(shipment_id=shipment_pk, final_attempt=is_final_attempt(self))


@shared_task(**PUSH_TASK_OPTIONS)
def cancellation_push_task(self, cancellation_pk: int) -> None:
    from orders.services import cancellation_push

    with rescheduled_when_rate_limited(self):
        cancellation_push(cancellation_id=cancellation_pk, final_attempt=is_final_attempt(self))


@shared_task(
    bind=True,
    autoretry_for=RETRYABLE,
    retry_backoff=15,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
    acks_late=True,
)
def order_acknowledge_task(self, order_pk: int) -> None:
    from orders.services import order_acknowledge

    with rescheduled_when_rate_limited(self):
        order_acknowledge(order_id=order_pk)


@shared_task(
    bind=True,
    autoretry_for=RETRYABLE,
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def webhook_event_process_task(self, webhook_event_pk: int) -> None:
    from orders.services import webhook_event_process

    with rescheduled_when_rate_limited(self):
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
    from channel_manager.work import enqueue
    from orders.services import stores_poll_due

    return sum(enqueue(order_poll_task, store_pk) for store_pk in stores_poll_due())
