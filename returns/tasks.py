"""Celery tasks of the returns app: thin interfaces that take ids and call a service.

Refund pushes retry only what can clear by itself (rate limit, 5xx, a connection failure) with
exponential backoff, jitter and a cap (a rate limit reschedules for when Walmart's budget refills); the
service records every attempt on the refund row; a database or Redis failure retries within seconds
(`retried_after_outage`, the claim released first). Refunds whose task was lost are found by the sweep the
app registers (ReturnsConfig.ready).
"""

from celery import shared_task

from channel_manager.push_tasks import PUSH_MAX_RETRIES as PUSH_MAX_RETRIES  # re-exported for callers
from channel_manager.push_tasks import (
    PUSH_TASK_OPTIONS,
    attempt_id_of,
    is_final_attempt,
    rescheduled_when_rate_limited,
    retried_after_outage,
)


@shared_task(**PUSH_TASK_OPTIONS)
def refund_push_task(self, refund_pk: int, outages: int = 0) -> None:
    from returns.models import Refund
    from returns.services import refund_push

    attempt_id = attempt_id_of(self)
    release = (lambda: Refund.push_claim_release(refund_pk, attempt_id=attempt_id)) if attempt_id else None
    with retried_after_outage(self, release=release), rescheduled_when_rate_limited(self):
        refund_push(refund_id=refund_pk, final_attempt=is_final_attempt(self), attempt_id=attempt_id)


POLL_LOCK_SECONDS = 1800


@shared_task(acks_late=True)
def returns_poll_task(store_pk: int) -> None:
    """One returns read per store at a time (a slow read is not overlapped by the next tick's)."""
    from channel_manager.locks import cache_lock
    from channel_manager.models import Store
    from returns.services import returns_poll

    with cache_lock(f"returns:poll:{store_pk}", POLL_LOCK_SECONDS) as held:
        if held:
            returns_poll(store=Store.objects.get(pk=store_pk))


@shared_task
def returns_poll_due_task() -> int:
    """Every minute: start the returns read of each store whose own interval has elapsed."""
    from channel_manager.work import enqueue
    from returns.services import stores_poll_due

    return sum(enqueue(returns_poll_task, store_pk) for store_pk in stores_poll_due())
