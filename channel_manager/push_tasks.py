"""How every push of an intent row to Walmart is retried (a shipment, a cancellation, a refund): only what
can clear by itself (rate limit, 5xx, a connection failure), with exponential backoff from 30 s, jitter,
at most 10 minutes apart, and a cap of PUSH_MAX_RETRIES retries. The services record every attempt on the
row and, on the final attempt, mark it Error instead of re-raising.

    @shared_task(**PUSH_TASK_OPTIONS)
    def shipment_push_task(self, shipment_pk: int) -> None:
        shipment_push(shipment_id=shipment_pk, final_attempt=is_final_attempt(self))
"""

from typing import Any

from celery import Task

from channel_manager.walmart import RETRYABLE

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
