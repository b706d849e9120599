"""The planner's pure core: from (listing, desired value, confirmed value) rows and the budget left, decide
what goes to Walmart now and how. No database, no HTTP: the dry-run preview and the real send both call
`plan_build`, so the preview is exactly what is then sent.

Rules (level-triggered, DESIGN.md "Data flow"):
- a listing is a change when its desired value differs from the value Walmart last confirmed;
- a change already on its way (same value in an open feed) or refused by Walmart for that same value
  (a data error) is not sent again;
- inventory changes to zero are urgent (overselling is the costliest failure) and go first;
- after those, the change waiting longest goes first (its listing has been due the longest: no listing
  starves behind a trickle of newer changes); among changes due since the same moment, decreases first;
- when every change fits in the single-call budget, all go as single-item calls (fastest path, light load);
  otherwise urgent changes use the single-call budget and the rest go in bulk feeds split by Walmart's item
  and size limits, as many feeds as the seller's feed limit allows now (usually one); when no feed may be
  sent for more than `FEED_SOON_SECONDS`, the leftover single-call budget takes the next changes by
  priority every run (a trickle after a burst reaches Walmart within a run or two instead of waiting
  minutes for the feed slot); when the slot is nearer, they wait for that feed. The rest waits for a
  later run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from walmart_client.resources.feeds import (
    FeedFile,
    inventory_feed_files,
    inventory_feed_quantities,
    price_feed_files,
    price_feed_prices,
)

INVENTORY = "inventory"
PRICE = "price"
# A feed slot this near is waited for by the changes over the single-call budget; a farther one is not.
FEED_SOON_SECONDS = 60.0

Value = int | Decimal


@dataclass(frozen=True, slots=True)
class SyncRow:
    """One matched listing as the planner sees it. `due_since`: since when it has been due (in the dirty set,
    `sync.due`), None when not known."""

    listing_id: int
    sku: str
    desired: Value | None
    confirmed: Value | None
    due_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Change:
    listing_id: int
    sku: str
    value: Value
    confirmed: Value | None
    urgent: bool = False
    due_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedLimits:
    """How many feeds of one type the seller may send per window, and how large each may be."""

    count: int
    window_seconds: int
    max_bytes: int
    max_items: int
    source: str = "settings"  # "partner_profile" or "settings"

    @property
    def spacing_seconds(self) -> float:
        """How far apart feeds go under steady load: the window spread over all its feeds but one, which is
        kept for a catch-up feed (`sync.pacing.feed_catch_up_allowed`), so that one never fills the window."""
        return self.window_seconds / max(self.count - 1, 1)


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """The changes one feed file carries, in order, and the file built for them."""

    changes: tuple[Change, ...]
    file: FeedFile

    @property
    def payload(self) -> dict[str, Any]:
        return self.file.payload

    @property
    def size_bytes(self) -> int:
        return self.file.size_bytes


@dataclass
class SyncPlan:
    stream: str
    singles: list[Change] = field(default_factory=list)
    feeds: list[FeedBatch] = field(default_factory=list)
    waiting: list[Change] = field(default_factory=list)
    matched_count: int = 0
    in_flight_count: int = 0
    blocked_count: int = 0
    no_value_count: int = 0

    @property
    def change_count(self) -> int:
        return len(self.singles) + sum(len(feed.changes) for feed in self.feeds) + len(self.waiting)

    def summary(self) -> dict[str, int]:
        return {
            "matched": self.matched_count,
            "changes": self.change_count,
            "singles": len(self.singles),
            "feeds": len(self.feeds),
            "feed_items": sum(len(feed.changes) for feed in self.feeds),
            "waiting": len(self.waiting),
            "in_flight": self.in_flight_count,
            "blocked": self.blocked_count,
        }


def value_text(value: Value) -> str:
    """The canonical text of a quantity or price (ledger rows, failure memory)."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def value_parse(stream: str, text: str | float | int | Decimal) -> Value:
    """The typed value back from ledger text or a feed payload number."""
    if stream == INVENTORY:
        return int(text)
    return Decimal(str(text)).quantize(Decimal("0.01"))


def feed_batches_build(
    stream: str, changes: list[Change], *, limits: FeedLimits, max_feeds: int
) -> tuple[list[FeedBatch], list[Change]]:
    """Split `changes` (in priority order) into at most `max_feeds` feeds within `limits` (items and bytes),
    built by the client (`walmart_client.resources.feeds`: Walmart's feed format is the client's). Returns the
    feeds and the changes left over."""
    if stream == INVENTORY:
        files = inventory_feed_files(
            [(change.sku, int(change.value)) for change in changes],
            max_items=limits.max_items,
            max_bytes=limits.max_bytes,
            max_files=max_feeds,
        )
    else:
        files = price_feed_files(
            [(change.sku, Decimal(change.value)) for change in changes],
            max_items=limits.max_items,
            max_bytes=limits.max_bytes,
            max_files=max_feeds,
        )
    feeds: list[FeedBatch] = []
    position = 0
    for file in files:
        feeds.append(FeedBatch(changes=tuple(changes[position : position + file.item_count]), file=file))
        position += file.item_count
    return feeds, changes[position:]


def feed_payload_items(stream: str, payload: Mapping[str, Any]) -> dict[str, Value]:
    """`{sku: value}` of a stored feed payload (for in-flight checks and confirmations)."""
    if stream == INVENTORY:
        return dict(inventory_feed_quantities(payload))
    return dict(price_feed_prices(payload))


_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _priority(change: Change) -> tuple[int, bool, datetime, int, int]:
    """Urgent first; then the longest due (unknown: last); then decreases; then by listing."""
    since = change.due_since
    decrease = change.confirmed is None or change.value < change.confirmed
    return (
        0 if change.urgent else 1,
        since is None,
        since or _NO_TIME,
        0 if decrease else 1,
        change.listing_id,
    )


def plan_build(
    *,
    stream: str,
    rows: Iterable[SyncRow],
    in_flight: Mapping[str, Value] | None = None,
    blocked: Mapping[int, Value] | None = None,
    single_budget: int,
    feed_slots: int,
    limits: FeedLimits,
    feed_next_in: float | None = None,
) -> SyncPlan:
    """Decide what to send now. `in_flight` is `{sku: value}` already on its way in open feeds; `blocked` is
    `{listing_id: value}` Walmart refused; `single_budget` is how many single-item calls may be made now;
    `feed_slots` how many feeds may be submitted now; `feed_next_in` in how many seconds the next feed may go
    when none may now (None: not known, taken as far off)."""
    in_flight = in_flight or {}
    blocked = blocked or {}
    plan = SyncPlan(stream=stream)
    changes: list[Change] = []
    for row in rows:
        plan.matched_count += 1
        if row.desired is None:
            plan.no_value_count += 1
            continue
        if row.desired == row.confirmed:
            continue
        if in_flight.get(row.sku) == row.desired:
            plan.in_flight_count += 1
            continue
        if blocked.get(row.listing_id) == row.desired:
            plan.blocked_count += 1
            continue
        urgent = stream == INVENTORY and row.desired == 0
        changes.append(Change(row.listing_id, row.sku, row.desired, row.confirmed, urgent, row.due_since))
    changes.sort(key=_priority)
    single_budget = max(single_budget, 0)
    if len(changes) <= single_budget:
        plan.singles = changes
        return plan
    urgent_count = sum(1 for change in changes if change.urgent)
    singles_count = min(urgent_count, single_budget)
    plan.singles = changes[:singles_count]
    rest = changes[singles_count:]
    if feed_slots > 0:
        plan.feeds, rest = feed_batches_build(stream, rest, limits=limits, max_feeds=feed_slots)
    elif feed_next_in is None or feed_next_in > FEED_SOON_SECONDS:
        extra = single_budget - singles_count
        plan.singles += rest[:extra]
        rest = rest[extra:]
    plan.waiting = rest
    return plan
