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
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery.exceptions import Retry
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

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
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, **options: Any) -> None:
    """Send `task` once the current transaction commits (at once outside one); never raises to the caller."""
    transaction.on_commit(lambda: enqueue(task, *args, **options))
