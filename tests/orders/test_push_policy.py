"""Every push of an intent row to Walmart (shipment, cancellation, refund) retries the same way:
retryable errors only, backoff from 30 s with jitter, at most 600 s apart, a cap of 8 retries."""

from orders.tasks import cancellation_push_task, shipment_push_task
from returns.tasks import refund_push_task
from walmart_client.errors import WalmartConnectionError, WalmartRateLimited, WalmartServerError


def test_push_tasks_share_one_retry_policy():
    policies = {
        task.name: (
            task.autoretry_for,
            task.retry_backoff,
            task.retry_backoff_max,
            task.retry_jitter,
            task.max_retries,
            task.acks_late,
        )
        for task in (shipment_push_task, cancellation_push_task, refund_push_task)
    }
    expected = ((WalmartRateLimited, WalmartServerError, WalmartConnectionError), 30, 600, True, 8, True)
    assert policies == {
        "orders.tasks.shipment_push_task": expected,
        "orders.tasks.cancellation_push_task": expected,
        "returns.tasks.refund_push_task": expected,
    }
