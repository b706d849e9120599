"""Durable work: the database is the record of what is left to do, Celery only makes it happen sooner.

Two rules every app follows:

- `enqueue_on_commit(task, *args)` after saving a unit of work. The task is sent once the transaction
  commits; when the broker is down the failure is logged and nothing is raised to the caller (the work is
  saved, the operator sees it pending, and the sweeper drives it later). A task lost with Redis changes
  nothing but latency.
- Each kind of work that can be left in a non-final state (a push in flight, an event not processed, a feed
  not polled) registers a sweep with `sweep_register` in its app's `AppConfig.ready`. One beat job,
  `channel_manager.tasks.sweep_task`, runs every registered sweep each minute: a sweep finds the rows of its
  kind past their deadline and re-drives them (re-enqueues, or reads Walmart back first when a send may
  have been applied), and returns how many it re-drove. Sweeps must be safe to run twice and concurrently
  with the normal path (they act through the same conditional claims).

The sweeper does not depend on beat: each worker queues a sweep when it starts (`worker_ready`, connected
in `channel_manager.celery`), and every sweep keeps one chain of sweeps going, each queuing the next
`SWEEP_CHAIN_SECONDS` later (`sweep_chain_next`), so sweeps go on while beat is stopped. Beat's minute
run and any worker start restart the chain when its queued sweep was lost (Redis restarted empty, or the
worker holding it killed).
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery.exceptions import Retry
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

SWEEP_CHAIN_SECONDS = 30
SWEEP_CHAIN_GRACE_SECONDS = 30  # a chain whose next sweep is this late is taken as lost and restarted
SWEEP_AT_WORKER_START_COUNTDOWN = 5
# After the broker came back: a sweep once a lost push is due (`intents.LOST_TASK_AFTER_SECONDS`, 30 s) and then some.
SWEEP_AFTER_BROKER_OUTAGE_COUNTDOWN = 35
_broker_failed = False  # this process could not enqueue since its last successful enqueue
_SWEEP_CHAIN_KEY = "work:sweep-chain"

SweepFunction = Callable[[datetime], int]


@dataclass(frozen=True)
class Sweep:
    """One registered kind of work: `function(now)` re-drives its overdue rows and returns how many."""

    kind: str
    function: SweepFunction


_SWEEPS: dict[str, Sweep] = {}


def sweep_register(kind: str, function: SweepFunction) -> None:
    """Register the sweep of one kind of work (e.g. "orders.shipment"). Registering the same kind again
    replaces it (an app's ready() may run more than once in tests)."""
    _SWEEPS[kind] = Sweep(kind=kind, function=function)


def sweeps_registered() -> list[Sweep]:
    return sorted(_SWEEPS.values(), key=lambda sweep: sweep.kind)


def sweep_all(*, now: datetime | None = None) -> dict[str, int]:
    """Run every registered sweep once; returns {kind: rows re-driven}. A sweep that fails is logged and
    the others still run (one broken kind must not strand the rest); its count is -1."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for sweep in sweeps_registered():
        try:
            counts[sweep.kind] = sweep.function(now)
        except Exception:
            logger.exception("Sweep %s failed; the next run retries it", sweep.kind)
            counts[sweep.kind] = -1
    redriven = {kind: count for kind, count in counts.items() if count}
    if redriven:
        logger.info("Sweep re-drove %s", redriven)
    return counts


def enqueue(task: Any, *args: Any, **options: Any) -> bool:
    """Send `task` now (apply_async with `options`, e.g. countdown or queue). Returns False, after logging,
    when the broker cannot take it: the caller's saved row stays for the sweeper. Never raises for the
    broker. Under CELERY_TASK_ALWAYS_EAGER (tests) the task runs right here, and a retry it asks for
    (celery's Retry, which only an eager run raises here) propagates as a worker would report it."""
    global _broker_failed
    try:
        task.apply_async(args=args, **options)
    except Retry:
        raise
    except Exception:  # noqa: BLE001 - a broker's failures share no base class: logged, never raised
        logger.warning(
            "Could not enqueue %s%r (broker unavailable?); the sweeper will pick the work up",
            getattr(task, "name", task),
            args,
            exc_info=True,
        )
        _broker_failed = True
        return False
    if _broker_failed:
        _broker_failed = False
        _sweep_after_broker_outage()
    return True


def _sweep_after_broker_outage() -> None:
    """The broker takes tasks again after this process saw it fail (Redis restarted, maybe empty: the queued
    tasks and the sweep chain lost with it): queue a sweep for when the lost work is due, instead of waiting
    for beat's next minute. Not under CELERY_TASK_ALWAYS_EAGER (it would sweep at once, here)."""
    global _broker_failed
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return
    from channel_manager.tasks import sweep_task

    try:
        sweep_task.apply_async(countdown=SWEEP_AFTER_BROKER_OUTAGE_COUNTDOWN)
    except Exception:  # noqa: BLE001 - the broker failed again: the next successful enqueue tries again
        _broker_failed = True


def enqueue_on_commit(task: Any, *args: Any, **options: Any) -> None:
    """Send `task` once the current transaction commits (at once outside one); never raises to the caller."""
    transaction.on_commit(lambda: enqueue(task, *args, **options))


def sweep_chain_next(task: Any, *, token: str | None, now: float | None = None) -> bool:
    """After a sweep (`task`: the sweep task, run with the chain's `token`, or None when beat or a worker
    start ran it): queue the chain's next sweep in SWEEP_CHAIN_SECONDS when this sweep is the chain's own,
    or when no chain is alive (none recorded, or its next sweep is over SWEEP_CHAIN_GRACE_SECONDS late).
    One chain at a time: the chain's token and due time live in the cache; a chain whose token was replaced
    stops at its next sweep. Returns whether a next sweep was queued. Never raises (Redis down: no chain
    now, the next beat run or worker start tries again). Not under CELERY_TASK_ALWAYS_EAGER, where the
    next sweep would run at once, here, forever."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return False
    now = time.time() if now is None else now
    try:
        chain = cache.get(_SWEEP_CHAIN_KEY)
        alive = isinstance(chain, dict) and float(chain.get("due", 0)) + SWEEP_CHAIN_GRACE_SECONDS > now
        if alive and chain.get("token") != token:
            return False
        next_token = uuid.uuid4().hex
        cache.set(
            _SWEEP_CHAIN_KEY,
            {"token": next_token, "due": now + SWEEP_CHAIN_SECONDS},
            timeout=SWEEP_CHAIN_SECONDS + SWEEP_CHAIN_GRACE_SECONDS,
        )
    except Exception:  # noqa: BLE001 - the cache's failures share no base class; logged, the chain restarts later
        logger.warning("The sweep chain could not be recorded; beat or a worker start restarts it", exc_info=True)
        return False
    return enqueue(task, next_token, countdown=SWEEP_CHAIN_SECONDS)


def sweep_at_worker_start(task: Any) -> bool:
    """A worker started (`worker_ready`): queue a sweep in a few seconds, which also restarts the sweep chain
    if it is not alive. Work a killed worker left claimed is re-driven once its claim expires."""
    return enqueue(task, countdown=SWEEP_AT_WORKER_START_COUNTDOWN)


def status_after_save(instance: Any) -> str:
    """The status label of a unit of work just saved and committed, for the operator's message: read again
    (its push may already have run); when the database cannot be read right now, the status it was saved
    with (Pending: the work is saved and will be sent). Never raises for the database, so a saved action is
    never answered with an error page."""
    from django.db import DatabaseError, InterfaceError

    try:
        instance.refresh_from_db(fields=["status"])
    except (DatabaseError, InterfaceError):
        logger.warning("Could not read %r back after saving it; shown as saved", instance, exc_info=True)
    return str(instance.get_status_display())
