"""Every push of an intent row to Walmart (shipment, cancellation, refund) retries the same way:
retryable errors only, backoff from 10 s with jitter, at most 600 s apart, a cap of 8 retries."""

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
    expected = ((WalmartRateLimited, WalmartServerError, WalmartConnectionError), 10, 600, True, 8, True)
    assert policies == {
        "orders.tasks.shipment_push_task": expected,
        "orders.tasks.cancellation_push_task": expected,
        "returns.tasks.refund_push_task": expected,
    }


def test_next_attempt_delay_doubles_from_10_seconds_up_to_600_unless_walmart_says():
    from channel_manager.intents import push_retry_delay

    assert [push_retry_delay(attempts=n) for n in (1, 2, 3, 4, 5, 6, 7, 9)] == [10, 20, 40, 80, 160, 320, 600, 600]
    assert push_retry_delay(attempts=3, retry_after=7.5) == 7.5


def test_request_maybe_applied_only_when_walmart_may_have_seen_it():
    from channel_manager.intents import request_maybe_applied_after

    sent = WalmartConnectionError("read timeout", request_sent=True)
    not_sent = WalmartConnectionError("refused", request_sent=False)
    server = WalmartServerError("boom", status=500)
    limited = WalmartRateLimited("slow down", status=429, retry_after=1.0)
    assert [request_maybe_applied_after(error, already=False) for error in (sent, not_sent, server, limited)] == [
        True,
        False,
        True,
        False,
    ]
    assert request_maybe_applied_after(limited, already=True) is True
