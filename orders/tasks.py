"""Celery tasks of the orders app: thin interfaces that take ids and call a service.

Pushes and reads retry only what can clear by itself (rate limit, 5xx, a connection failure) with
exponential backoff, jitter and a cap; a rate limit reschedules the task for when Walmart's budget refills
(never a sleep in the worker); the services record every attempt on the row. A database or Redis failure
retries the task within seconds (`retried_after_outage`; a push first releases its claim). What a lost
task leaves undone is found by the sweeps the app registers (OrdersConfig.ready).
"""

import logging
import time
from typing import Any

from celery import shared_task

from channel_manager.push_tasks import PUSH_MAX_RETRIES as PUSH_MAX_RETRIES  # re-exported for callers
from channel_manager.push_tasks import (
    PUSH_TASK_OPTIONS,
    RETRYABLE,
    attempt_id_of,
    is_final_attempt,
    rescheduled_when_rate_limited,
    retried_after_outage,
)

logger = logging.getLogger(__name__)


@shared_task(**PUSH_TASK_OPTIONS)
def shipment_push_task(self, shipment_pk: int, outages: int = 0) -> None:
    from orders.models import Shipment
    from orders.services import shipment_push

    attempt_id = attempt_id_of(self)
    release = (lambda: Shipment.push_claim_release(shipment_pk, attempt_id=attempt_id)) if attempt_id else None
    with retried_after_outage(self, release=release), rescheduled_when_rate_limited(self):
        shipment_push(shipment_id=shipment_pk, final_attempt=is_final_attempt(self), attempt_id=attempt_id)


@shared_task(**PUSH_TASK_OPTIONS)
def cancellation_push_task(self, cancellation_pk: int, outages: int = 0) -> None:
    from orders.models import Cancellation
    from orders.services import cancellation_push

    attempt_id = attempt_id_of(self)
    release = (lambda: Cancellation.push_claim_release(cancellation_pk, attempt_id=attempt_id)) if attempt_id else None
    with retried_after_outage(self, release=release), rescheduled_when_rate_limited(self):
        cancellation_push(cancellation_id=cancellation_pk, final_attempt=is_final_attempt(self), attempt_id=attempt_id)


@shared_task(
    bind=True,
    autoretry_for=RETRYABLE,
    retry_backoff=15,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
    acks_late=True,
)
def order_acknowledge_task(self, order_pk: int, outages: int = 0) -> None:
    from orders.services import order_acknowledge

    with retried_after_outage(self), rescheduled_when_rate_limited(self):
        order_acknowledge(order_id=order_pk)


ACKNOWLEDGE_MAX_ATTEMPTS = 10
ACKNOWLEDGE_IDLE_WAITS = 10  # a store's waiting task that woke this often in a row without a token stops
OUTAGE_ACKNOWLEDGE_COUNTDOWN = 10.0
ACKNOWLEDGE_SLICE_SECONDS = 1.0  # then the rest go to the back of the queue: a burst's intake is not held up


@shared_task(acks_late=True)
def orders_acknowledge_task(
    order_pks: list[int], attempt: int = 1, store_id: int | None = None, idle_waits: int = 0
) -> None:
    """Acknowledge new orders one after the other: intake queues one task per chunk of orders, not one per
    order (queueing ten thousand messages cost a backlog's intake more than storing its orders). Each order is
    its own unit of work (`order_acknowledge` claims its row; one that is done or claimed is skipped).

    Paced by Walmart's bucket: before each order, the bucket Walmart reported last (`acknowledge_wait_seconds`);
    when it is empty, or Walmart answers 429 all the same, the orders left are handed to the store's one
    waiting task (`acknowledgements_defer`), which runs at the refill, never slept here and never written on
    the orders' timelines; with `store_id` this is that task, and takes every order handed to it first. After
    another retryable failure, the orders left go again after a backoff, up to ACKNOWLEDGE_MAX_ATTEMPTS; an
    order Walmart refuses (4xx) is recorded on its timeline and the next one goes on. What is left after the
    last attempt is re-driven by the orders' sweep. A database or Redis failure hands the orders left (this one
    included: its claim was released) to a new task in OUTAGE_ACKNOWLEDGE_COUNTDOWN seconds, the attempt not
    counted. After ACKNOWLEDGE_SLICE_SECONDS of acknowledging (Walmart's first tokens of a burst: 60 orders, each
    a request and a write) the orders left go to a new task at the back of the queue, so the webhook batches and
    polls queued meanwhile on the same workers run first (the orders are already visible; only their
    acknowledgement waits, a second at most)."""
    from channel_manager.push_tasks import OUTAGE_ERRORS, connections_reset
    from channel_manager.work import enqueue
    from orders.services import order_acknowledge
    from orders.services.acknowledge import (
        acknowledge_wait_seconds,
        acknowledgement_stores,
        acknowledgements_defer,
        acknowledgements_waiting_take,
    )
    from walmart_client.errors import WalmartRateLimited

    if store_id is not None:
        order_pks = sorted({*order_pks, *acknowledgements_waiting_take(store_id=store_id)})
    stores = acknowledgement_stores(order_pks=order_pks)
    order_pks = [pk for pk in order_pks if pk in stores]
    started = time.monotonic()
    for index, order_pk in enumerate(order_pks):
        store = stores[order_pk]
        wait = acknowledge_wait_seconds(store=store)
        if not wait and index and time.monotonic() - started >= ACKNOWLEDGE_SLICE_SECONDS:
            if store_id is not None:  # the waiting task goes on at the back of the queue
                acknowledgements_defer(
                    store_id=store.pk, order_pks=order_pks[index:], wait=0, attempt=attempt, idle_waits=0
                )
                return
            if enqueue(orders_acknowledge_task, order_pks[index:], attempt):
                return
        if wait:
            idle = idle_waits + 1 if store_id is not None and not index else 0
            acknowledgements_defer(
                store_id=store.pk, order_pks=order_pks[index:], wait=wait, attempt=attempt, idle_waits=idle
            )
            return
        try:
            order_acknowledge(order_id=order_pk)
        except OUTAGE_ERRORS as error:
            connections_reset()
            logger.warning("Acknowledging order %s met an outage (%s); the rest go again shortly", order_pk, error)
            enqueue(orders_acknowledge_task, order_pks[index:], attempt, countdown=OUTAGE_ACKNOWLEDGE_COUNTDOWN)
            return
        except WalmartRateLimited as error:
            idle = idle_waits + 1 if store_id is not None and not index else 0
            acknowledgements_defer(
                store_id=store.pk,
                order_pks=order_pks[index:],
                wait=max(1.0, float(error.retry_after)),
                attempt=attempt,
                idle_waits=idle,
            )
            return
        except RETRYABLE:
            if attempt >= ACKNOWLEDGE_MAX_ATTEMPTS:
                return
            countdown = min(300.0, 15.0 * 2 ** (attempt - 1))
            enqueue(orders_acknowledge_task, order_pks[index:], attempt + 1, countdown=countdown)
            return
        except Exception as error:  # noqa: BLE001 - refused by Walmart: on the order's timeline already
            logger.warning("Order %s not acknowledged, going on with the next: %s", order_pk, error)


# The webhook event tasks: Walmart's transient failures retried with backoff (5 s doubling, at most 120 s apart).
WEBHOOK_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(**WEBHOOK_TASK_OPTIONS)
def webhook_event_process_task(self, webhook_event_pk: int, outages: int = 0) -> None:
    """One event (queued before events were processed in batches; the batch task does the same for many)."""
    from django.utils import timezone

    from orders.models import WebhookEvent
    from orders.services import webhook_event_process, webhook_events_release

    claimed_at = timezone.now()

    def release() -> None:
        store_id = WebhookEvent.objects.filter(pk=webhook_event_pk).values_list("store_id", flat=True).first()
        if store_id is not None:
            webhook_events_release(store_id=store_id, claimed_at=claimed_at)

    with retried_after_outage(self, release=release), rescheduled_when_rate_limited(self):
        webhook_event_process(event_id=webhook_event_pk, now=claimed_at)


@shared_task(**WEBHOOK_TASK_OPTIONS)
def webhook_events_process_task(self, store_pk: int, outages: int = 0) -> None:
    """A batch of the store's pending webhook events. An event that failed for a reason that can clear by
    itself (5xx, connection) is retried with the batch; the others wait for the sweep. A database or Redis
    failure gives the batch's claims back and retries within seconds."""
    from django.utils import timezone

    from orders.services import webhook_events_process, webhook_events_release

    claimed_at = timezone.now()
    release = lambda: webhook_events_release(store_id=store_pk, claimed_at=claimed_at)  # noqa: E731
    with retried_after_outage(self, release=release), rescheduled_when_rate_limited(self):
        result = webhook_events_process(store_id=store_pk, now=claimed_at)
        retryable = [error for error in result.failed.values() if isinstance(error, RETRYABLE)]
        if retryable:
            raise retryable[0]


@shared_task(bind=True, acks_late=True)
def orders_provisional_read_task(self, store_pk: int, order_pks: list[int], outages: int = 0) -> None:
    """Read a store's provisional orders back (queued by their sweep, which already moved their next read on:
    a lost task costs one backoff). Walmart's failures are recorded on the orders; a database or Redis failure
    retries within seconds."""
    from orders.services import orders_provisional_read

    with retried_after_outage(self):
        orders_provisional_read(store_id=store_pk, order_ids=order_pks)


POLL_LOCK_SECONDS = 1800


@shared_task(bind=True, acks_late=True)
def order_poll_task(self, store_pk: int, outages: int = 0) -> None:
    """One poll per store at a time (a slow poll is not overlapped by the next tick's); a database or Redis
    failure polls again within seconds."""
    from channel_manager.locks import cache_lock
    from channel_manager.models import Store
    from orders.services import order_poll

    with retried_after_outage(self), cache_lock(f"orders:poll:{store_pk}", POLL_LOCK_SECONDS) as held:
        if held:
            order_poll(store=Store.objects.get(pk=store_pk))


@shared_task
def orders_poll_due_task() -> int:
    """Every minute: start the poll of each store whose own interval has elapsed."""
    from channel_manager.work import enqueue
    from orders.services import stores_poll_due

    return sum(enqueue(order_poll_task, store_pk) for store_pk in stores_poll_due())
