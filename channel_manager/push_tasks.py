"""How every push of an intent row to Walmart is retried (a shipment, a cancellation, a refund): only what
can clear by itself (rate limit, 5xx, a connection failure), with exponential backoff from 30 s, jitter,
at most 10 minutes apart, and a cap of PUSH_MAX_RETRIES retries. The services record every attempt on the
row and, on the final attempt, mark it Error instead of re-raising.

    @shared_task(**PUSH_TASK_OPTIONS)
    def shipment_push_task(self, shipment_pk: int) -> None:
        with rescheduled_when_rate_limited(self):
            shipment_push(shipment_id=shipment_pk, final_attempt=is_final_attempt(self))

A rate limit never holds a worker: the client does not wait for Walmart's budget (pacing and 429s come
back as `WalmartRateLimited` with the wait), and the task is rescheduled for when the budget refills
(`countdown`), instead of sleeping in the worker or backing off blindly.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task

from channel_manager.walmart import RETRYABLE
from walmart_client.errors import WalmartRateLimited

RATE_LIMITED_COUNTDOWN_MIN_SECONDS = 1.0
RATE_LIMITED_COUNTDOWN_DEFAULT_SECONDS = 60.0  # when Walmart gave no replenish time

PUSH_MAX_RETRIES = 8
PUSH_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": PUSH_MAX_RETRIES,
    "acks_late": True,
}


def is_final_attempt(task: Task) -> bool:
    """True on the run after which the task will not be retried again (its retries have reached the cap)."""
    return task.max_retries is not None and task.request.retries >= task.max_retries


def rate_limited_countdown(error: WalmartRateLimited) -> float:
    """Seconds until Walmart's budget refills (its replenish time, or Retry-After), at least 1."""
    wait = error.retry_after if error.retry_after is not None else RATE_LIMITED_COUNTDOWN_DEFAULT_SECONDS
    return max(RATE_LIMITED_COUNTDOWN_MIN_SECONDS, float(wait))


@contextmanager
def rescheduled_when_rate_limited(task: Task) -> Iterator[None]:
    """Around a task's body: a `WalmartRateLimited` becomes a retry of the task at the time Walmart's budget
    refills (`task.retry(countdown=...)`), bounded by the task's own max_retries like any retry."""
    try:
        yield
    except WalmartRateLimited as error:
        raise task.retry(exc=error, countdown=rate_limited_countdown(error)) from error
