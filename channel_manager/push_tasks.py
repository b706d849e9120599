"""How every push of an intent row to Walmart is retried (a shipment, a cancellation, a refund): only what
can clear by itself (rate limit, 5xx, a connection failure), with exponential backoff from 10 s, jitter,
at most 10 minutes apart, and a cap of PUSH_MAX_RETRIES retries. The services record every attempt on the
row and, on the final attempt, mark it Error instead of re-raising.

    @shared_task(**PUSH_TASK_OPTIONS)
    def shipment_push_task(self, shipment_pk: int) -> None:
        with rescheduled_when_rate_limited(self):
            shipment_push(shipment_id=shipment_pk, final_attempt=is_final_attempt(self))

A rate limit never holds a worker: the client does not wait for Walmart's budget (pacing and 429s come
back as `WalmartRateLimited` with the wait), and the task is rescheduled for when the budget refills
(`countdown`), instead of sleeping in the worker or backing off blindly.

An outage of our own side (the database connection lost or terminated, Redis failing: `OUTAGE_ERRORS`),
wherever it strikes (before the call, or in the write after Walmart's answer), never kills the work:
`retried_after_outage` closes the broken connections, releases this attempt's claim when it can, and
queues the same task again within seconds (5 s doubling, at most 60 s apart, `OUTAGE_MAX_RETRIES` times;
these retries do not count against the task's own cap). The row's in-flight mark stays, so the retry reads
Walmart back before it sends anything. The retry keeps the task's id, which is the attempt id its claim
holds (`attempt_id_of`): it takes back its own claim even when the release could not be written.

    @shared_task(**PUSH_TASK_OPTIONS)
    def shipment_push_task(self, shipment_pk: int, outages: int = 0) -> None:
        attempt_id = attempt_id_of(self)
        with retried_after_outage(self, release=lambda: Shipment.push_claim_release(shipment_pk, attempt_id=...)):
            ...
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task
from celery.exceptions import Retry
from django.db import InterfaceError, OperationalError, connections
from redis.exceptions import RedisError

from channel_manager.walmart import RETRYABLE
from walmart_client.errors import WalmartRateLimited

logger = logging.getLogger(__name__)

# Failures of our own infrastructure: they say nothing about Walmart, and clear by themselves. Only the
# database's connection-level errors (terminated, closed, unreachable, cancelled): an IntegrityError, DataError
# or ProgrammingError is the same on every try, so it fails the task at once instead of retrying for an hour.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, RedisError)
OUTAGE_RETRY_FIRST_SECONDS = 5.0
OUTAGE_RETRY_MAX_SECONDS = 60.0
OUTAGE_MAX_RETRIES = 60  # about an hour of retries a minute apart; then the sweep drives the row

RATE_LIMITED_COUNTDOWN_MIN_SECONDS = 1.0
RATE_LIMITED_COUNTDOWN_DEFAULT_SECONDS = 60.0  # when Walmart gave no replenish time

PUSH_MAX_RETRIES = 8
PUSH_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 10,
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


def attempt_id_of(task: Task) -> str | None:
    """The attempt id a task claims its row with: its Celery task id (kept by its retries), without dashes
    (32 characters). None outside a worker (a direct call): the claim draws a new one."""
    task_id = getattr(task.request, "id", None)
    return str(task_id).replace("-", "")[:32] if task_id else None


def connections_reset() -> None:
    """Close this thread's database connections that are not inside a transaction, so the next query opens
    a fresh one (a terminated connection would fail again). Never raises."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close: it is dropped either way
            logger.debug("Closing database connection %s failed", connection.alias, exc_info=True)


def outage_countdown(outages: int) -> float:
    """Seconds before the retry after `outages` earlier outage retries: 5 s doubling, at most 60 s."""
    return min(OUTAGE_RETRY_FIRST_SECONDS * 2**outages, OUTAGE_RETRY_MAX_SECONDS)


def outage_retry(task: Task, error: Exception, *, release: Callable[[], Any] | None = None) -> Exception:
    """After an outage in `task`: close the broken connections, run `release` (give up this attempt's claim;
    its own failure is logged), and queue the task again after `outage_countdown` with its `outages`
    argument one higher and its retry count unchanged. Returns the exception for the caller to raise: celery's
    Retry, or `error` itself when the task was called directly, has had OUTAGE_MAX_RETRIES outage retries, or
    the retry could not be queued (the broker is down too: the sweep drives the row)."""
    connections_reset()
    if release is not None:
        try:
            release()
        except OUTAGE_ERRORS:
            connections_reset()
            logger.warning("Could not release the claim of %s after an outage", task.name, exc_info=True)
    request = task.request
    kwargs = dict(request.kwargs or {})
    outages = int(kwargs.get("outages") or 0)
    if request.called_directly or outages >= OUTAGE_MAX_RETRIES:
        return error
    countdown = outage_countdown(outages)
    kwargs["outages"] = outages + 1
    signature = task.signature_from_request(
        request, tuple(request.args or ()), kwargs, countdown=countdown, retries=request.retries
    )
    logger.warning(
        "%s[%s] hit an outage (%s: %s); retrying in %.0f s",
        task.name,
        request.id,
        type(error).__name__,
        error,
        countdown,
    )
    if not request.is_eager:  # an eager run (tests) re-runs the signature itself on the Retry
        try:
            signature.apply_async()
        except Exception:  # noqa: BLE001 - a broker's failures share no base class: the sweep drives the row
            logger.warning("Could not queue the retry of %s[%s]", task.name, request.id, exc_info=True)
            return error
    return Retry(exc=error, is_eager=request.is_eager, sig=signature)


@contextmanager
def retried_after_outage(task: Task, *, release: Callable[[], Any] | None = None) -> Iterator[None]:
    """Around a task's body: an outage of the database or Redis (`OUTAGE_ERRORS`) becomes a retry of the task
    within seconds (`outage_retry`). The task must take an `outages: int = 0` argument."""
    try:
        yield
    except OUTAGE_ERRORS as error:
        outcome = outage_retry(task, error, release=release)
        if outcome is error:
            raise
        raise outcome from error
