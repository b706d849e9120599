"""Pure comparisons of the soak: Walmart's truth (the emulator's tables and its request log) against the
product's rows. No Django and no I/O here: `bench.soak.truth` reads the databases and hands these functions
plain values, and tests/soak/test_checks.py pins every one of them with exact values, so a checker that
stopped seeing a failure would fail its own tests.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# --- results ---------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """One line of the soak's verdict. `gate`: a failure makes the run exit non-zero (correctness checks
    only: lost, doubled, stuck); figures such as latencies are never gates."""

    name: str
    passed: bool
    summary: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    gate: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "gate": self.gate,
            "summary": self.summary,
            "findings": self.findings,
        }


# --- orders ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrdersComparison:
    missing: list[str]  # not in the product, though its poll has read past it or the grace is over
    late: list[str]  # not in the product yet, within the grace and after its poll's watermark (not a failure)
    duplicated: dict[str, int]  # purchase order id -> rows in the product (> 1)
    unknown: list[str]  # in the product, not on Walmart

    @property
    def passed(self) -> bool:
        return not (self.missing or self.duplicated or self.unknown)


def orders_compare(
    *,
    walmart_placed: Mapping[str, float],
    product_orders: Sequence[str],
    now: float,
    grace_seconds: float,
    polled_through: float | None = None,
) -> OrdersComparison:
    """Walmart's purchase orders (id -> epoch seconds placed) against the product's order rows (one id per
    row, so a duplicate shows twice). An order not in the product is missing when the product's poll has
    read past it (its watermark `polled_through`: orders before it are stored) or when it was placed at
    least `grace_seconds` (the poll's interval and a margin) before `now`; otherwise it may still be on its
    way by that poll, and is reported as late."""
    counts = Counter(product_orders)
    absent = sorted(po for po in walmart_placed if po not in counts)

    def due(po: str) -> bool:
        placed = walmart_placed[po]
        return now - placed >= grace_seconds or (polled_through is not None and placed < polled_through)

    return OrdersComparison(
        missing=[po for po in absent if due(po)],
        late=[po for po in absent if not due(po)],
        duplicated={po: n for po, n in sorted(counts.items()) if n > 1},
        unknown=sorted(po for po in counts if po not in walmart_placed),
    )


# --- acknowledgements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcksComparison:
    never: list[str]  # in the product, needed an acknowledgement, none applied on Walmart
    repeated: dict[str, int]  # applied more than once on Walmart
    not_recorded: list[str]  # applied on Walmart, the product does not show it acknowledged
    unknown_outcome: dict[str, int]  # answer lost and the emulator's own outcome could not be read

    @property
    def passed(self) -> bool:
        return not (self.never or self.repeated or self.not_recorded)


def acks_compare(
    *,
    product_acknowledged: Mapping[str, bool],
    applied: Mapping[str, int],
    unknown_outcome: Mapping[str, int] | None = None,
    optional: Iterable[str] = (),
) -> AcksComparison:
    """Every order the product holds must be acknowledged exactly once on Walmart (`applied`: applied
    acknowledgements per purchase order, from the request log) and shown acknowledged in the product.
    `optional`: orders that never needed one (every unit cancelled on Walmart, none shipped); they may have
    0 or 1 but never 2. Acknowledgements whose outcome is unknown (answer lost, status unreadable) are only
    reported."""
    optional = set(optional)
    unknown_outcome = unknown_outcome or {}
    return AcksComparison(
        never=sorted(po for po in product_acknowledged if applied.get(po, 0) == 0 and po not in optional),
        repeated={po: n for po, n in sorted(applied.items()) if n > 1},
        not_recorded=sorted(
            po for po, acknowledged in product_acknowledged.items() if applied.get(po, 0) >= 1 and not acknowledged
        ),
        unknown_outcome={po: n for po, n in sorted(unknown_outcome.items()) if n},
    )


# --- shipments, cancellations, refunds ------------------------------------------------------------


@dataclass(frozen=True)
class QuantitiesComparison:
    doubled: dict[Hashable, tuple[int, int]]  # key -> (intended by the product, applied on Walmart)
    lost: dict[Hashable, tuple[int, int]]
    matched: int

    @property
    def passed(self) -> bool:
        return not (self.doubled or self.lost)


def quantities_compare(*, intended: Mapping[Hashable, int], applied: Mapping[Hashable, int]) -> QuantitiesComparison:
    """Units the product's operators asked for (per key: a shipment line by tracking number, an order line's
    cancelled units, a return line's refunded units) against the units Walmart applied. More on Walmart
    than asked: applied twice; fewer: lost. A key only Walmart knows was applied without any intent."""
    doubled: dict[Hashable, tuple[int, int]] = {}
    lost: dict[Hashable, tuple[int, int]] = {}
    matched = 0
    for key in sorted({*intended, *applied}, key=repr):
        wanted, done = intended.get(key, 0), applied.get(key, 0)
        if done > wanted:
            doubled[key] = (wanted, done)
        elif done < wanted:
            lost[key] = (wanted, done)
        else:
            matched += 1
    return QuantitiesComparison(doubled=doubled, lost=lost, matched=matched)


# --- durable rows ----------------------------------------------------------------------------------

# Final states by name. A state not named here counts as unfinished: a new final state shows up as a
# (visible, named) failure to add here, never as a stuck row passing unseen.
FINAL_STATUS_NAMES = frozenset(
    {
        "SENT",
        "ERROR",
        "DISCARDED",
        "CANCELLED",
        "CANCELED",
        "FAILED",
        "SUCCEEDED",
        "PROCESSED",
        "DONE",
        "COMPLETED",
        "RATE_LIMITED",
        "NOT_SENT",
        "SUPERSEDED",
        "EXPIRED",
    }
)
FAILED_STATUS_NAMES = frozenset({"ERROR", "FAILED"})


def status_split(choices: Mapping[str, str]) -> tuple[set[str], set[str], set[str]]:
    """A model's status choices (member name -> stored value) split into (non-final, final, failed)
    values. Final states are recognised by name, so states a model gains later (in flight, claimed...)
    count as non-final without this module knowing them."""
    final = {value for name, value in choices.items() if name.upper() in FINAL_STATUS_NAMES}
    failed = {value for name, value in choices.items() if name.upper() in FAILED_STATUS_NAMES}
    return set(choices.values()) - final, final, failed


# --- listings --------------------------------------------------------------------------------------

INPUT_QTY = "inputQty"
AVAIL_TO_SELL_QTY = "availToSellQty"


def inventory_semantics(*, sent: int, ordered: int, node: Mapping[str, int | None]) -> str:
    """Which of Walmart's quantities a `PUT /v3/inventory` sets, read from a probe: `sent` units were PUT,
    a customer then ordered `ordered` units (not shipped), `sent` was PUT again, and `node` is what
    `GET /v3/inventories` then shows (inputQty, availToSellQty, reservedQty).

    Walmart's documented semantics: the PUT sets inputQty (all units, including those sold and not yet
    shipped) and availToSellQty = inputQty - reservedQty. An emulator from before that model sets the
    sellable quantity instead. Raises ValueError when the probe shows neither."""
    input_qty, avail, reserved = node.get(INPUT_QTY), node.get(AVAIL_TO_SELL_QTY), node.get("reservedQty")
    if input_qty == sent and avail == sent - ordered:
        return INPUT_QTY
    if avail == sent and input_qty in (sent + ordered, None):
        return AVAIL_TO_SELL_QTY
    raise ValueError(
        f"inventory probe: PUT {sent}, {ordered} ordered, PUT {sent} again; Walmart shows inputQty={input_qty} "
        f"availToSellQty={avail} reservedQty={reserved}: neither documented semantics"
    )


@dataclass(frozen=True)
class ListingsComparison:
    differ: dict[str, tuple[Any, Any]]  # sku -> (the product's value, Walmart's value)
    missing_on_walmart: list[str]
    compared: int

    @property
    def passed(self) -> bool:
        return not (self.differ or self.missing_on_walmart)


def listings_compare(*, product: Mapping[str, Any], walmart: Mapping[str, Any]) -> ListingsComparison:
    """Per SKU, the value the product wants on Walmart against the value Walmart holds. A product value of
    None means the product sends nothing for it (no price): skipped."""
    differ: dict[str, tuple[Any, Any]] = {}
    missing: list[str] = []
    compared = 0
    for sku in sorted(product):
        wanted = product[sku]
        if wanted is None:
            continue
        compared += 1
        if sku not in walmart:
            missing.append(sku)
        elif walmart[sku] != wanted:
            differ[sku] = (wanted, walmart[sku])
    return ListingsComparison(differ=differ, missing_on_walmart=missing, compared=compared)


# --- figures ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (the smallest value with at least `fraction` of the values at or below it)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.50), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
    }


def converged_after(samples: Sequence[tuple[float, bool]], *, since: float) -> float | None:
    """Seconds from `since` (the end of the last fault) to the first sample from which every later sample
    passed; None when the last sample failed (not converged)."""
    if not samples or not samples[-1][1]:
        return None
    first = samples[-1][0]
    for moment, passed in reversed(samples):
        if not passed:
            break
        first = moment
    return max(0.0, first - since)


# --- Celery -----------------------------------------------------------------------------------------


def celery_queue_names(*, default_queue: str | None, task_queues: Any, task_routes: Any) -> list[str]:
    """Every queue the Celery configuration names: the default queue, the declared queues (kombu Queue
    objects, names or a mapping) and the queues the routes send tasks to (a mapping or a list of
    mappings; router functions are opaque and add nothing). Sorted, without duplicates."""
    names = {default_queue or "celery"}
    if isinstance(task_queues, Mapping):
        names.update(str(name) for name in task_queues)
    else:
        for queue in task_queues or ():
            names.add(str(getattr(queue, "name", queue)))
    routes = task_routes if isinstance(task_routes, list | tuple) else [task_routes]
    for route_map in routes:
        if not isinstance(route_map, Mapping):
            continue
        for target in route_map.values():
            if isinstance(target, str):
                names.add(target)
            elif isinstance(target, Mapping) and target.get("queue"):
                queue = target["queue"]
                names.add(str(getattr(queue, "name", queue)))
    return sorted(names)


# --- the workers ------------------------------------------------------------------------------------------

_COMPOSE_QUEUES = re.compile(r"""(?:--queues|-Q)["']?[=,\s]+["']?([\w.\-]+(?:,[\w.\-]+)*)""")


def compose_queue_groups(compose_text: str) -> list[list[str]]:
    """The queues each Celery worker service of docker-compose.yml consumes (`--queues=a,b` or `-Q a,b` in
    its command), in the file's order; empty when no worker names its queues (one worker takes them all)."""
    groups = []
    for line in compose_text.splitlines():
        if line.lstrip().startswith("#") or "worker" not in line:
            continue
        match = _COMPOSE_QUEUES.search(line)
        if match:
            groups.append(match.group(1).split(","))
    return groups


def worker_queues(queues: Sequence[str], *, groups: Sequence[Sequence[str]], workers: int) -> list[list[str]]:
    """Which queues each soak worker consumes. With `groups` (docker-compose's workers, one per queue group),
    one worker per group, keeping only the queues the settings define; a queue the settings define that no
    group names gets a worker of its own, so every queue is consumed. Without groups, `workers` workers that
    each consume every queue."""
    known = list(queues)
    if not groups:
        return [list(known) for _ in range(workers)]
    layout = []
    for group in groups:
        kept = [name for name in group if name in known]
        if kept and kept not in layout:
            layout.append(kept)
    covered = {name for group in layout for name in group}
    layout += [[name] for name in known if name not in covered]
    return layout


def phase_at(at: float, phases: Sequence[tuple[str, float, float]]) -> str:
    """The fault phase (name, start, end) running at `at`, or "between phases" (a gap of no fault)."""
    return next((name for name, start, end in phases if start <= at <= end), "between phases")


def latency_by_phase(
    samples: Iterable[tuple[float, float]], phases: Sequence[tuple[str, float, float]]
) -> dict[str, dict[str, float | int | None]]:
    """(when it started, seconds taken) samples summarised per fault phase they started in, in the phases'
    order ("between phases" last, when any started in a gap)."""
    grouped: dict[str, list[float]] = {name: [] for name, _, _ in phases}
    for at, seconds in samples:
        grouped.setdefault(phase_at(at, phases), []).append(seconds)
    return {name: latency_summary(values) for name, values in grouped.items() if values}
