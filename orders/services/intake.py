"""Order intake: the poll (and the released-orders queue), a single order fetched by id, and the batch
upsert that stores Walmart's copy of purchase orders (a pure diff, a stock step and a writer)."""

from __future__ import annotations

import itertools
import logging
import queue
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent import futures
from concurrent.futures import Future
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from channel_manager import polling
from channel_manager.bulk import instances_new, rows_insert, rows_update
from channel_manager.models import Store
from channel_manager.polling import client_correlation_id
from channel_manager.timeline import actor_name
from channel_manager.walmart import walmart_client_for_store
from channel_manager.work import enqueue_on_commit
from listings.models import Listing
from orders.mapping import customer_name_from_remote
from orders.models import (
    CustomerName,
    Order,
    OrderEvent,
    OrderLine,
    OrderSettings,
)
from orders.services.common import (
    LINE_FIELDS_FROM_WALMART,
    ORDER_FIELDS_FROM_WALMART,
    order_failed_operations,
    order_settings_ensure,
    order_status_counts_shift,
)
from orders.services.diff import orders_diff
from walmart_client.gc_pause import gc_paused
from walmart_client.models import WalmartOrder

logger = logging.getLogger(__name__)

Actor = OrderEvent.Actor
PAGE_SIZE = 200  # Walmart's maximum page of orders
# Written with the Walmart fields: intake records an acknowledgement Walmart's line statuses show (the rows
# are locked for the batch, so these are the values read under the lock or the derived ones).
ACKNOWLEDGEMENT_FIELDS = ["acknowledged_at", "acknowledging_since", "acknowledge_maybe_applied"]


@dataclass
class UpsertResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.created.extend(other.created)
        self.updated.extend(other.updated)
        self.unchanged.extend(other.unchanged)


# What intake reads of a line's listing (its product, for the stock moves): the listings it loads hold only these.
LISTING_FIELDS_READ = ("id", "store_id", "product_id", "walmart_sku")


def _listings_by_sku(*, store: Store, skus: Iterable[str]) -> dict[str, Listing]:
    listings = Listing.objects.filter(store=store, walmart_sku__any_of=set(skus)).only(*LISTING_FIELDS_READ)
    return {listing.walmart_sku: listing for listing in listings}


def _lines_with_listings(order_ids: list[int]) -> QuerySet[OrderLine]:
    """The orders' stored lines, each with its listing's LISTING_FIELDS_READ (loading every column of 20,000
    listings, each timestamp parsed in Python, was a tenth of the writer's CPU re-reading 10,000 unchanged orders)."""
    unread = [
        f"listing__{field.name}" for field in Listing._meta.concrete_fields if field.attname not in LISTING_FIELDS_READ
    ]
    return OrderLine.objects.filter(order_id__any_of=order_ids).select_related("listing").defer(*unread)


def _commerce_numbers_allocate(*, store: Store, count: int) -> tuple[OrderSettings, int]:
    """Reserve `count` consecutive commerce order numbers (one F() update; the row lock serialises
    concurrent intakes of one store until commit). Returns the settings and the first number."""
    order_settings_ensure(store=store)
    OrderSettings.objects.filter(store=store).update(next_commerce_number=F("next_commerce_number") + count)
    order_settings = OrderSettings.objects.get(store=store)
    return order_settings, order_settings.next_commerce_number - count


def commerce_numbers_take(*, store: Store, count: int) -> list[str]:
    """Take `count` commerce order numbers in a transaction of their own: the store's numbering row is locked
    only for that long (committed at once when called outside a transaction), not for the whole write of the
    orders that use them. A number taken by a write that then rolls back is skipped (a gap in the numbering)."""
    with transaction.atomic():
        order_settings, first_number = _commerce_numbers_allocate(store=store, count=count)
    return [order_settings.commerce_order_number(first_number + index) for index in range(count)]


def _stock_reference(lines: Sequence[OrderLine]) -> str:
    """A stock movement's reference: the purchase order and line, or how many lines of which orders."""
    if len(lines) == 1:
        return f"PO {lines[0].order.purchase_order_id} line {lines[0].line_number}"
    orders = sorted({line.order.purchase_order_id for line in lines})
    text = f"{len(lines)} order lines: PO " + ", ".join(orders)
    return text if len(text) <= 100 else text[:97] + "..."


def _line_listing(line: OrderLine) -> Listing:
    """The listing of a line the stock plan holds (it holds only lines with one)."""
    if line.listing is None:
        raise ValueError(f"order line {line.pk} has no listing: no stock to move")
    return line.listing


@dataclass
class _StockPlan:
    """A batch's moves through the store's reservations, per product: units of lines to reserve, units
    Walmart shows shipped and units it shows cancelled beyond what each line has moved already."""

    reserved: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    shipped: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    released: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    reserving_lines: list[OrderLine] = field(default_factory=list)
    releasing_lines: list[OrderLine] = field(default_factory=list)
    releases: list[tuple[OrderLine, int]] = field(default_factory=list)  # in line order, for the timeline
    linked_late: list[OrderLine] = field(default_factory=list)  # stored lines whose SKU got a listing
    removed: list[tuple[OrderLine, int]] = field(default_factory=list)  # lines deleted, with the units released


def _stock_plan(
    *, new_lines: Iterable[OrderLine], changed_lines: Iterable[OrderLine], removed_lines: Iterable[OrderLine] = ()
) -> _StockPlan:
    """Reserve each new line once (of a new order, or one Walmart's copy adds to a stored order), and a stored
    line once its Walmart SKU is linked to a listing (it arrived without one: nothing reserved yet); give back
    what Walmart shows cancelled, and take out of the reservation what it shows shipped (delivered and refunded
    units shipped first), each beyond what the line has moved already; give back what a removed line still
    holds. Sets each line's own record (stock_reserved / stock_released / stock_shipped) before the lines are
    written, so a re-read of the same order moves nothing. No database access."""
    plan = _StockPlan()
    new_lines = list(new_lines)
    changed_lines = list(changed_lines)
    linked_late = [line for line in changed_lines if line.pk and line.listing is not None and not line.stock_reserved]
    for line in [*new_lines, *linked_late]:
        if line.listing is not None:
            line.stock_reserved = line.quantity
            plan.reserved[line.listing.product_id] += line.quantity
            plan.reserving_lines.append(line)
    plan.linked_late = linked_late
    linked_now = {id(line) for line in linked_late}
    for line in changed_lines:
        # A line whose quantity is not what was reserved for it: stored from Walmart's notification, whose
        # quantity Walmart's own copy corrects. The reservation follows (more reserved, or the excess released).
        if id(line) in linked_now or line.listing is None or not line.stock_reserved:
            continue
        excess = line.stock_reserved - line.quantity
        if excess < 0:
            plan.reserved[line.listing.product_id] -= excess
            plan.reserving_lines.append(line)
        elif excess > 0:
            plan.released[line.listing.product_id] += excess
            plan.releasing_lines.append(line)
        line.stock_reserved = line.quantity
    for line in [*new_lines, *changed_lines]:
        if line.listing_id is None:
            continue
        product_id = _line_listing(line).product_id
        released = min(line.quantity_cancelled, line.stock_reserved) - line.stock_released
        if released > 0:
            line.stock_released += released
            plan.released[product_id] += released
            plan.releasing_lines.append(line)
            plan.releases.append((line, released))
        shipped = min(line.quantity_shipped_total, line.stock_reserved - line.stock_released) - line.stock_shipped
        if shipped > 0:
            line.stock_shipped += shipped
            plan.shipped[product_id] += shipped
            plan.reserving_lines.append(line)
    for line in removed_lines:
        held = line.stock_held if line.listing is not None else 0
        if held > 0:
            plan.released[_line_listing(line).product_id] += held
            plan.releasing_lines.append(line)
        plan.removed.append((line, max(held, 0)))
    return plan


def _stock_apply(plan: _StockPlan, *, store: Store, stock_actor: str) -> None:
    """The batch's moves through the store's reservations, set-based (`inventory.services.reservations_apply`):
    one call for what was reserved and shipped, one for what was cancelled, each summed per product (so a
    product's reservation and its release in one batch stay two stock movements, as they were per product)."""
    from inventory.services import ReservationMove, reservations_apply
    from listings.quantities import product_quantities_lock

    reserving = [
        ReservationMove(product_id, reserved=plan.reserved.get(product_id, 0), shipped=plan.shipped.get(product_id, 0))
        for product_id in sorted({*plan.reserved, *plan.shipped})
    ]
    releasing = [ReservationMove(product_id, released=units) for product_id, units in sorted(plan.released.items())]
    if reserving and releasing:
        # Every product of both calls locked at once, in id order: a batch written concurrently with another
        # (`BatchWriters`) never holds the first call's products while waiting for the second's.
        product_quantities_lock(product_ids=sorted({*plan.reserved, *plan.shipped, *plan.released}))
    if reserving:
        reservations_apply(
            store_id=store.pk, moves=reserving, actor=stock_actor, reference=_stock_reference(plan.reserving_lines)
        )
    if releasing:
        reservations_apply(
            store_id=store.pk, moves=releasing, actor=stock_actor, reference=_stock_reference(plan.releasing_lines)
        )


def _orders_upsert_batch(
    *,
    store: Store,
    remotes: Sequence[WalmartOrder],
    actor: str,
    correlation_id: str,
    user=None,
    commerce_numbers: Sequence[str] = (),
    new_order_fields: Mapping[str, Any] | None = None,
    stock_turn: _StockTurn | None = None,
) -> tuple[UpsertResult, list[int]]:
    """Read what is stored for the batch (orders locked), diff it with Walmart's (`orders_diff`), then
    write: new orders with their commerce numbers, lines, changed orders, stock, timeline, counters.
    `commerce_numbers`: numbers taken beforehand (`commerce_numbers_take`) for the new orders, in order; when
    there are fewer than new orders, the batch allocates its own. `new_order_fields` are set on new orders.
    `stock_turn`: the batch's place among batches written concurrently, waited for before the stock moves."""
    now = timezone.now()
    existing = {
        order.purchase_order_id: order
        for order in Order.objects.select_for_update().filter(
            store=store, purchase_order_id__any_of=[remote.purchase_order_id for remote in remotes]
        )
    }
    existing_lines = {
        (line.order_id, line.line_number): line
        for line in _lines_with_listings([order.pk for order in existing.values()])
    }
    diff = orders_diff(
        remotes=remotes,
        existing=existing,
        existing_lines=existing_lines,
        listings=_listings_by_sku(store=store, skus=(line.sku for remote in remotes for line in remote.lines)),
        failed_operations=order_failed_operations([order.pk for order in existing.values()]),
        now=now,
    )

    def event(order: Order, message: str) -> dict[str, Any]:
        return {
            "order": order,
            "actor": actor,
            "user": user,
            "correlation_id": correlation_id,
            "message": message,
            "created_at": now,
        }

    # New orders: one INSERT for the batch, commerce numbers allocated as a block.
    new_orders: list[Order] = []
    if diff.new:
        numbers = list(commerce_numbers)
        if len(numbers) < len(diff.new):
            order_settings, first_number = _commerce_numbers_allocate(store=store, count=len(diff.new))
            numbers = [order_settings.commerce_order_number(first_number + index) for index in range(len(diff.new))]
        new_orders = instances_new(
            Order,
            (
                {
                    "store": store,
                    "purchase_order_id": new.purchase_order_id,
                    "commerce_order_number": number,
                    "last_read_at": now,
                    **new.fields,
                    **(new_order_fields or {}),
                }
                for number, new in zip(numbers, diff.new, strict=False)
            ),
        )
        rows_insert(Order, new_orders)
        diff.status_deltas.update(order.status for order in new_orders)
    new_lines: list[OrderLine] = instances_new(
        OrderLine,
        (
            {"order": order, "line_number": line_number, **fields}
            for order, new in zip(new_orders, diff.new, strict=True)
            for line_number, fields in new.lines
        ),
    )
    events = [
        event(order, f"Order received from Walmart; commerce order {order.commerce_order_number} created.")
        for order in new_orders
    ]
    events.extend(event(order, "Walmart: " + "; ".join(changes)) for order, changes in diff.changes)

    stock = _stock_plan(
        new_lines=[*new_lines, *diff.lines_to_create],
        changed_lines=diff.lines_to_update,
        removed_lines=diff.lines_to_delete,
    )
    events.extend(
        event(line.order, f"{delta} unit(s) of {line.sku} cancelled on Walmart returned to stock.")
        for line, delta in stock.releases
    )
    events.extend(
        event(
            line.order,
            f"Line {line.line_number}: Walmart SKU {line.sku} is now linked; {line.quantity} unit(s) reserved.",
        )
        for line in stock.linked_late
    )
    events.extend(
        event(
            line.order,
            f"Line {line.line_number} ({line.sku}) was in Walmart's order notification but is not in Walmart's "
            f"copy of the order: removed; {units} reserved unit(s) returned to stock.",
        )
        for line, units in stock.removed
    )

    if diff.lines_to_delete:
        OrderLine.objects.filter(pk__any_of=[line.pk for line in diff.lines_to_delete]).delete()
    rows_insert(OrderLine, [*new_lines, *diff.lines_to_create])
    if diff.lines_to_update:
        rows_update(
            OrderLine,
            diff.lines_to_update,
            [*LINE_FIELDS_FROM_WALMART, "stock_reserved", "stock_released", "stock_shipped"],
        )
    if diff.orders_to_update:
        rows_update(
            Order,
            diff.orders_to_update,
            [*ORDER_FIELDS_FROM_WALMART, *ACKNOWLEDGEMENT_FIELDS, "updated_at", "last_read_at"],
        )
    if stock_turn is not None:
        stock_turn.previous_wait()
    _stock_apply(stock, store=store, stock_actor=actor_name(actor, user))
    rows_insert(OrderEvent, instances_new(OrderEvent, events))
    order_status_counts_shift(store_id=store.pk, deltas=diff.status_deltas)
    result = UpsertResult(created=[order.pk for order in new_orders], updated=diff.updated, unchanged=diff.unchanged)
    # Orders still to acknowledge: never acknowledged, with units still Created (read from the lines in hand:
    # the new ones and every stored line of the batch's stored orders, as written above).
    deleted = {line.pk for line in diff.lines_to_delete}
    with_created = {
        line.order_id
        for line in [*new_lines, *diff.lines_to_create, *existing_lines.values()]
        if line.quantity_created > 0 and line.pk not in deleted
    }
    unacknowledged = [
        order.pk
        for order in [*new_orders, *existing.values()]
        if order.acknowledged_at is None and order.pk in with_created
    ]
    return result, unacknowledged


def _upsert_batch_size() -> int:
    return int(getattr(settings, "ORDERS_UPSERT_BATCH_SIZE", 1000))


def _lock_conflict(error: OperationalError) -> bool:
    """A deadlock PostgreSQL broke by aborting this transaction, or a serialization failure: the batch can be
    redone as it is."""
    return getattr(error.__cause__, "sqlstate", None) in {"40P01", "40001"}


class _StockTurn:
    """A batch's place in the order batches written concurrently were given (`BatchWriters`): a batch moves
    stock only once the batch before it has committed (or rolled back), so each product's stock movements (and
    the quantity after each) come in the batches' order, as with one writer. The turn is a PostgreSQL advisory
    lock held by the batch's transaction: PostgreSQL sees a batch waiting for the one before, and breaks a
    deadlock through it like any other (the batch is then redone)."""

    def __init__(self, previous: _StockTurn | None) -> None:
        self.key = secrets.randbits(63)
        self.previous = previous
        self.taken = threading.Event()  # set once the batch holds its turn, or will never take it

    def take(self) -> None:
        """At the start of the batch's transaction."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [self.key])
        finally:
            self.taken.set()

    def previous_wait(self) -> None:
        """Wait until the batch before has committed or rolled back."""
        if self.previous is None:
            return
        self.previous.taken.wait()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [self.previous.key])


def orders_batch_write(
    *,
    store: Store,
    batch: Sequence[WalmartOrder],
    actor: str,
    correlation_id: str = "",
    user=None,
    commerce_numbers: Sequence[str] = (),
    stock_turn: _StockTurn | None = None,
) -> UpsertResult:
    """One batch (deduplicated) in one transaction, redone up to twice when a concurrent intake inserted one of
    its orders first (it then updates instead) or a lock conflict aborted it."""
    for attempt in range(3):
        try:
            # A batch builds and drops some hundred thousand objects, none in reference cycles: without the
            # pause the collector scanned the whole heap several times per batch (a quarter of intake's CPU).
            with gc_paused(), transaction.atomic():
                if stock_turn is not None:
                    stock_turn.take()
                result, unacknowledged = _orders_upsert_batch(
                    store=store,
                    remotes=batch,
                    actor=actor,
                    correlation_id=correlation_id,
                    user=user,
                    commerce_numbers=commerce_numbers,
                    stock_turn=stock_turn,
                )
                _acknowledge_enqueue_due(store=store, order_ids=unacknowledged)
            return result
        except (IntegrityError, OperationalError) as error:
            if attempt == 2 or (isinstance(error, OperationalError) and not _lock_conflict(error)):
                raise
            logger.info("Concurrent intake of store %s; redoing a batch of %d orders.", store.pk, len(batch))
    raise AssertionError("unreachable")


def orders_upsert_from_walmart(
    *, store: Store, remotes: Sequence[WalmartOrder], actor: str, correlation_id: str = "", user=None
) -> UpsertResult:
    """Insert or update Walmart purchase orders in one transaction per batch (ORDERS_UPSERT_BATCH_SIZE, 1000).

    Safe to re-run: keyed on (store, purchase_order_id) under a unique constraint; unchanged orders are
    not written; stock is reserved only when an order is first stored and given back only for the
    cancelled units not yet given back. If a concurrent intake inserts one of the same orders first, the
    batch is rolled back and redone (it then updates instead). New orders are acknowledged after commit
    when the store's auto-acknowledge switch is on.
    """
    deduplicated = list({remote.purchase_order_id: remote for remote in remotes}.values())
    total = UpsertResult()
    batch_size = _upsert_batch_size()
    for start in range(0, len(deduplicated), batch_size):
        total.add(
            orders_batch_write(
                store=store,
                batch=deduplicated[start : start + batch_size],
                actor=actor,
                correlation_id=correlation_id,
                user=user,
            )
        )
    return total


def _poll_writers() -> int:
    """Threads the poll writes its batches from (ORDERS_POLL_WRITERS, 2): one on a database other than
    PostgreSQL, or when the caller is inside a transaction (threads have connections of their own, which would
    neither see its rows nor be rolled back with it)."""
    writers = int(getattr(settings, "ORDERS_POLL_WRITERS", 2))
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(writers, 1)


WRITER_THREAD_NAME = "orders-intake-write"  # BatchWriters' threads are named this, then "-<index>"


class BatchWriters:
    """Writes batches of one store's orders from `threads` threads, each with its own database connection
    (closed when it ends), so that one batch's Python (the diff, the rows built) runs while another batch waits
    for PostgreSQL. Used as a context manager around `write(batch)` calls made in the poll's order; leaving it
    waits for every batch and raises the first failure (batches still running are finished first; the ones
    not yet started are dropped).

    What keeps concurrent batches equal to written one after another:
    - a batch holding a purchase order of a batch still being written waits for that one to commit first (so
      Walmart's later copy is written last, as in order);
    - commerce numbers are taken here, in the order batches are given, for the orders not stored yet
      (`commerce_numbers_take`, a short transaction of its own): batches never wait on the numbering row;
    - so are the customer names new to the store (`_customer_names_keep`): no batch inserts one, so two batches
      never wait on each other's new name;
    - a batch moves stock only after the batch before it committed (`_StockTurn`), so each product's stock
      movements come in the batches' order;
    - the stock moves lock a batch's products in id order (`reservations_apply`), and the status counters in
      status order, after the products; a lock conflict PostgreSQL still reports (a deadlock, with a webhook's
      write for instance) redoes the batch, as a concurrent insert of one of its orders does."""

    def __init__(self, *, store: Store, actor: str, threads: int) -> None:
        self.store, self.actor = store, actor
        self.result = UpsertResult()
        self._jobs: queue.Queue[_WriteJob | None] = queue.Queue()
        self._turn: _StockTurn | None = None
        self._running: list[tuple[Future[UpsertResult], set[str]]] = []
        self._names_kept: set[str] = set()  # customer names this poll stored or found stored (`_customer_names_keep`)
        self._threads = [
            threading.Thread(target=self._work, name=f"{WRITER_THREAD_NAME}-{index}", daemon=True)
            for index in range(threads)
        ]

    def __enter__(self) -> BatchWriters:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        try:
            if error_type is None:
                self._wait([future for future, _ in self._running])
        finally:
            for future, _ in self._running:
                future.cancel()  # those not started yet (none when every batch was waited for)
            self._stop()

    def write(self, batch: Sequence[WalmartOrder]) -> None:
        """Queue one batch; returns once a thread is free for it (and the batches it depends on committed)."""
        batch = list({remote.purchase_order_id: remote for remote in batch}.values())
        if not batch:
            return
        purchase_orders = {remote.purchase_order_id for remote in batch}
        # Walmart's later copy of an order is written after the earlier one has committed.
        self._wait([future for future, held in self._running if held & purchase_orders])
        while len(self._running) >= len(self._threads):
            self._wait([future for future, _ in self._running], first=True)
        stored = set(
            Order.objects.filter(store=self.store, purchase_order_id__any_of=purchase_orders).values_list(
                "purchase_order_id", flat=True
            )
        )
        new = len(purchase_orders - stored)
        numbers = commerce_numbers_take(store=self.store, count=new) if new else []
        names = {customer_name_from_remote(remote) for remote in batch} - self._names_kept
        if names:
            _customer_names_keep(store=self.store, names=names)
            self._names_kept |= names
        future: Future[UpsertResult] = Future()
        self._turn = _StockTurn(previous=self._turn)
        self._running.append((future, purchase_orders))
        self._jobs.put(_WriteJob(batch, numbers, self._turn, future))

    def _wait(self, chosen: list[Future[UpsertResult]], *, first: bool = False) -> None:
        """Wait for every one of the `chosen` batches (with `first`, for one of them), then collect the finished
        ones: raises the first failure among them."""
        if chosen:
            futures.wait(chosen, return_when=futures.FIRST_COMPLETED if first else futures.ALL_COMPLETED)
        self._collect()

    def _collect(self) -> None:
        running = []
        for future, held in self._running:
            if not future.done():
                running.append((future, held))
                continue
            self.result.add(future.result())  # raises the batch's failure
        self._running = running

    def _stop(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    if not job.future.set_running_or_notify_cancel():
                        continue
                    try:
                        result = orders_batch_write(
                            store=self.store,
                            batch=job.batch,
                            actor=self.actor,
                            commerce_numbers=job.commerce_numbers,
                            stock_turn=job.stock_turn,
                        )
                    except BaseException as error:  # noqa: BLE001 - not swallowed: raised in the poll's thread
                        job.future.set_exception(error)
                        self._cancel_queued()
                    else:
                        job.future.set_result(result)
                finally:
                    job.stock_turn.taken.set()  # never taken when cancelled: the next batch does not wait for it
        finally:
            connections.close_all()

    def _cancel_queued(self) -> None:
        """After a failure, the batches not started yet are not written (the poll fails; the next one redoes
        them)."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is None:
                self._jobs.put(None)
                return
            job.future.cancel()
            job.stock_turn.taken.set()


def _customer_names_keep(*, store: Store, names: set[str]) -> None:
    """Store the batch's customer names not kept yet (`CustomerName`), committed before the batch is written: the
    orders' trigger then finds every name there and inserts none. Otherwise two concurrent batches carrying one
    new name could deadlock: the later batch inserting it first, the earlier one's insert waiting for the later
    batch's commit while the later batch waits for the earlier one's stock turn (PostgreSQL would break it after
    deadlock_timeout and the batch would be redone)."""
    table = CustomerName._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (store_id, customer_name) SELECT %s, name FROM unnest(%s::text[]) AS name"  # noqa: S608 (the model's table)
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS known"
            " WHERE known.store_id = %s AND known.customer_name = name) ORDER BY name ON CONFLICT DO NOTHING",
            [store.pk, sorted(names), store.pk],
        )


@dataclass(frozen=True)
class _WriteJob:
    batch: list[WalmartOrder]
    commerce_numbers: list[str]
    stock_turn: _StockTurn
    future: Future[UpsertResult]


def order_upsert_from_walmart(
    *, store: Store, remote: WalmartOrder, actor: str, correlation_id: str = "", user=None
) -> tuple[Order, bool]:
    """One purchase order; see `orders_upsert_from_walmart`. Returns (order, created)."""
    result = orders_upsert_from_walmart(
        store=store, remotes=[remote], actor=actor, correlation_id=correlation_id, user=user
    )
    order = Order.objects.get(store=store, purchase_order_id=remote.purchase_order_id)
    return order, bool(result.created)


ACKNOWLEDGE_CHUNK = 50


def _acknowledge_enqueue_due(*, store: Store, order_ids: Sequence[int]) -> None:
    """After commit, acknowledge `order_ids` (never acknowledged, with Created lines) when the store's
    auto-acknowledge is on: one task per ACKNOWLEDGE_CHUNK orders (`orders_acknowledge_task`), in the order
    they were stored."""
    if not order_ids:
        return
    order_settings = OrderSettings.objects.filter(store=store).only("auto_acknowledge").first()
    if order_settings is not None and not order_settings.auto_acknowledge:
        return
    from orders.tasks import orders_acknowledge_task

    for start in range(0, len(order_ids), ACKNOWLEDGE_CHUNK):
        enqueue_on_commit(orders_acknowledge_task, list(order_ids[start : start + ACKNOWLEDGE_CHUNK]))


@dataclass(frozen=True)
class PollResult:
    created: int
    updated: int
    unchanged: int
    window_start: datetime


def order_poll(*, store: Store, actor: str = Actor.SCHEDULE) -> PollResult:
    """Pull the orders Walmart changed since the watermark (minus the overlap), and the released-orders
    queue (unacknowledged orders created before that window), and upsert them in batches.

    Safe to re-run: upserts are idempotent. The watermark advances to the poll's start only after every
    batch has committed, so a failed poll is simply redone from the same point next time. Raises the
    client's `WalmartError` on failure (the watermark is then untouched; the error is recorded).
    See https://developer.walmart.com/us-marketplace/reference/getallorders and getallreleasedorders.
    """
    order_settings = order_settings_ensure(store=store)
    window = polling.poll_start(
        order_settings, initial_lookback=timedelta(days=getattr(settings, "ORDERS_INITIAL_LOOKBACK_DAYS", 7))
    )
    started, window_start = window.started, window.window_start
    client = walmart_client_for_store(store)
    totals = UpsertResult()
    seen: set[str] = set()

    writers = _poll_writers()

    with polling.poll_recorded(order_settings, window):
        created_since = started - timedelta(days=getattr(settings, "ORDERS_POLL_CREATED_WITHIN_DAYS", 30))
        # Walmart defaults createdStartDate to 7 days ago: older orders changed since (auto-cancels, late
        # cancellations in Seller Center) are only listed when it is given.
        changed = client.orders.iter_all(
            created_start_date=min(created_since, window_start),
            last_modified_start_date=window_start,
            limit=PAGE_SIZE,
        )
        # The released queue (lines still Created) catches orders the last-modified pass can no longer
        # see: those created before its window. Orders created inside the window were just read.
        released_since = window_start - timedelta(days=getattr(settings, "ORDERS_RELEASED_LOOKBACK_DAYS", 7))
        released = client.orders.iter_released(
            created_start_date=released_since, created_end_date=window_start, limit=PAGE_SIZE
        )
        # Both listings are read ahead: the next batch's pages are fetched and parsed while one is written.
        listed = itertools.chain(((False, remote) for remote in changed), ((True, remote) for remote in released))
        batch: list[WalmartOrder] = []
        depth = int(getattr(settings, "ORDERS_POLL_READ_AHEAD_BATCHES", 1))
        with (
            closing(polling.read_ahead(listed, chunk=_upsert_batch_size(), depth=depth)) as chunks,
            BatchWriters(store=store, actor=actor, threads=writers) if writers > 1 else nullcontext() as concurrent,
        ):

            def flush(batch: list[WalmartOrder]) -> None:
                if concurrent is not None:
                    concurrent.write(batch)
                else:
                    totals.add(orders_upsert_from_walmart(store=store, remotes=batch, actor=actor))
                batch.clear()

            for chunk in chunks:
                for from_released, remote in chunk:
                    if from_released and remote.purchase_order_id in seen:
                        continue
                    seen.add(remote.purchase_order_id)
                    batch.append(remote)
                    if len(batch) >= _upsert_batch_size():
                        flush(batch)
            flush(batch)
        if concurrent is not None:
            totals.add(concurrent.result)
    return PollResult(
        created=len(totals.created),
        updated=len(totals.updated),
        unchanged=len(totals.unchanged),
        window_start=window_start,
    )


def order_fetch(*, store: Store, purchase_order_id: str, actor: str, user=None) -> tuple[Order, bool]:
    """Read one purchase order from Walmart and upsert it. Safe to re-run. Raises WalmartError."""
    client = walmart_client_for_store(store)
    remote = client.orders.get(purchase_order_id)
    return order_upsert_from_walmart(
        store=store, remote=remote, actor=actor, correlation_id=client_correlation_id(client), user=user
    )


def order_refresh(*, order: Order, actor: str, user=None) -> Order:
    """Re-read an order from Walmart (admin action, operator button). Safe to re-run."""
    refreshed, _ = order_fetch(store=order.store, purchase_order_id=order.purchase_order_id, actor=actor, user=user)
    return refreshed


def stores_poll_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the stores whose order poll is due (orders sync on, interval elapsed since the last start)."""
    return polling.stores_poll_due(
        enabled_field="orders_enabled", settings_relation="order_settings", default_interval_seconds=300, now=now
    )
