"""The fault phases, each bounded and logged with its start, end and what it did.

Walmart's faults are the emulator's own (walmart_emulator.faults, set on the soak's seller): a share of
5xx answers, a 429 storm, answers lost after the write was applied, hangs past the client's timeout.
The product's faults are done to its processes and servers: a worker SIGKILLed while calls are in flight
(and restarted, as a supervisor would), the soak's own Redis killed and restarted empty, the app's
database connections terminated (pg_terminate_backend, only the soak database and only the app's
application names), beat stopped for a while.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("soak")


@dataclass
class PhaseRecord:
    name: str
    description: str
    started: float = 0.0
    ended: float = 0.0
    actions: list[dict[str, Any]] = field(default_factory=list)
    skipped: str = ""

    def act(self, what: str, **detail: Any) -> None:
        self.actions.append({"at": round(time.time(), 3), "what": what, **detail})
        logger.info("  %s: %s %s", self.name, what, detail or "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "started": self.started,
            "ended": self.ended,
            "seconds": round(self.ended - self.started, 1),
            "skipped": self.skipped,
            "actions": self.actions,
        }


@dataclass
class FaultContext:
    seller_id: int
    stack: Any  # bench.soak.stack.Stack
    redis: Any  # bench.soak.servers.OwnRedis or None (given Redis: never killed)
    database_url: str
    client_timeout: float
    stop: threading.Event


def _seller_faults(context: FaultContext, **faults: Any) -> None:
    from walmart_emulator.models import Seller
    from walmart_emulator.services import fault_clear, fault_set

    seller = Seller.objects.get(pk=context.seller_id)
    if faults:
        fault_set(seller=seller, **faults)
    else:
        fault_clear(seller=seller)


def _wait(context: FaultContext, until: float) -> None:
    context.stop.wait(max(0.0, until - time.time()))


def phase_walmart_5xx(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    end = record.started + seconds
    _seller_faults(context, error_share=0.3, error_status=500)
    record.act("Walmart answers 30 % of requests with 500")
    _wait(context, record.started + seconds / 2)
    _seller_faults(context, error_share=0.3, error_status=503)
    record.act("Walmart answers 30 % of requests with a bare 503")
    _wait(context, end)
    _seller_faults(context)
    record.act("Walmart faults cleared")


def phase_walmart_429(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    _seller_faults(context, throttle_storm=True)
    record.act("Walmart answers every request with 429")
    _wait(context, record.started + seconds)
    _seller_faults(context)
    record.act("Walmart faults cleared")


def phase_lost_answers(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    _seller_faults(context, lost_answer_share=0.35)
    record.act("Walmart applies 35 % of writes, then drops the connection without answering")
    _wait(context, record.started + seconds)
    _seller_faults(context)
    record.act("Walmart faults cleared")


def phase_hangs(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    hang = context.client_timeout + 2.5
    _seller_faults(context, hang_seconds=hang)
    record.act(f"Walmart holds every request {hang:.1f} s (the client gives up at {context.client_timeout:.0f} s)")
    _wait(context, record.started + seconds)
    _seller_faults(context)
    record.act("Walmart faults cleared")


def phase_worker_kill(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    """Walmart slowed to 700 ms a call (so work is in flight), then each worker in turn SIGKILLed (its whole
    process group) and restarted 4 s later (as a supervisor would); a kill every quarter of the phase (at
    least 6 s apart)."""
    _seller_faults(context, latency_ms=700)
    record.act("Walmart answers after 700 ms (calls in flight)")
    workers = context.stack.worker_names
    spacing = max(6.0, seconds / 4)
    moment, turn = record.started + 2, 0
    while moment + 5 <= record.started + seconds and not context.stop.is_set():
        _wait(context, moment)
        name = workers[turn % len(workers)]
        context.stack.kill(name)
        record.act(f"SIGKILL {name}")
        _wait(context, moment + 4)
        context.stack.start(name)
        record.act(f"{name} restarted")
        moment, turn = moment + spacing, turn + 1
    _wait(context, record.started + seconds)
    _seller_faults(context)
    record.act("Walmart faults cleared")


def phase_redis_restart(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    if context.redis is None:
        record.skipped = "REDIS_URL names a Redis the soak does not own: it is never killed"
        record.act("skipped: " + record.skipped)
        _wait(context, record.started + seconds)
        return
    down = min(20.0, max(8.0, seconds / 4), max(1.0, seconds - 4))
    _wait(context, record.started + 1)
    context.redis.kill()
    record.act("Redis SIGKILLed (broker and cache gone)")
    _wait(context, record.started + 1 + down)
    context.redis.start()
    record.act(f"Redis restarted empty after {down:.0f} s")
    _wait(context, record.started + seconds)


def phase_db_terminate(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    from bench.soak.servers import connections_terminate

    names = context.stack.app_names
    record.act(f"terminating the connections of {', '.join(names)} every 3 s")
    total = rounds = 0
    while time.time() < record.started + seconds and not context.stop.is_set():
        try:
            total += connections_terminate(context.database_url, application_names=names)
            rounds += 1
        except Exception as error:  # noqa: BLE001 - the next round tries again
            record.act(f"terminate failed: {type(error).__name__}: {error}")
        context.stop.wait(3.0)
    record.act(f"{total} connections of web, workers and beat terminated in {rounds} rounds, every 3 s")


def phase_beat_stopped(context: FaultContext, record: PhaseRecord, seconds: float) -> None:
    context.stack.stop("beat")
    record.act("beat stopped")
    _wait(context, record.started + seconds)
    context.stack.start("beat")
    record.act("beat started again")


@dataclass(frozen=True)
class Phase:
    name: str
    description: str
    run: Callable[[FaultContext, PhaseRecord, float], None]
    weight: float = 1.0  # share of the phase length; beat stays stopped longer


PHASES = (
    Phase("walmart_5xx", "Walmart answers 30 % of requests 500, then 503", phase_walmart_5xx),
    Phase("redis_restart", "Redis killed, restarted empty", phase_redis_restart),
    Phase("walmart_429_storm", "Walmart answers every request 429", phase_walmart_429),
    Phase("lost_answers", "Walmart applies writes and drops the answer", phase_lost_answers),
    Phase("worker_sigkill", "workers SIGKILLed while calls are in flight", phase_worker_kill),
    Phase("walmart_hangs", "Walmart hangs past the client timeout", phase_hangs),
    Phase("db_connections_terminated", "the app's database connections terminated", phase_db_terminate),
    Phase("beat_stopped", "Celery beat stopped", phase_beat_stopped, weight=2.4),
)


def phases_run(context: FaultContext, *, phase_seconds: float, gap_seconds: float) -> list[PhaseRecord]:
    """Every phase in turn, `gap_seconds` of no fault between two. Each one ends with its faults undone,
    also when the soak is interrupted (the stack and the seller are restored by the caller then)."""
    records = []
    for phase in PHASES:
        if context.stop.is_set():
            break
        record = PhaseRecord(phase.name, phase.description, started=time.time())
        records.append(record)
        logger.info("fault phase %s: %s", phase.name, phase.description)
        try:
            phase.run(context, record, phase_seconds * phase.weight)
        finally:
            record.ended = time.time()
        context.stop.wait(gap_seconds)
    return records
