"""The inventory and price sync: plan, send, poll, confirm, reconcile, resync. One engine for both streams
(`sync.streams`); the pricing app adds the price rule.

Level-triggered (DESIGN.md): every run compares each matched listing's desired value with the value Walmart
last confirmed, so a change made while a feed is in flight is simply picked up by the next run. Every
single-item call is written to the `ItemUpdate` ledger and every feed to `channel_manager.Feed` before it
is sent. Values are absolute, so a resend after an ambiguous failure is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from channel_manager.intents import claim_seconds
from channel_manager.locks import cache_lock
from channel_manager.models import Feed, Store
from channel_manager.walmart import error_text
from channel_manager.work import enqueue_on_commit
from listings.models import Listing
from pricing.selectors import price_rule_values
from sync.due import due_rescan, due_settle
from sync.models import ItemUpdate, StoreSyncSettings, SyncFailure, SyncState, SyncStream
from sync.pacing import (
    CATCH_UP_QUIET_SECONDS,
    FEED_POLL_AFTER_SECONDS,
    Budget,
    budget_compute,
    feed_limits_get,
    feed_poll_next,
    single_call_budget,
)
from sync.planning import (
    FEED_SOON_SECONDS,
    INVENTORY,
    Change,
    FeedBatch,
    SyncPlan,
    Value,
    feed_payload_items,
    plan_build,
    value_parse,
    value_text,
)
from sync.selectors import (
    MATCHED_STATUSES,
    DueSyncRow,
    blocked_values,
    feed_submitted_times,
    in_flight_values,
    matched_listings,
    open_feeds,
    sync_rows,
    sync_rows_due,
    sync_settings_get,
)
from sync.streams import STREAMS, StreamSpec, stream_spec
from walmart_client import WalmartClient
from walmart_client.errors import (
    WalmartAuthError,
    WalmartBadRequest,
    WalmartConnectionError,
    WalmartError,
    WalmartNotFound,
    WalmartRateLimited,
    WalmartServerError,
)
from walmart_client.models import FeedAck, FeedItemResult
from walmart_client.ratelimit import RateLimitInfo

logger = logging.getLogger(__name__)

# A run holds its stream's lock this long past its last step (`_run_lock_renew` re-arms it before each call to
# Walmart): as long as one call can take (`intents.claim_seconds`), so a worker killed mid-run frees the stream
# within a minute or two instead of after Celery's hard time limit.
LOCK_SECONDS = claim_seconds()
NUDGE_DELAY_SECONDS = getattr(settings, "SYNC_NUDGE_DELAY_SECONDS", 2)
# A 5xx or a lost connection on a single-item call pauses single calls this long (no retry storm).
SERVER_ERROR_PAUSE = timedelta(seconds=60)
# A single-item call or a feed upload whose answer is not recorded this long after its in-flight mark is
# "maybe applied": it is resolved by reading Walmart back (well past the HTTP timeout, so never a live call).
SEND_DEADLINE = timedelta(seconds=getattr(settings, "SYNC_SEND_DEADLINE_SECONDS", 120))
# Walmart's clock against ours, when a feed's time on Walmart's list is matched to our in-flight mark.
CLOCK_SKEW = timedelta(seconds=120)
# An open feed not polled for this long is overdue: the sweep queues a run of its store to poll it.
FEED_POLL_OVERDUE = timedelta(seconds=getattr(settings, "SYNC_FEED_POLL_OVERDUE_SECONDS", 90))
# How many ledger rows in flight one run reads back (each is one GET; the rest wait for the next run).
READ_BACK_PER_RUN = 50
_CHUNK = 2000
_OPEN_FEED_STATUSES = (Feed.Status.PENDING, Feed.Status.RECEIVED, Feed.Status.INPROGRESS)
_WALMART_TO_FEED_STATUS = {
    "RECEIVED": Feed.Status.RECEIVED,
    "INPROGRESS": Feed.Status.INPROGRESS,
    "PROCESSED": Feed.Status.PROCESSED,
    "ERROR": Feed.Status.ERROR,
}


def sync_client_get(store: Store) -> WalmartClient:
    """The store's client for planner runs. A 429 or a failure comes straight back (no sleeping, no retry in
    the transport): the run records it, sets the stream's "not before" time on a 429, and the next run (a
    minute later) is the retry."""
    from channel_manager.walmart import walmart_client_for_store

    return walmart_client_for_store(store, max_rate_limit_wait=0, max_retries=0)


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lock_key(store_id: int, stream: str) -> str:
    return f"sync:lock:{store_id}:{stream}"


def _rerun_key(store_id: int, stream: str) -> str:
    return f"sync:rerun:{store_id}:{stream}"


def _nudge_key(store_id: int, stream: str) -> str:
    return f"sync:nudge:{store_id}:{stream}"


def _run_lock_renew(store_id: int, stream: str) -> None:
    """Re-arm the stream's run lock for `LOCK_SECONDS` (before a call to Walmart). Advisory: a cache failure is
    logged, and at worst another run starts when the lock expires (the lock is a latency guard)."""
    try:
        cache.touch(_lock_key(store_id, stream), int(LOCK_SECONDS))
    except Exception:  # noqa: BLE001 - the cache's failures share no base class; see the docstring
        logger.warning("Sync lock of store %s %s not re-armed", store_id, stream, exc_info=True)


def _changed_key(store_id: int, stream: str) -> str:
    return f"sync:changed:{store_id}:{stream}"


def _stream_changed_mark(*, store_id: int, stream: str) -> None:
    """Remember when the stream's catalog last changed (the catch-up feed waits for a quiet minute)."""
    try:
        cache.set(_changed_key(store_id, stream), time.time(), timeout=3600)
    except Exception:  # noqa: BLE001 - advisory: without it the stream counts as quiet
        logger.warning("Last change of store %s %s not recorded", store_id, stream, exc_info=True)


def _stream_last_change(*, store_id: int, stream: str) -> datetime | None:
    """When the stream's catalog last changed, if known (`_stream_changed_mark`)."""
    try:
        moment = cache.get(_changed_key(store_id, stream))
    except Exception:  # noqa: BLE001 - advisory: see _stream_changed_mark
        return None
    return datetime.fromtimestamp(moment, tz=UTC) if isinstance(moment, int | float) else None


def _follow_up_key(store_id: int, stream: str) -> str:
    return f"sync:follow-up:{store_id}:{stream}"


def _tasks_run_inline() -> bool:
    """Tasks run where they are queued (CELERY_TASK_ALWAYS_EAGER, the tests): a countdown is not kept there,
    so a chain of runs or polls queued "in a few seconds" would run at once, here; tests drive runs and
    polls themselves."""
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


# ------------------------------------------------------------------------------------------ planning


@dataclass
class PlannedSync:
    """A plan with the budget it was made under. The preview page shows exactly this. `due` holds the rows of
    the dirty set the plan was made from (empty for a full scan)."""

    store: Store
    stream: str
    plan: SyncPlan
    budget: Budget
    enabled: bool
    planned_at: datetime
    due: list[DueSyncRow] = field(default_factory=list)


def sync_plan(
    *,
    store: Store,
    stream: str,
    client: WalmartClient | None = None,
    now: datetime | None = None,
    incremental: bool = True,
    read_walmart: bool = True,
    rate_limits: Mapping[str, RateLimitInfo] | None = None,
) -> PlannedSync:
    """What a run of `stream` for `store` would send now, without sending or writing anything.

    The dry-run preview and `sync_run` both call this, so the preview is what is then sent. Incremental (the
    default): only the listings of the dirty set are read (`sync.due`), so the cost is the change, not the
    catalog; `incremental=False` reads every matched listing (the reference the property test compares with:
    both plan the same). With a client, the seller's feed limits come from Walmart's partner profile (cached an
    hour; read from Walmart only when `read_walmart`, never by a page) and the single-call budget from the
    client's rate-limit state (or the given `rate_limits`, as a page reads them from the cache); without
    either, the store's settings are used.
    """
    spec = stream_spec(stream)
    now = now or timezone.now()
    sync_settings = sync_settings_get(store=store)
    state = SyncState.objects.filter(store=store, stream=stream).first()
    limits = feed_limits_get(
        store_id=store.pk, spec=spec, sync_settings=sync_settings, client=client if read_walmart else None
    )
    submitted = feed_submitted_times(store=store, stream=stream, since=now - timedelta(seconds=limits.window_seconds))
    if client is not None:
        rate_limit = client.rate_limits.get(spec.single_family)
    else:
        rate_limit = (rate_limits or {}).get(spec.single_family)
    budget = budget_compute(
        spec=spec,
        state=state,
        sync_settings=sync_settings,
        limits=limits,
        submitted=submitted,
        rate_limit=rate_limit,
        now=now,
        last_change=_stream_last_change(store_id=store.pk, stream=stream),
    )
    if incremental:
        due = sync_rows_due(store=store, stream=stream)
        rows = [entry.row for entry in due if entry.row is not None]
        differs = any(row.desired is not None and row.desired != row.confirmed for row in rows)
        # Nothing differs: what is in flight or refused cannot change the plan (and is not read: an idle run
        # costs a few indexed queries whatever the catalog's size).
        in_flight = in_flight_values(store=store, stream=stream, now=now) if differs else {}
        blocked = blocked_values(store=store, stream=stream, due_only=True) if differs else {}
    else:
        due, rows = [], sync_rows(store=store, stream=stream)
        in_flight = in_flight_values(store=store, stream=stream, now=now)
        blocked = blocked_values(store=store, stream=stream)
    plan = plan_build(
        stream=stream,
        rows=rows,
        in_flight=in_flight,
        blocked=blocked,
        single_budget=budget.single_calls,
        feed_slots=budget.feed_slots,
        limits=limits,
        feed_next_in=(budget.feed_next_at - now).total_seconds() if budget.feed_next_at is not None else None,
    )
    return PlannedSync(
        store=store,
        stream=stream,
        plan=plan,
        budget=budget,
        enabled=getattr(store, spec.switch_field),
        planned_at=now,
        due=due,
    )


# A rescan of the whole store in SQL (the dirty set's safety net) at least this often per stream.
RESCAN_EVERY = timedelta(seconds=getattr(settings, "SYNC_RESCAN_SECONDS", 3600))


def sync_due_refresh(*, store: Store, stream: str, now: datetime | None = None) -> bool:
    """Before planning: rescan the store in SQL (`sync.due.due_rescan`) when a store-wide input changed
    (`sync_rescan_request`) or the last rescan is older than `RESCAN_EVERY`. Returns whether it rescanned.
    A request made while the rescan runs is kept for the next run (cleared only at the value read first)."""
    now = now or timezone.now()
    state, _ = SyncState.objects.get_or_create(store=store, stream=stream)
    if state.rescan_requested_at is None and state.rescanned_at is not None and state.rescanned_at > now - RESCAN_EVERY:
        return False
    requested = state.rescan_requested_at
    due_rescan(
        store=store, stream=stream, sync_settings=sync_settings_get(store=store), rule=price_rule_values(store=store)
    )
    SyncState.objects.filter(pk=state.pk).update(rescanned_at=now)
    SyncState.objects.filter(pk=state.pk, rescan_requested_at=requested).update(rescan_requested_at=None)
    return True


def sync_rescan_request(*, store_id: int, streams: Iterable[str]) -> None:
    """A store-wide input of `streams` changed (safety buffer, cap, price rule): the next run of each rescans
    the store. Part of the caller's transaction."""
    now = timezone.now()
    for stream in streams:
        SyncState.objects.update_or_create(
            store_id=store_id, stream=stream_spec(stream).name, defaults={"rescan_requested_at": now}
        )


def sync_due_settle(*, planned: PlannedSync) -> int:
    """Drop from the dirty set the listings the plan found settled (equal, no value, not matched), each only
    if nothing marked it since the plan read it. Returns how many were dropped."""
    return due_settle(marks=[(entry.due_id, entry.generation) for entry in planned.due if entry.settled])


# ------------------------------------------------------------------------------------------ running


@dataclass
class SyncRunResult:
    stream: str
    status: str  # "done", "disabled", "busy", "error"
    singles_sent: int = 0
    singles_failed: int = 0
    feeds_sent: int = 0
    feed_items: int = 0
    feeds_completed: int = 0
    waiting: int = 0
    rate_limited: bool = False
    error: str = ""
    plan: dict[str, int] = field(default_factory=dict)
    wake_at: datetime | None = None  # when Walmart's 429 wait ends, if the run met one
    follow_up_at: datetime | None = None  # when a run can send more of what this one left waiting

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "singles_sent": self.singles_sent,
            "singles_failed": self.singles_failed,
            "feeds_sent": self.feeds_sent,
            "feed_items": self.feed_items,
            "feeds_completed": self.feeds_completed,
            "waiting": self.waiting,
            "rate_limited": self.rate_limited,
            "error": self.error,
            "plan": self.plan,
        }


def sync_run(*, store: Store, stream: str, client: WalmartClient | None = None) -> SyncRunResult:
    """One planner run for `store` and `stream`: poll the stream's open feeds and apply their results, then
    (when the store's switch for the stream is on) send what differs: urgent single-item calls first, then
    at most the feeds the seller's limit allows now.

    Safe to re-run and to run concurrently: one run per store and stream at a time (a Redis lock); a run
    asked for while one is going is done right after it. Never raises for Walmart's answers: errors land
    on the listings, the ledgers and the stream's `SyncState`; a 429 sets the stream's "not before" time.
    """
    spec = stream_spec(stream)
    # The queued run has started: the next change queues a run of its own (were the debounce key kept while
    # this run finds the stream busy, changes would queue nothing until it expired).
    cache.delete(_nudge_key(store.pk, stream))
    with cache_lock(_lock_key(store.pk, stream), LOCK_SECONDS) as held:
        if not held:
            cache.set(_rerun_key(store.pk, stream), 1, LOCK_SECONDS)
            return SyncRunResult(stream=stream, status="busy")
        try:
            client = client if client is not None else sync_client_get(store)
        except Exception as error:  # e.g. an undecryptable secret: recorded, not raised
            logger.exception("No Walmart client for store %s", store.pk)
            SyncState.objects.update_or_create(
                store=store, stream=stream, defaults={"last_error": f"No Walmart client: {type(error).__name__}"}
            )
            return SyncRunResult(stream=stream, status="error", error=f"No Walmart client: {type(error).__name__}")
        result = _sync_run_locked(store=store, spec=spec, client=client)
    if cache.delete(_rerun_key(store.pk, stream)):
        sync_enqueue(store_id=store.pk, stream=stream, countdown=0)
    elif result.rate_limited:
        _run_after_wait(store_id=store.pk, stream=stream, wake_at=result.wake_at)
    elif result.follow_up_at is not None:
        _run_follow_up(store_id=store.pk, stream=stream, at=result.follow_up_at)
    return result


def _sync_run_locked(*, store: Store, spec: StreamSpec, client: WalmartClient) -> SyncRunResult:
    state, _ = SyncState.objects.get_or_create(store=store, stream=spec.name)
    result = SyncRunResult(stream=spec.name, status="done")
    try:
        result.feeds_completed = _open_feeds_poll(store=store, spec=spec, client=client)
    except WalmartError as error:
        logger.warning("Polling %s feeds of store %s failed: %s", spec.name, store.pk, error)
        result.error = f"Feed status: {error_text(error)}"
    item_updates_resolve(store=store, spec=spec, client=client, now=timezone.now())
    if not getattr(store, spec.switch_field):
        result.status = "disabled"
    else:
        sync_due_refresh(store=store, stream=spec.name)
        planned = sync_plan(store=store, stream=spec.name, client=client)
        sync_due_settle(planned=planned)
        result.plan = planned.plan.summary()
        result.waiting = len(planned.plan.waiting)
        _singles_send(store=store, spec=spec, state=state, changes=planned.plan.singles, client=client, result=result)
        _feeds_send(
            store=store,
            spec=spec,
            state=state,
            feeds=planned.plan.feeds,
            budget=planned.budget,
            client=client,
            result=result,
        )
        result.follow_up_at = _follow_up_at(planned=planned, state=state, client=client, result=result)
    state.last_run_at = timezone.now()
    state.last_run_summary = result.summary()
    state.last_error = result.error
    state.save(
        update_fields=[
            "last_run_at",
            "last_run_summary",
            "last_error",
            "single_not_before",
            "feed_not_before",
            "feed_catch_up_at",
        ]
    )
    result.wake_at = min(
        (moment for moment in (state.single_not_before, state.feed_not_before) if moment and moment > timezone.now()),
        default=None,
    )
    return result


# A wait shorter than this gets a run of its own at its end; a longer one is picked up by the minute tick.
WAKE_UP_WITHIN = timedelta(seconds=60)


# A run that left changes waiting while Walmart's single-call budget still has tokens queues the next this soon.
FOLLOW_UP_SECONDS = 1.0


def _follow_up_at(
    *, planned: PlannedSync, state: SyncState, client: WalmartClient, result: SyncRunResult
) -> datetime | None:
    """When a run can send more of what this one left waiting, if within `WAKE_UP_WITHIN` (else the minute's
    tick is as soon). The next feed slot, when it is near enough for the waiting changes to wait for it
    (`plan_build`); otherwise single calls take them: in `FOLLOW_UP_SECONDS` when this run sent some and
    Walmart's bucket has tokens left, else when single calls may go again (a 5xx pause, Walmart's next
    token); or when the catalog will have been quiet long enough for the window's catch-up feed, if sooner.
    None when nothing waits, or after a 429 (`_run_after_wait` queues that run)."""
    plan, budget = planned.plan, planned.budget
    if not plan.waiting or result.rate_limited:
        return None
    now = timezone.now()
    feed_at = budget.feed_next_at
    if budget.feed_slots == 0 and feed_at is not None and feed_at <= now + timedelta(seconds=FEED_SOON_SECONDS):
        return max(feed_at, now)
    spec = stream_spec(planned.stream)
    rate_limit = client.rate_limits.get(spec.single_family)
    singles, _, _ = single_call_budget(
        rate_limit=rate_limit,
        per_run_cap=sync_settings_get(store=planned.store).single_calls_per_tick,
        not_before=state.single_not_before,
        now=now,
    )
    if singles > 0 and result.singles_sent > 0:
        moment: datetime | None = now + timedelta(seconds=FOLLOW_UP_SECONDS)
    elif state.single_not_before is not None and state.single_not_before > now:
        moment = state.single_not_before
    elif rate_limit is not None and rate_limit.next_replenish_at is not None and rate_limit.next_replenish_at > now:
        moment = rate_limit.next_replenish_at
    else:
        moment = None
    catch_up_at = _catch_up_due_at(planned=planned, state=state, result=result, now=now)
    if catch_up_at is not None and (moment is None or catch_up_at < moment):
        moment = catch_up_at
    return moment if moment is not None and moment <= now + WAKE_UP_WITHIN else None


def _catch_up_due_at(
    *, planned: PlannedSync, state: SyncState, result: SyncRunResult, now: datetime
) -> datetime | None:
    """When the stream's catalog will have been quiet `CATCH_UP_QUIET_SECONDS` (the window's catch-up feed may
    then take what waits), if that is still ahead and the window's catch-up feed is unspent."""
    window = timedelta(seconds=planned.budget.limits.window_seconds)
    if result.feeds_sent or (state.feed_catch_up_at is not None and state.feed_catch_up_at > now - window):
        return None
    last_change = _stream_last_change(store_id=planned.store.pk, stream=planned.stream)
    if last_change is None:
        return None
    quiet_at = last_change + timedelta(seconds=CATCH_UP_QUIET_SECONDS)
    return quiet_at if quiet_at > now else None


def _run_follow_up(*, store_id: int, stream: str, at: datetime) -> None:
    """Queue the stream's next run for `at` (one such run queued at a time per store and stream; a change
    made meanwhile still queues its own run, `sync_enqueue`)."""
    from channel_manager.work import enqueue
    from sync.tasks import sync_run_task

    if _tasks_run_inline():
        return
    countdown = max((at - timezone.now()).total_seconds(), 0.0)
    try:
        first = cache.add(_follow_up_key(store_id, stream), 1, timeout=max(1, int(countdown + 0.999)))
    except Exception:  # noqa: BLE001 - Redis down: the minute's tick runs the stream
        logger.warning("Follow-up run of store %s %s not queued", store_id, stream, exc_info=True)
        return
    if first:
        enqueue(sync_run_task, store_id, stream, countdown=countdown)


def _run_after_wait(*, store_id: int, stream: str, wake_at: datetime | None) -> None:
    """After a 429, queue the stream's next run for when Walmart's wait is over (a countdown: no worker
    sleeps through Walmart's budget)."""
    from channel_manager.work import enqueue
    from sync.tasks import sync_run_task

    wait = (wake_at - timezone.now()) if wake_at else None
    if wait is not None and timedelta(0) < wait <= WAKE_UP_WITHIN:
        enqueue(sync_run_task, store_id, stream, countdown=wait.total_seconds())


def _listing_confirm(*, spec: StreamSpec, listing_ids: list[int], value: Value, at: datetime) -> None:
    for chunk in _chunks(listing_ids):
        Listing.objects.filter(pk__in=chunk).update(
            **{spec.confirmed_field: value, spec.confirmed_at_field: at, spec.error_field: ""}
        )
        SyncFailure.objects.filter(listing_id__in=chunk, stream=spec.name).delete()


def _listing_errors_record(
    *, spec: StreamSpec, errors: dict[int, tuple[str, Value | None]], blocking: bool, at: datetime
) -> None:
    """Write Walmart's message on each listing; for data errors also remember the refused value."""
    by_message: dict[str, list[int]] = defaultdict(list)
    for listing_id, (message, _value) in errors.items():
        by_message[message].append(listing_id)
    for message, ids in by_message.items():
        for chunk in _chunks(ids):
            Listing.objects.filter(pk__in=chunk).update(**{spec.error_field: message})
    if blocking and errors:
        SyncFailure.objects.bulk_create(
            [
                SyncFailure(
                    listing_id=listing_id, stream=spec.name, value=value_text(value), message=message, created_at=at
                )
                for listing_id, (message, value) in errors.items()
                if value is not None
            ],
            update_conflicts=True,
            unique_fields=["listing", "stream"],
            update_fields=["value", "message", "created_at"],
            batch_size=_CHUNK,
        )


def _single_call(*, spec: StreamSpec, client: WalmartClient, change: Change) -> None:
    if spec.name == INVENTORY:
        client.inventory.update(change.sku, int(change.value))
    else:
        client.prices.update(change.sku, change.value)


@dataclass(frozen=True, slots=True)
class _SingleOutcome:
    """Walmart's answer to one single-item call, as the ledger and the listing record it."""

    status: str
    error_text: str = ""
    correlation_id: str = ""
    stop: bool = False
    data_error: bool = False
    retry_later: bool = False


def _single_outcome(
    *, spec: StreamSpec, state: SyncState, client: WalmartClient, change: Change, result: SyncRunResult
) -> _SingleOutcome:
    """Make the call and classify the answer. Only Walmart's errors are caught: anything else (a database or
    Redis error) propagates and leaves the ledger row in flight for the read-back."""
    try:
        _single_call(spec=spec, client=client, change=change)
    except WalmartRateLimited as error:
        state.single_not_before = timezone.now() + timedelta(seconds=max(error.retry_after, 1.0))
        result.rate_limited = True
        return _SingleOutcome(ItemUpdate.Status.RATE_LIMITED, error_text(error), error.correlation_id or "", True)
    except (WalmartBadRequest, WalmartNotFound, ValueError) as error:
        correlation_id = getattr(error, "correlation_id", None) or ""
        return _SingleOutcome(ItemUpdate.Status.FAILED, error_text(error), correlation_id, data_error=True)
    except WalmartAuthError as error:
        result.error = f"Walmart refused the credentials: {error_text(error)}"
        return _SingleOutcome(ItemUpdate.Status.FAILED, error_text(error), error.correlation_id or "", True)
    except WalmartError as error:  # 5xx, lost connection, unreadable answer: pause, resend later
        state.single_not_before = timezone.now() + SERVER_ERROR_PAUSE
        result.error = f"Single {spec.name} update failed: {error_text(error)}"
        return _SingleOutcome(
            ItemUpdate.Status.FAILED, error_text(error), error.correlation_id or "", True, retry_later=True
        )
    return _SingleOutcome(ItemUpdate.Status.SUCCEEDED)


def _item_update_row(*, store: Store, spec: StreamSpec, change: Change, **fields: Any) -> ItemUpdate:
    return ItemUpdate(
        store=store,
        stream=spec.name,
        listing_id=change.listing_id,
        sku=change.sku,
        value=value_text(change.value),
        **fields,
    )


def _item_update_start(*, store: Store, spec: StreamSpec, change: Change) -> ItemUpdate:
    """The ledger row of one call, written IN_FLIGHT with its attempt id and time, committed before the call
    (the run is not inside a transaction; `transaction.atomic` makes this its own)."""
    row = _item_update_row(
        store=store,
        spec=spec,
        change=change,
        status=ItemUpdate.Status.IN_FLIGHT,
        attempt_id=uuid.uuid4(),
        in_flight_since=timezone.now(),
    )
    with transaction.atomic():
        row.save(force_insert=True)
    return row


def _item_update_finish(*, row: ItemUpdate, spec: StreamSpec, change: Change, outcome: _SingleOutcome) -> bool:
    """Record the answer of `row`'s attempt and its effect on the listing, in one transaction. Conditional on
    the row still being in flight with this attempt: False (nothing written) when a read-back resolved it."""
    now = timezone.now()
    with transaction.atomic():
        recorded = ItemUpdate.objects.filter(
            pk=row.pk, status=ItemUpdate.Status.IN_FLIGHT, attempt_id=row.attempt_id
        ).update(
            status=outcome.status,
            error=outcome.error_text,
            correlation_id=outcome.correlation_id[:64],
            completed_at=now,
        )
        if not recorded:
            return False
        if outcome.status == ItemUpdate.Status.SUCCEEDED:
            _listing_confirm(spec=spec, listing_ids=[change.listing_id], value=change.value, at=now)
        elif outcome.data_error:
            _listing_errors_record(
                spec=spec, errors={change.listing_id: (outcome.error_text, change.value)}, blocking=True, at=now
            )
        elif outcome.retry_later:
            Listing.objects.filter(pk=change.listing_id).update(
                **{spec.error_field: f"{outcome.error_text} (will retry)"}
            )
    return True


def _singles_send(
    *,
    store: Store,
    spec: StreamSpec,
    state: SyncState,
    changes: list[Change],
    client: WalmartClient,
    result: SyncRunResult,
) -> None:
    """Send single-item updates in order, each marked in flight in the ledger (committed) before its call and
    marked with the answer after it. Stops at the first 429 (the stream's single calls then wait Walmart's
    time; a run is queued for then), 5xx, lost connection or auth failure; the changes not sent are recorded
    NOT_SENT (final: the planner plans them again). A crash anywhere leaves at most the current row in flight,
    which the read-back resolves (`item_updates_resolve`)."""
    for position, change in enumerate(changes):
        _run_lock_renew(store.pk, spec.name)
        row = _item_update_start(store=store, spec=spec, change=change)
        outcome = _single_outcome(spec=spec, state=state, client=client, change=change, result=result)
        _item_update_finish(row=row, spec=spec, change=change, outcome=outcome)
        if outcome.status == ItemUpdate.Status.SUCCEEDED:
            result.singles_sent += 1
        else:
            result.singles_failed += 1
        if outcome.stop:
            rest = changes[position + 1 :]
            ItemUpdate.objects.bulk_create(
                [
                    _item_update_row(
                        store=store,
                        spec=spec,
                        change=other,
                        status=ItemUpdate.Status.NOT_SENT,
                        error=f"Not sent: {outcome.status}",
                        completed_at=timezone.now(),
                    )
                    for other in rest
                ],
                batch_size=_CHUNK,
            )
            return


def _feeds_send(
    *,
    store: Store,
    spec: StreamSpec,
    state: SyncState,
    feeds: list[FeedBatch],
    budget: Budget,
    client: WalmartClient,
    result: SyncRunResult,
) -> None:
    """Submit the planned feeds. Each is first recorded as a PENDING `Feed` row, committed before the upload:
    the row (its id is the attempt: a feed row is never uploaded twice) with its time is the in-flight mark,
    and it counts against the seller's feed limit until Walmart's answer says it was not taken. A 429 sets
    the stream's feed "not before" time to Walmart's wait; a refusal (4xx) marks the feed ERROR and waits one
    feed spacing before the items (planned again) go in a new feed. A 5xx or a lost answer, like a crash after
    the mark, leaves the row PENDING without a Walmart id: `feeds_unacknowledged_resolve` reads Walmart's feed
    list back for it after SEND_DEADLINE (found: polled; not found: its items go in the next feed). A feed
    Walmart took is polled early (`sync_feed_poll_task`)."""
    from channel_manager.work import enqueue
    from sync.tasks import sync_feed_poll_task

    for batch in feeds:
        _run_lock_renew(store.pk, spec.name)
        with transaction.atomic():
            feed = Feed.objects.create(
                store=store,
                feed_type=spec.feed_type,
                status=Feed.Status.PENDING,
                item_count=len(batch.changes),
                payload=batch.payload,
                submitted_at=timezone.now(),
            )
        if budget.catch_up:
            state.feed_catch_up_at = feed.submitted_at  # the window's catch-up feed is spent, whatever the answer
        try:
            ack = client.feeds.submit(
                feed_type=spec.feed_type, payload=batch.payload, max_items=max(budget.limits.max_items, 1)
            )
        except WalmartRateLimited as error:
            state.feed_not_before = timezone.now() + timedelta(seconds=max(error.retry_after, 1.0))
            result.rate_limited = True
            _feed_fail(feed, error, counted=False)
            return
        except WalmartError as error:
            result.error = f"{spec.label} feed: {error_text(error)}"
            maybe_received = (
                error.request_sent if isinstance(error, WalmartConnectionError) else (error.status or 0) >= 500
            )
            if maybe_received:
                # Walmart may have taken it (a 5xx, or the answer lost): like an upload whose process died, the
                # row stays in flight (PENDING, no Walmart id, counted against the limit, its items not planned)
                # and `feeds_unacknowledged_resolve` reads Walmart's feed list back after SEND_DEADLINE: found,
                # it is polled; not found, its items go in the next feed, with no slot lost to this one.
                Feed.objects.filter(pk=feed.pk, status=Feed.Status.PENDING, walmart_feed_id__isnull=True).update(
                    error=f"{error_text(error)} (Walmart may have received it: its feed list is read back)"[:2000],
                    correlation_id=(getattr(error, "correlation_id", None) or "")[:64],
                )
                return
            # Refused: not resent before the next feed slot (no retry storm on a 4xx).
            _feed_fail(feed, error, counted=False)
            state.feed_not_before = timezone.now() + timedelta(seconds=max(budget.limits.spacing_seconds, 60.0))
            return
        _feed_acknowledged(feed=feed, ack=ack)
        result.feeds_sent += 1
        result.feed_items += len(batch.changes)
        if not _tasks_run_inline():
            enqueue(sync_feed_poll_task, feed.pk, 0, countdown=FEED_POLL_AFTER_SECONDS[0])


def _feed_acknowledged(*, feed: Feed, ack: FeedAck) -> None:
    """Record Walmart's feed id (the write after the upload; if it never happens the read-back finds it)."""
    Feed.objects.filter(pk=feed.pk, status=Feed.Status.PENDING, walmart_feed_id__isnull=True).update(
        walmart_feed_id=ack.feed_id,
        status=Feed.Status.RECEIVED,
        submitted_at=timezone.now(),
        correlation_id=(ack.correlation_id or "")[:64],
    )


def _feed_fail(feed: Feed, error: Exception, *, counted: bool) -> None:
    now = timezone.now()
    Feed.objects.filter(pk=feed.pk).update(
        status=Feed.Status.ERROR,
        error=error_text(error),
        correlation_id=(getattr(error, "correlation_id", None) or "")[:64],
        submitted_at=now if counted else None,
        completed_at=now,
    )


# ------------------------------------------------------------------------------------------ feed results


def _open_feeds_poll(*, store: Store, spec: StreamSpec, client: WalmartClient) -> int:
    """Poll every open feed of the stream (oldest first); returns how many completed. Feed rows left
    PENDING without a Walmart id past the deadline (the process died while sending, or the answer was lost)
    are first resolved by reading Walmart's feed list back (`feeds_unacknowledged_resolve`)."""
    now = timezone.now()
    feeds_unacknowledged_resolve(store=store, spec=spec, client=client, now=now)
    completed = 0
    for feed in open_feeds(store=store, stream=spec.name).filter(walmart_feed_id__isnull=False).order_by("created_at"):
        _run_lock_renew(store.pk, spec.name)
        completed += _feed_poll_or_close(feed=feed, client=client)
    return completed


def _feed_poll_or_close(*, feed: Feed, client: WalmartClient) -> bool:
    """`feed_poll`; a feed id Walmart does not know is closed ERROR (its items are planned again)."""
    try:
        return feed_poll(feed=feed, client=client)
    except WalmartNotFound as error:
        Feed.objects.filter(pk=feed.pk, status__in=_OPEN_FEED_STATUSES).update(
            status=Feed.Status.ERROR,
            error=f"Unknown to Walmart: {error_text(error)}"[:2000],
            completed_at=timezone.now(),
        )
        return False


def sync_feed_poll(*, feed_id: int, step: int = 0) -> tuple[int, float] | None:
    """Early poll number `step` of one just-submitted feed (`sync_feed_poll_task`, `FEED_POLL_AFTER_SECONDS`
    after its submission): read its status and, once Walmart has processed it, apply its results and queue a
    run of the stream (which sends what the results left to send). Under the stream's lock, like a run (a
    feed's results and a run's single calls are never applied out of order); when a run holds it, that run
    is asked to run again, and polls the feed then. Returns the next early poll (its number, seconds until
    it), or None: the feed is done, or the minute's run polls it from now on. Safe to re-run; never raises
    for Walmart's answers."""
    feed = Feed.objects.select_related("store").filter(pk=feed_id).first()
    if feed is None or not feed.is_open or not feed.walmart_feed_id or feed.submitted_at is None:
        return None
    spec = _stream_of_feed(feed)
    store = feed.store
    completed = False
    with cache_lock(_lock_key(store.pk, spec.name), LOCK_SECONDS) as held:
        if not held:
            cache.set(_rerun_key(store.pk, spec.name), 1, LOCK_SECONDS)
        else:
            try:
                completed = _feed_poll_or_close(feed=feed, client=sync_client_get(store))
            except WalmartError as error:
                logger.warning("Early poll of feed %s failed; polled again later: %s", feed.pk, error)
    if completed:
        sync_enqueue(store_id=store.pk, stream=spec.name, countdown=0)
        return None
    return feed_poll_next(step=step, submitted_at=feed.submitted_at, now=timezone.now())


def feed_poll(*, feed: Feed, client: WalmartClient) -> bool:
    """Read one feed's status from Walmart (`GET /v3/feeds/{feedId}`); once Walmart has processed every
    item, read the per-item results and apply them to the listings. Returns True when the feed completed.
    Safe to re-run (a completed feed is left alone). Raises WalmartError when Walmart cannot be read."""
    if not feed.is_open or not feed.walmart_feed_id:
        return False
    status = client.feeds.status(feed.walmart_feed_id, include_details=False)
    walmart_status = (status.feed_status or "").upper()
    done = walmart_status in {"PROCESSED", "ERROR"} and not status.items_processing
    counts = {
        "items_received": status.items_received or 0,
        "items_succeeded": status.items_succeeded or 0,
        "items_failed": status.items_failed or 0,
        "items_processing": status.items_processing or 0,
        "last_polled_at": timezone.now(),
    }
    if not done:
        counts["status"] = (
            Feed.Status.INPROGRESS
            if walmart_status == "PROCESSED"
            else _WALMART_TO_FEED_STATUS.get(walmart_status, Feed.Status.INPROGRESS)
        )
        Feed.objects.filter(pk=feed.pk).update(**counts)
        return False
    results = list(client.feeds.iter_item_results(feed.walmart_feed_id)) if status.items_received else []
    feed_error = "; ".join(str(error) for error in status.ingestion_errors)
    with transaction.atomic():
        # Closed first, conditionally (the row stays locked to the commit): results are applied once, by
        # whoever closes the feed.
        closed = Feed.objects.filter(pk=feed.pk, status__in=_OPEN_FEED_STATUSES).update(
            **counts,
            status=_WALMART_TO_FEED_STATUS[walmart_status],
            error=feed_error[:2000],
            completed_at=timezone.now(),
        )
        if not closed:
            return False
        feed_results_apply(feed=feed, results=results, feed_failed=walmart_status == "ERROR", feed_error=feed_error)
    return True


# ------------------------------------------------------------------------------------------ in flight


def feeds_unacknowledged_resolve(*, store: Store, spec: StreamSpec, client: WalmartClient, now: datetime) -> int:
    """Resolve the stream's feed rows left PENDING without a Walmart feed id past `SEND_DEADLINE` (the upload
    may or may not have reached Walmart). Walmart's feed list (`GET /v3/feeds`, newest first) is read back:
    a feed of this type that Walmart received between the row's in-flight mark and its deadline, and that no
    row of ours holds, is this upload (its answer was lost): the row takes its feed id and is polled as usual.
    Without one, Walmart never took it: the row ends ERROR and its items are planned again. Returns how many
    rows were resolved. Raises WalmartError (nothing written) when the list cannot be read. Safe to re-run and
    concurrently (each write is conditional on the row still being PENDING without an id)."""
    overdue = list(
        open_feeds(store=store, stream=spec.name)
        .filter(status=Feed.Status.PENDING, walmart_feed_id__isnull=True, created_at__lt=now - SEND_DEADLINE)
        .order_by("created_at")
        .values_list("pk", "created_at", "item_count")
    )
    if not overdue:
        return 0
    oldest = overdue[0][1] - CLOCK_SKEW
    listed = []
    for summary in client.feeds.iter_all():
        if summary.feed_date is not None and summary.feed_date < oldest:
            break
        if (summary.feed_type or "").lower() == spec.feed_type.lower() and summary.feed_id:
            listed.append(summary)
    known = set(
        Feed.objects.filter(store=store, walmart_feed_id__in=[summary.feed_id for summary in listed]).values_list(
            "walmart_feed_id", flat=True
        )
    )
    candidates = [summary for summary in listed if summary.feed_id not in known]
    resolved = 0
    for pk, marked_at, item_count in overdue:
        found = [
            (summary, summary.feed_date)
            for summary in candidates
            if summary.feed_date is not None
            and marked_at - CLOCK_SKEW <= summary.feed_date <= marked_at + SEND_DEADLINE + CLOCK_SKEW
            and summary.items_received in (0, item_count)
        ]
        rows = Feed.objects.filter(pk=pk, status=Feed.Status.PENDING, walmart_feed_id__isnull=True)
        if found:
            match, _ = min(found, key=lambda pair: abs(pair[1] - marked_at))
            candidates.remove(match)
            resolved += rows.update(
                walmart_feed_id=match.feed_id,
                status=Feed.Status.RECEIVED,
                submitted_at=match.feed_date,
                error="Walmart's answer to the upload was lost; found on its feed list.",
            )
        else:
            resolved += rows.update(
                status=Feed.Status.ERROR,
                error="Not on Walmart's feed list: never received; its items are planned again.",
                submitted_at=None,
                completed_at=timezone.now(),
            )
    return resolved


def _walmart_value_read(*, spec: StreamSpec, client: WalmartClient, sku: str) -> Value | None:
    """What Walmart holds for one SKU now: its quantity (`inputQty`, `GET /v3/inventory`) or its price
    (`GET /v3/items/{sku}`); None when Walmart shows no price."""
    if spec.name == INVENTORY:
        return int(client.inventory.get(sku).quantity or 0)
    price = client.items.get(sku).price
    return value_parse(spec.name, price) if price is not None else None


def item_updates_resolve(*, store: Store, spec: StreamSpec, client: WalmartClient, now: datetime) -> int:
    """Resolve the stream's ledger rows still in flight past `SEND_DEADLINE` by reading each SKU back from
    Walmart: the value it holds is the value sent -> SUCCEEDED; another value -> FAILED (not applied, or
    replaced since). Either way the listing's confirmed value becomes what Walmart holds, unless something
    confirmed the listing after the attempt started; so the planner sends the desired value again only when it
    differs from Walmart's (re-sending an absolute value is harmless). Stops at the first read that fails for
    another reason than an unknown SKU (left for the next run). Returns how many rows were resolved."""
    deadline = now - SEND_DEADLINE
    rows = list(
        ItemUpdate.objects.filter(store=store, stream=spec.name, status__in=ItemUpdate.OPEN_STATUSES)
        .filter(Q(in_flight_since__lt=deadline) | Q(in_flight_since__isnull=True, created_at__lt=deadline))
        .order_by("id")[:READ_BACK_PER_RUN]
    )
    resolved = 0
    for row in rows:
        _run_lock_renew(store.pk, spec.name)
        try:
            remote = _walmart_value_read(spec=spec, client=client, sku=row.sku)
        except WalmartNotFound as error:
            remote, unknown = None, error_text(error)
        except WalmartError as error:
            logger.warning("Reading %s of %s back failed; the next run retries: %s", spec.name, row.sku, error)
            break
        else:
            unknown = ""
        sent = value_parse(spec.name, row.value)
        applied = remote == sent
        if applied:
            status, text = ItemUpdate.Status.SUCCEEDED, "Answer lost; Walmart holds the value (read back)."
        elif unknown:
            status, text = ItemUpdate.Status.FAILED, f"Answer lost; Walmart does not know the SKU: {unknown}"
        else:
            shown = value_text(remote) if remote is not None else "nothing"
            status, text = ItemUpdate.Status.FAILED, f"Answer lost; not applied: Walmart holds {shown} (read back)."
        started = row.in_flight_since or row.created_at
        at = timezone.now()
        with transaction.atomic():
            changed = ItemUpdate.objects.filter(pk=row.pk, status=row.status, attempt_id=row.attempt_id).update(
                status=status, error=text, completed_at=at
            )
            if changed and row.listing_id is not None and not unknown:
                listing = Listing.objects.filter(pk=row.listing_id).filter(
                    Q(**{f"{spec.confirmed_at_field}__isnull": True}) | Q(**{f"{spec.confirmed_at_field}__lt": started})
                )
                if applied:
                    if listing.exists():
                        _listing_confirm(spec=spec, listing_ids=[row.listing_id], value=sent, at=at)
                else:
                    listing.update(
                        **{spec.confirmed_field: remote, spec.confirmed_at_field: at if remote is not None else None}
                    )
        resolved += changed
    return resolved


def sync_sweep(now: datetime) -> int:
    """The sync's sweep (registered with `channel_manager.work.sweep_register`, run every minute): queue a
    run of every store and stream that has a single-item call or a feed upload in flight past its deadline,
    or an open feed not polled for `FEED_POLL_OVERDUE`. The run reads Walmart back and resolves them before
    it plans anything. Queued directly (no debounce: a task lost with Redis must not be waited for). Returns
    how many runs were queued. Safe to run twice and concurrently (a run is one per store and stream)."""
    from channel_manager.work import enqueue
    from sync.tasks import sync_run_task

    deadline = now - SEND_DEADLINE
    due: set[tuple[int, str]] = set(
        ItemUpdate.objects.filter(status__in=ItemUpdate.OPEN_STATUSES, created_at__lt=deadline)
        .values_list("store_id", "stream")
        .distinct()
    )
    stream_of = {spec.feed_type: spec.name for spec in STREAMS.values()}
    feeds = Feed.objects.filter(feed_type__in=list(stream_of)).filter(
        Q(status=Feed.Status.PENDING, created_at__lt=deadline)
        | Q(status__in=[Feed.Status.RECEIVED, Feed.Status.INPROGRESS])
        & (
            Q(last_polled_at__lt=now - FEED_POLL_OVERDUE)
            | Q(last_polled_at__isnull=True, created_at__lt=now - FEED_POLL_OVERDUE)
        )
    )
    due |= {(store_id, stream_of[feed_type]) for store_id, feed_type in feeds.values_list("store_id", "feed_type")}
    return sum(enqueue(sync_run_task, store_id, stream) for store_id, stream in sorted(due))


@dataclass(frozen=True)
class FeedResultCounts:
    confirmed: int
    data_errors: int
    other_errors: int


def _stream_of_feed(feed: Feed) -> StreamSpec:
    for spec in STREAMS.values():
        if spec.feed_type == feed.feed_type:
            return spec
    raise ValueError(f"Feed {feed.pk} is a {feed.feed_type} feed, not an inventory or price feed.")


def _listings_confirmed_since(*, spec: StreamSpec, listing_ids: list[int], since: datetime) -> dict[int, Value | None]:
    """`{listing_id: confirmed value}` of the given listings confirmed after `since`."""
    found: dict[int, Value | None] = {}
    for chunk in _chunks(listing_ids):
        found.update(
            Listing.objects.filter(pk__in=chunk, **{f"{spec.confirmed_at_field}__gt": since}).values_list(
                "pk", spec.confirmed_field
            )
        )
    return found


def _listing_ids_by_sku(*, store_id: int, skus: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(skus):
        found.update(Listing.objects.filter(store_id=store_id, walmart_sku__in=chunk).values_list("walmart_sku", "pk"))
    return found


def feed_results_apply(
    *, feed: Feed, results: Iterable[FeedItemResult], feed_failed: bool = False, feed_error: str = ""
) -> FeedResultCounts:
    """Apply Walmart's per-item results of a processed feed: a SUCCESS confirms the listing with the value
    that feed sent; a DATA_ERROR writes Walmart's message on the listing and remembers the refused value (not
    resent until it changes); a SYSTEM_ERROR / TIMEOUT_ERROR writes the message and the value is resent by a
    later run. When the whole feed failed, every item without a result gets the feed's error. Safe to re-run.

    A listing confirmed with another value after this feed was recorded (a newer single call, a newer feed,
    a read-back) is the newest value's: the feed's outcome for it is not applied. A success then leaves
    Walmart holding either value (Walmart may have applied the feed before or after the newer call), so the
    listing's confirmed value becomes unknown and the planner sends the desired value again (one extra call
    at worst; never the older feed's value believed, never the newer one believed when the feed overwrote it).
    """
    spec = _stream_of_feed(feed)
    sent = feed_payload_items(spec.name, feed.payload)
    listing_ids = _listing_ids_by_sku(store_id=feed.store_id, skus=list(sent))
    newer = _listings_confirmed_since(spec=spec, listing_ids=list(listing_ids.values()), since=feed.created_at)
    now = timezone.now()
    confirmed: dict[Value, list[int]] = defaultdict(list)
    overtaken: list[int] = []
    data_errors: dict[int, tuple[str, Value | None]] = {}
    other_errors: dict[int, tuple[str, Value | None]] = {}
    seen: set[str] = set()
    for item in results:
        sku = item.sku
        if sku not in sent or sku not in listing_ids:
            continue
        seen.add(sku)
        item_status = (item.status or "").upper()
        listing_id, value = listing_ids[sku], sent[sku]
        message = "; ".join(str(error) for error in item.errors) or item_status
        if listing_id in newer and newer[listing_id] != value:
            if item_status == "SUCCESS":
                overtaken.append(listing_id)
            continue
        if item_status == "SUCCESS":
            confirmed[value].append(listing_id)
        elif item_status == "DATA_ERROR":
            data_errors[listing_id] = (f"Walmart refused {value_text(value)}: {message}", value)
        elif item_status in {"SYSTEM_ERROR", "TIMEOUT_ERROR"}:
            other_errors[listing_id] = (f"{message} (will retry)", value)
    if feed_failed:
        text = f"Feed {feed.walmart_feed_id} failed: {feed_error or 'Walmart reported ERROR'} (will retry)"
        for sku in sent.keys() - seen:
            if sku in listing_ids and listing_ids[sku] not in newer:
                other_errors[listing_ids[sku]] = (text, sent[sku])
    for value, ids in confirmed.items():
        _listing_confirm(spec=spec, listing_ids=ids, value=value, at=now)
    for chunk in _chunks(overtaken):
        # Unknown is always safe (at worst the desired value is sent once more).
        Listing.objects.filter(pk__in=chunk, **{f"{spec.confirmed_at_field}__gt": feed.created_at}).update(
            **{spec.confirmed_field: None, spec.confirmed_at_field: None}
        )
    _listing_errors_record(spec=spec, errors=data_errors, blocking=True, at=now)
    _listing_errors_record(spec=spec, errors=other_errors, blocking=False, at=now)
    return FeedResultCounts(
        confirmed=sum(len(ids) for ids in confirmed.values()),
        data_errors=len(data_errors),
        other_errors=len(other_errors),
    )


# ------------------------------------------------------------------------------------------ reconciliation


@dataclass
class ReconcileResult:
    stream: str
    checked: int = 0
    drifted: int = 0
    missing_on_walmart: int = 0
    skipped_in_flight: int = 0
    error: str = ""
    pages: int = 0
    status: str = "done"  # "done" (the pass is complete), "continues" (resume after `resume_after` s), "busy"
    resume_after: float | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "drifted": self.drifted,
            "missing_on_walmart": self.missing_on_walmart,
            "skipped_in_flight": self.skipped_in_flight,
            "error": self.error,
            "pages": self.pages,
            "status": self.status,
        }


# One reconciliation task reads pages for at most this long, then queues its continuation (other work of
# the sync queue runs in between); a 429 or a 5xx ends the slice at once, to resume after Walmart's wait.
RECONCILE_SLICE_SECONDS = getattr(settings, "SYNC_RECONCILE_SLICE_SECONDS", 50)
RECONCILE_RETRY_SECONDS = 60
_RECONCILE_COUNTS = ("checked", "drifted", "missing_on_walmart", "skipped_in_flight", "pages")


def _reconcile_page(*, spec: StreamSpec, client: WalmartClient, cursor: str | None) -> tuple[dict, str | None]:
    """One page of what Walmart holds (`GET /v3/inventories`: inputQty summed over ship nodes, like what we
    send; or `GET /v3/items`: the price) as `{sku: value}`, and the next page's cursor (None: last page)."""
    values: dict[str, Value] = {}
    if spec.name == INVENTORY:
        inventories, next_cursor = client.inventory.page(cursor=cursor)
        for inventory in inventories:
            values[inventory.sku] = int(values.get(inventory.sku, 0)) + int(inventory.quantity or 0)
    else:
        items, next_cursor = client.items.page(cursor=cursor or "*")
        values.update((item.sku, value_parse(spec.name, item.price)) for item in items if item.price is not None)
    return values, next_cursor


def _drift_write(*, spec: StreamSpec, drift: dict[Value | None, list[int]]) -> None:
    now = timezone.now()
    for value, ids in drift.items():
        for chunk in _chunks(ids):
            Listing.objects.filter(pk__in=chunk).update(
                **{
                    spec.confirmed_field: value,
                    spec.confirmed_at_field: now if value is not None else None,
                    spec.drift_field: now,
                }
            )


def _reconcile_compare(
    *, rows: Iterable, remote: dict, in_flight: dict, read_at: datetime, result: ReconcileResult
) -> dict[Value | None, list[int]]:
    """Drift among `rows` (pk, sku, confirmed, confirmed at): Walmart holds another value than the one it
    confirmed (None: Walmart holds nothing). Values in flight, or confirmed after `read_at`, are skipped."""
    drift: dict[Value | None, list[int]] = defaultdict(list)
    for pk, sku, confirmed, confirmed_at in rows:
        result.checked += 1
        if sku in in_flight:
            result.skipped_in_flight += 1
            continue
        if confirmed_at is not None and confirmed_at >= read_at:
            continue
        remote_value = remote.get(sku)
        if remote_value == confirmed:
            continue
        result.missing_on_walmart += remote_value is None
        result.drifted += 1
        drift[remote_value].append(pk)
    return drift


def _seen_set(store_id: int, stream: str, started: str) -> tuple[Any, str]:
    """The Redis set of the SKUs Walmart listed during one pass (to find the listings it does not hold)."""
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]  # Django's RedisCache
    return client, cache.make_key(f"sync:reconcile-seen:{store_id}:{stream}:{started}")


def sync_reconcile(
    *, store: Store, stream: str, client: WalmartClient | None = None, slice_seconds: float | None = None
) -> ReconcileResult:
    """Read back what Walmart holds (`GET /v3/inventories`: inputQty, the units it counts including those sold
    and not shipped, i.e. what the product sends; or `GET /v3/items`: the price) page by page, and compare
    each page at once with what the listings say Walmart confirmed. A difference is drift: the listing's drift
    time is set and its confirmed value becomes what Walmart holds, so the next run re-asserts the catalog's
    value where it differs, zero stock first. At the end of the pass, matched listings Walmart did not list
    are drift too (confirmed value emptied). Values in flight, or confirmed after their page was read, are
    skipped. Then a run is queued.

    Never waits for Walmart's rate limit: the pass is cut in slices (at most `slice_seconds` of reading, or
    until a 429 / 5xx); the cursor and the counts so far are kept on the stream's `SyncState`, and the result
    says when to go on (`status="continues"`, `resume_after` seconds: `sync_reconcile_task` queues itself with
    that countdown). One slice per store and stream at a time (`status="busy"` otherwise). Raises WalmartError
    for another refusal (the pass then starts over next time)."""
    spec = stream_spec(stream)
    result = ReconcileResult(stream=stream)
    with cache_lock(f"sync:reconcile-lock:{store.pk}:{stream}", RECONCILE_SLICE_SECONDS + 120) as held:
        if not held:
            result.status = "busy"
            return result
        return _reconcile_slice(
            store=store,
            spec=spec,
            client=client if client is not None else sync_client_get(store),
            slice_seconds=RECONCILE_SLICE_SECONDS if slice_seconds is None else slice_seconds,
            result=result,
        )


def _reconcile_slice(
    *, store: Store, spec: StreamSpec, client: WalmartClient, slice_seconds: float, result: ReconcileResult
) -> ReconcileResult:
    state, _ = SyncState.objects.get_or_create(store=store, stream=spec.name)
    progress = dict(state.reconcile_progress or {})
    if not progress:
        progress = {"started": timezone.now().isoformat(), "cursor": None, "counts": {}}
    for name in _RECONCILE_COUNTS:
        setattr(result, name, int(progress["counts"].get(name, 0)))
    redis, seen = _seen_set(store.pk, spec.name, progress["started"])
    redis.sadd(seen, "")  # the set exists from the first page on, even when Walmart lists nothing
    redis.expire(seen, 6 * 3600)
    in_flight = in_flight_values(store=store, stream=spec.name, now=timezone.now())
    ends_at = time.monotonic() + slice_seconds
    cursor = progress["cursor"]
    while True:
        read_at = timezone.now()
        try:
            remote, cursor = _reconcile_page(spec=spec, client=client, cursor=cursor)
        except (WalmartRateLimited, WalmartServerError, WalmartConnectionError) as error:
            wait = error.retry_after if isinstance(error, WalmartRateLimited) else RECONCILE_RETRY_SECONDS
            return _reconcile_pause(state=state, progress=progress, result=result, wait=max(wait, 1.0))
        except WalmartError:
            SyncState.objects.filter(pk=state.pk).update(reconcile_progress={})
            raise
        result.pages += 1
        if remote:
            redis.sadd(seen, *remote)
            rows = matched_listings(store=store).filter(walmart_sku__in=list(remote))
            rows = rows.values_list("pk", "walmart_sku", spec.confirmed_field, spec.confirmed_at_field)
            drift = _reconcile_compare(rows=rows, remote=remote, in_flight=in_flight, read_at=read_at, result=result)
            _drift_write(spec=spec, drift=drift)
        if cursor is None:
            break
        progress["cursor"] = cursor
        if time.monotonic() >= ends_at:
            return _reconcile_pause(state=state, progress=progress, result=result, wait=0.0)
    _reconcile_missing(store=store, spec=spec, redis=redis, seen=seen, in_flight=in_flight, result=result)
    redis.delete(seen)
    now = timezone.now()
    SyncState.objects.filter(pk=state.pk).update(
        last_reconciled_at=now, last_reconcile_summary=result.summary(), reconcile_progress={}
    )
    if result.drifted and getattr(store, spec.switch_field):
        sync_enqueue(store_id=store.pk, stream=spec.name, countdown=0)
    return result


def _reconcile_pause(*, state: SyncState, progress: dict, result: ReconcileResult, wait: float) -> ReconcileResult:
    progress["counts"] = {name: getattr(result, name) for name in _RECONCILE_COUNTS}
    SyncState.objects.filter(pk=state.pk).update(reconcile_progress=progress)
    result.status, result.resume_after = "continues", wait
    return result


def _reconcile_missing(
    *, store: Store, spec: StreamSpec, redis: Any, seen: str, in_flight: dict, result: ReconcileResult
) -> None:
    """After the last page: matched listings Walmart did not list hold nothing there (drift to None). Skipped
    when the set of SKUs seen was lost (Redis restarted): better no finding than every listing missing."""
    if not redis.exists(seen):
        logger.warning(
            "Reconciliation of store %s %s lost its SKUs seen; missing listings not checked", store.pk, spec.name
        )
        return
    rows = matched_listings(store=store).values_list("pk", "walmart_sku", spec.confirmed_field, spec.confirmed_at_field)
    started = timezone.now()
    chunk: list = []
    for row in rows.iterator(chunk_size=5000):
        chunk.append(row)
        if len(chunk) == 5000:
            _reconcile_missing_chunk(
                spec=spec, redis=redis, seen=seen, chunk=chunk, in_flight=in_flight, started=started, result=result
            )
            chunk = []
    if chunk:
        _reconcile_missing_chunk(
            spec=spec, redis=redis, seen=seen, chunk=chunk, in_flight=in_flight, started=started, result=result
        )


def _reconcile_missing_chunk(*, spec, redis, seen, chunk, in_flight, started, result) -> None:
    flags = redis.smismember(seen, [sku for _, sku, _, _ in chunk])
    unseen = [row for row, listed in zip(chunk, flags, strict=True) if not listed]
    counted = ReconcileResult(stream=spec.name)
    drift = _reconcile_compare(rows=unseen, remote={}, in_flight=in_flight, read_at=started, result=counted)
    result.checked += counted.checked
    result.skipped_in_flight += counted.skipped_in_flight
    result.drifted += counted.drifted
    result.missing_on_walmart += counted.missing_on_walmart
    _drift_write(spec=spec, drift=drift)


# ------------------------------------------------------------------------------------------ resync, nudge


def sync_resync(*, listings: QuerySet[Listing], stream: str) -> int:
    """Forget what Walmart confirmed for the given listings (matched ones only), their errors and refused
    values, so the next run sends every one of them again; queues a run per store. Returns how many
    listings were reset. Safe to re-run."""
    spec = stream_spec(stream)
    rows = list(listings.filter(status__in=MATCHED_STATUSES).values_list("pk", "store_id"))
    ids = [pk for pk, _ in rows]
    with transaction.atomic():
        for chunk in _chunks(ids):
            Listing.objects.filter(pk__in=chunk).update(
                **{spec.confirmed_field: None, spec.confirmed_at_field: None, spec.error_field: ""}
            )
            SyncFailure.objects.filter(listing_id__in=chunk, stream=stream).delete()
        for store_id in {store_id for _, store_id in rows}:
            sync_enqueue(store_id=store_id, stream=stream, countdown=0)
    return len(ids)


def sync_resync_stores(*, stores: QuerySet[Store], stream: str) -> int:
    """`sync_resync` for every matched listing of the given stores. Returns how many listings were reset."""
    return sync_resync(listings=Listing.objects.filter(store__in=stores), stream=stream)


def sync_enqueue(*, store_id: int, stream: str, countdown: float = NUDGE_DELAY_SECONDS) -> bool:
    """Queue one run of `stream` for the store after `countdown` seconds, once the current transaction
    commits. Debounced: while a queued run has not started, further calls queue nothing (a burst of
    catalog changes gives one run, which sees them all). Returns whether a run was queued."""
    from sync.tasks import sync_run_task

    stream_spec(stream)
    try:
        first = cache.add(_nudge_key(store_id, stream), 1, timeout=int(countdown) + 120)
    except Exception:  # noqa: BLE001 - Redis down: no debounce, and the enqueue below is logged, never raised
        logger.warning("Sync debounce unavailable for store %s %s", store_id, stream, exc_info=True)
        first = True
    if not first:
        return False
    enqueue_on_commit(sync_run_task, store_id, stream, countdown=countdown)
    return True


# Which catalog fields each stream reads (`products_changed` carries the names of the fields that changed).
STREAM_FIELDS: dict[str, frozenset[str]] = {
    SyncStream.INVENTORY: frozenset({"sku", "quantity"}),
    SyncStream.PRICE: frozenset({"sku", "price"}),
}
_pending = threading.local()


@dataclass
class _NudgeBatch:
    """Products changed in one transaction, by stream, waiting for its commit."""

    callbacks: list  # the connection's on-commit list this batch belongs to (replaced on commit and rollback)
    by_stream: dict[str, set[int]] = field(default_factory=lambda: {stream: set() for stream in STREAM_FIELDS})
    flushed: bool = False

    def flush(self) -> None:
        """Runs after the commit: never raises to the writer whose change is saved (the minute tick is the
        fallback for a nudge that could not be queued)."""
        if self.flushed:
            return
        self.flushed = True
        for stream, ids in self.by_stream.items():
            if ids:
                try:
                    sync_nudge(product_ids=ids, streams=[stream])
                except Exception:  # logged; the change is committed and the tick sends it
                    logger.exception(
                        "Sync nudge of %d products (%s) failed; the next tick sends them", len(ids), stream
                    )


def sync_nudge_on_commit(*, product_ids: Iterable[int], fields: Iterable[str]) -> None:
    """The sync's answer to `listings.signals.products_changed`: once the transaction commits, nudge the
    streams that read the changed `fields` for every store listing the products (`sync_nudge`).

    Coalesced per transaction: the ids gather in one batch per transaction, and the first of its on-commit
    callbacks to run nudges them all (the others find it done), so a transaction that moves stock for a
    thousand products, in one send or in many, queues one run per store and stream. A rollback drops the
    batch with the transaction's on-commit list (Django replaces that list on commit and on rollback, which is
    how a batch knows it belongs to the current transaction). Outside a transaction, the nudge is immediate."""
    names = frozenset(fields)
    streams = [stream for stream, read in STREAM_FIELDS.items() if read & names]
    ids = set(product_ids)
    if not streams or not ids:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        for stream in streams:
            sync_nudge(product_ids=ids, streams=[stream])
        return
    batch: _NudgeBatch | None = getattr(_pending, "batch", None)
    if batch is None or batch.flushed or batch.callbacks is not connection.run_on_commit:
        batch = _pending.batch = _NudgeBatch(callbacks=connection.run_on_commit)
    for stream in streams:
        batch.by_stream[stream] |= ids
    # One callback per send, all flushing the same batch: a callback registered inside a savepoint that rolls
    # back is dropped, and another of the batch still runs.
    transaction.on_commit(batch.flush)


def sync_nudge(*, product_ids: Iterable[int], streams: Iterable[str] = tuple(STREAM_FIELDS)) -> int:
    """After a catalog change committed: queue a debounced run of each given (and enabled) stream for every
    store that lists one of the products. Returns how many runs were queued."""
    ids = list(set(product_ids))
    wanted = set(streams)
    if not ids or not wanted:
        return 0
    listings = Listing.objects.filter(status__in=MATCHED_STATUSES)
    if len(ids) <= 1000:
        listings = listings.filter(product_id__in=ids)
    store_ids = set(listings.values_list("store_id", flat=True).distinct())
    queued = 0
    for store_id, inventory_on, price_on in Store.objects.filter(pk__in=store_ids).values_list(
        "pk", "inventory_enabled", "price_enabled"
    ):
        for stream, on in ((SyncStream.INVENTORY, inventory_on), (SyncStream.PRICE, price_on)):
            if on and stream in wanted:
                _stream_changed_mark(store_id=store_id, stream=stream)
                queued += sync_enqueue(store_id=store_id, stream=stream)
    return queued


def sync_tick(*, stream: str) -> int:
    """The beat's minute tick: queue a run of `stream` for every store whose switch is on. Returns how many
    runs were queued. (Feeds to poll and calls in flight, of any store, are the sweep's: `sync_sweep`.)"""
    spec = stream_spec(stream)
    store_ids = Store.objects.filter(**{spec.switch_field: True}).values_list("pk", flat=True)
    return sum(sync_enqueue(store_id=store_id, stream=stream, countdown=0) for store_id in sorted(store_ids))


def sync_reconcile_tick() -> int:
    """The hourly reconciliation: queue one per store and enabled stream. Returns how many were queued."""
    queued = 0
    for store_id, inventory_on, price_on in Store.objects.values_list("pk", "inventory_enabled", "price_enabled"):
        streams = [stream for stream, on in ((SyncStream.INVENTORY, inventory_on), (SyncStream.PRICE, price_on)) if on]
        queued += sync_reconcile_queue(store_ids=[store_id], streams=streams)
    return queued


def sync_reconcile_queue(*, store_ids: Iterable[int], streams: Iterable[str]) -> int:
    """Queue a reconciliation of each stream of each store once the transaction commits (a broker outage is
    logged, never raised: the hourly tick queues them again). Returns how many were queued."""
    from sync.tasks import sync_reconcile_task

    names = [stream_spec(stream).name for stream in streams]
    queued = 0
    for store_id in store_ids:
        for name in names:
            enqueue_on_commit(sync_reconcile_task, store_id, name)
            queued += 1
    return queued


# ------------------------------------------------------------------------------------------ settings

SYNC_SETTINGS_FIELDS = (
    "safety_buffer",
    "max_quantity",
    "feeds_per_hour",
    "inventory_feed_max_bytes",
    "price_feed_max_bytes",
    "inventory_feed_max_items",
    "price_feed_max_items",
    "single_calls_per_tick",
)


def sync_settings_save(*, store: Store, values: dict[str, Any]) -> StoreSyncSettings:
    """Create or update the store's sync settings (upsert on the store) and nudge both streams, whose next
    run applies them. Raises ValidationError for invalid values (nothing saved)."""
    fields = {name: values[name] for name in SYNC_SETTINGS_FIELDS if name in values}
    candidate = StoreSyncSettings(store=store, **fields)
    candidate.full_clean(exclude=["store"], validate_unique=False, validate_constraints=True)
    with transaction.atomic():
        sync_settings, _ = StoreSyncSettings.objects.update_or_create(store=store, defaults=fields)
        sync_rescan_request(store_id=store.pk, streams=[SyncStream.INVENTORY])
        for stream in SyncStream.values:
            sync_enqueue(store_id=store.pk, stream=stream)
    return sync_settings
