"""Provisional orders: a purchase order stored from Walmart's PO_CREATED notification the moment it arrives, before
Walmart's copy can be read, and completed by the next read.

Walmart's notification carries the purchase order's ids, dates and lines (SKU, name, quantity) and nothing else
(`walmart_client.events.PoCreated`). When Walmart's API cannot be read (rate limited, hanging), the order would
otherwise wait for it: minutes in which the operator does not see it and its units are still offered on Walmart
and elsewhere. So the webhook stores it at once, right after the delivery's event is committed and before the
endpoint answers: the order with its commerce number, its lines linked by Walmart SKU and their stock reserved, by
the intake's own writer (`orders.services.intake`), marked `provisional` (awaiting Walmart's details).

- Completed by any read of Walmart's copy (the webhook batch's read-back, the poll, the refresh, this module's
  sweep): the normal upsert overwrites every field Walmart owns, corrects the reservation when a quantity differs,
  gives back what Walmart shows cancelled, and writes no "changes" for it (the values replaced were never
  Walmart's). A line the notification had and Walmart's copy lacks is deleted and its reserved units given back
  (the timeline says so). The end state is the one the read would have stored on its own.
- Never overwrites anything: it is stored only when no order of that purchase order id exists (a full order is
  never downgraded; a second delivery of the event stores nothing).
- Not acknowledged: Walmart says not to acknowledge cancelled or shipped lines, nor WFS orders, and the payload
  shows neither line statuses nor the order type. The acknowledgement follows the read (its line statuses), so it
  still happens exactly once and within Walmart's 4-hour window.
- Ship, cancel and refund are refused until it is complete (`order_complete_required`).
- The sweep (`orders_provisional_sweep`) reads back a provisional order no other path completed, with backoff
  (ORDERS_PROVISIONAL_READ_FIRST_SECONDS after it was stored, doubling, at most ORDERS_PROVISIONAL_READ_MAX_SECONDS
  apart). Walmart answering "not found" is retried the same way (its read side can lag its notifications) until
  ORDERS_PROVISIONAL_GIVE_UP_SECONDS (4 h, Walmart's acknowledgement window: an order Walmart cannot show by then
  cannot be acknowledged or shipped) after it was stored; then its reserved units are released to stock and it is
  left in Error with the reason, still provisional: a later read that finds it completes it (and reserves again).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from channel_manager.gather import Gatherer
from channel_manager.models import Store
from channel_manager.polling import client_correlation_id
from channel_manager.push_tasks import OUTAGE_ERRORS
from channel_manager.timeline import actor_name
from channel_manager.walmart import RETRYABLE, error_text, walmart_client_for_store
from orders.models import Order, OrderEvent, OrderLine
from orders.services.common import order_event_add, order_status_counts_shift
from walmart_client.events import PoCreated, po_created_from_envelope

logger = logging.getLogger(__name__)

Actor = OrderEvent.Actor
PROVISIONAL_READ_FIRST_SECONDS = 120  # the webhook batch and the poll normally complete it well before
PROVISIONAL_READ_MAX_SECONDS = 1800
PROVISIONAL_GIVE_UP_SECONDS = 4 * 3600  # Walmart's acknowledgement window
PROVISIONAL_SWEEP_LIMIT = 500  # orders one sweep queues for a read-back
PROVISIONAL_WRITE_ATTEMPTS = 3  # a write redone without the orders stored meanwhile; then left to the read-back
PROVISIONAL_GATHER_SECONDS = 0.2  # a delivery's order waits this long for others of its store to be written with it
PROVISIONAL_GATHER_MOST = 100  # orders written together at most
READ_MARGIN_SECONDS = 120  # a read-back's listing starts this long before the oldest order's date


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


class _NotNew(Exception):
    """The purchase order was stored meanwhile (rolls the provisional insert back)."""


def order_provisional_store(*, store: Store, envelope: Mapping[str, Any], now: datetime | None = None) -> int | None:
    """Store the purchase order a PO_CREATED delivery announces (also ORDER_UPDATES with subEventType
    PO_CREATED), provisional, unless an order of that purchase order id is stored already: `orders_provisional_store`
    for one delivery. Returns the new order's id, or None (not a PO_CREATED event, already stored, or a payload that
    does not describe an order)."""
    created = orders_provisional_store(store=store, envelopes=[envelope], now=now)
    return created[0] if created else None


def orders_provisional_store(
    *, store: Store, envelopes: Sequence[Mapping[str, Any]], now: datetime | None = None
) -> list[int]:
    """Store the purchase orders PO_CREATED deliveries announce (also ORDER_UPDATES with subEventType PO_CREATED),
    provisional, each unless an order of its purchase order id is stored already, in one write: the intake's batch
    writer, so a burst's deliveries gathered together cost a few statements, not some thirty each. Call it once the
    deliveries' events are committed (the endpoint answers after it, `orders.services.webhooks.webhook_event_record`):
    the commerce numbers are taken in a transaction of their own and the orders written in a second one, so the
    store's per-store rows (the numbering, the status counters) are locked for a few statements, not for the whole
    write, and concurrent writers of one store are not served one at a time. A failure between the two skips those
    numbers (a gap in the numbering). An order stored by a transaction that committed meanwhile rolls the write back
    and it is redone without it (at most PROVISIONAL_WRITE_ATTEMPTS times); when the write of several fails
    otherwise, each is written alone, so a payload the writer cannot take costs only its own order.

    Returns the new orders' ids. Skipped (logged when malformed; the event's read-back stores the order): what is
    not a PO_CREATED event, already stored (by an earlier delivery or the intake), or a payload that does not
    describe an order. Whatever fails here but the database itself is logged and leaves the events as they were.
    Raises only the database's connection errors."""
    notices: dict[str, PoCreated] = {}
    for envelope in envelopes:
        try:
            notice = po_created_from_envelope(envelope)
        except ValueError as error:
            logger.warning("Store %s: PO_CREATED not stored provisionally: %s", store.pk, error)
            continue
        if notice is not None:
            notices.setdefault(notice.purchase_order_id, notice)
    return _provisional_store(store=store, notices=list(notices.values()), now=now or timezone.now())


def _provisional_store(*, store: Store, notices: Sequence[PoCreated], now: datetime) -> list[int]:
    """`orders_provisional_store` once the payloads are read."""
    for _attempt in range(PROVISIONAL_WRITE_ATTEMPTS):
        stored = set(
            Order.objects.filter(
                store=store, purchase_order_id__any_of=[notice.purchase_order_id for notice in notices]
            ).values_list("purchase_order_id", flat=True)
        )
        fresh = [notice for notice in notices if notice.purchase_order_id not in stored]
        if not fresh:
            return []
        try:
            return _provisional_write(store=store, notices=fresh, now=now)
        except (_NotNew, IntegrityError):  # one was stored by a transaction that committed after the check above
            continue
        except OUTAGE_ERRORS:
            raise
        except Exception:  # the events are recorded anyway: their read-back stores the orders
            if len(fresh) == 1:
                logger.exception("Store %s: PO %s not stored provisionally", store.pk, fresh[0].purchase_order_id)
                return []
            logger.warning("Store %s: %d provisional orders written one by one", store.pk, len(fresh), exc_info=True)
            return [pk for notice in fresh for pk in _provisional_store(store=store, notices=[notice], now=now)]
    logger.warning("Store %s: %d provisional order(s) left to their read-back", store.pk, len(notices))
    return []


def _provisional_write(*, store: Store, notices: Sequence[PoCreated], now: datetime) -> list[int]:
    """Write `notices` as new provisional orders (raises _NotNew, rolled back, when one of them is stored already)."""
    from orders.services.intake import _orders_upsert_batch, commerce_numbers_take

    numbers = commerce_numbers_take(store=store, count=len(notices))
    with transaction.atomic():
        result, _unacknowledged = _orders_upsert_batch(
            store=store,
            remotes=[notice.as_order() for notice in notices],
            actor=Actor.WEBHOOK,
            correlation_id="",
            commerce_numbers=numbers,
            new_order_fields={
                "provisional": True,
                "provisional_read_at": now
                + timedelta(seconds=_setting("ORDERS_PROVISIONAL_READ_FIRST_SECONDS", PROVISIONAL_READ_FIRST_SECONDS)),
            },
        )
        if len(result.created) != len(notices):
            raise _NotNew
        return result.created


def _gathered_write(store: Store, envelopes: list[Mapping[str, Any]]) -> None:
    orders_provisional_store(store=store, envelopes=envelopes)


_gatherer = Gatherer(
    _gathered_write,
    seconds=lambda: float(getattr(settings, "ORDERS_PROVISIONAL_GATHER_SECONDS", PROVISIONAL_GATHER_SECONDS)),
    most=PROVISIONAL_GATHER_MOST,
)


def order_provisional_gather(*, store: Store, envelope: Mapping[str, Any]) -> None:
    """Store a PO_CREATED delivery's order, provisional, together with the other deliveries of its store this
    process takes meanwhile (`channel_manager.gather`: the first one waits up to ORDERS_PROVISIONAL_GATHER_SECONDS,
    0.2 s, for others, then a thread of the process writes them all with `orders_provisional_store`; 0 writes each
    at once in the caller's thread). A burst of deliveries then costs one write per batch, not one per order, each
    order is stored within that wait plus one write, and the request thread is free at once. Call it once the
    delivery's event is committed and the answer sent: what waits in this process is lost if it dies, and the
    events' read-back stores those orders. Returns at once; with gathering off raises only the database's
    connection errors."""
    _gatherer.submit(store, envelope)


def order_complete_required(*, order: Order, action: str) -> None:
    """Raise ValidationError when `order` is provisional: it cannot be `action` ("shipped", "cancelled",
    "refunded") before Walmart's copy (its lines' statuses, address, charges) has been read."""
    if order.provisional:
        raise ValidationError(
            f"Order {order.purchase_order_id} is awaiting Walmart's details (stored from Walmart's order "
            f"notification; Walmart's copy has not been read yet): it cannot be {action} until then. "
            "It is read again automatically; Refresh from Walmart reads it now."
        )


def _backoff_seconds(attempts: int) -> float:
    first = _setting("ORDERS_PROVISIONAL_READ_FIRST_SECONDS", PROVISIONAL_READ_FIRST_SECONDS)
    return float(min(first * 2 ** min(attempts, 20), _setting("ORDERS_PROVISIONAL_READ_MAX_SECONDS", 1800)))


def orders_provisional_sweep(now: datetime) -> int:
    """The provisional-order sweep (registered in OrdersConfig.ready): provisional orders whose read-back is due
    are claimed (the next read-back time moved on by the backoff, attempts counted) and queued, one task per
    store. Safe to run twice: a claimed order is not due again before its backoff. Returns how many were due."""
    from channel_manager.work import enqueue
    from orders.tasks import orders_provisional_read_task

    due = list(
        Order.objects.filter(provisional=True, provisional_read_at__lte=now)
        .order_by("provisional_read_at")
        .values_list("pk", "store_id", "provisional_read_attempts")[:PROVISIONAL_SWEEP_LIMIT]
    )
    by_attempts: dict[int, list[int]] = defaultdict(list)
    by_store: dict[int, list[int]] = defaultdict(list)
    for pk, store_id, attempts in due:
        by_attempts[attempts].append(pk)
        by_store[store_id].append(pk)
    claimed: set[int] = set()
    for attempts, pks in by_attempts.items():
        rows = Order.objects.filter(pk__in=pks, provisional=True, provisional_read_at__lte=now)
        claimed.update(rows.values_list("pk", flat=True))
        rows.update(
            provisional_read_at=now + timedelta(seconds=_backoff_seconds(attempts + 1)),
            provisional_read_attempts=attempts + 1,
        )
    for store_id, pks in by_store.items():
        mine = [pk for pk in pks if pk in claimed]
        if mine:
            enqueue(orders_provisional_read_task, store_id, mine)
    return len(due)


@dataclass
class ProvisionalReadResult:
    """What one read-back did: orders completed, released (Walmart does not return them; see the module),
    and the error per purchase order still provisional."""

    completed: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def orders_provisional_read(
    *, store_id: int, order_ids: Sequence[int], now: datetime | None = None
) -> ProvisionalReadResult:
    """Read the provisional orders `order_ids` of a store back from Walmart (one listing, then one by one:
    `orders.services.webhooks` read-back; the first 429, 5xx or lost connection ends it for all of them, so a
    hanging Walmart costs one timeout, not one per order) and complete them with the normal upsert. An order
    Walmart does not return is left provisional with the error (the sweep reads it again after its backoff); one
    not found since ORDERS_PROVISIONAL_GIVE_UP_SECONDS after it was stored is released
    (`order_provisional_release`). Orders completed meanwhile are skipped. Safe to re-run. Raises only the
    database's connection errors (Walmart's failures are recorded on the orders)."""
    from orders.services.webhooks import _orders_read_back, _orders_store
    from walmart_client.errors import WalmartError, WalmartNotFound

    now = now or timezone.now()
    result = ProvisionalReadResult()
    orders = list(
        Order.objects.filter(pk__in=list(order_ids), store_id=store_id, provisional=True).only(
            "pk", "store_id", "purchase_order_id", "order_date", "created_at"
        )
    )
    if not orders:
        return result
    store = Store.objects.get(pk=store_id)
    errors: dict[str, Exception] = {}
    try:
        client = walmart_client_for_store(store)
        remotes, errors = _orders_read_back(
            client=client,
            purchase_order_ids=sorted(order.purchase_order_id for order in orders),
            modified_since=min(order.order_date for order in orders) - timedelta(seconds=READ_MARGIN_SECONDS),
            stop_on=RETRYABLE,  # Walmart hangs or refuses: every order waits for its next read-back
        )
        _stored, store_errors = _orders_store(
            store=store, remotes=remotes, correlation_id=client_correlation_id(client)
        )
        errors.update(store_errors)
        result.completed = sorted(set(remotes) - set(store_errors))
    except OUTAGE_ERRORS:
        raise
    except WalmartError as error:  # rate limited, 5xx, no connection: every order keeps its backoff
        errors = {order.purchase_order_id: error for order in orders}
    give_up_before = now - timedelta(
        seconds=_setting("ORDERS_PROVISIONAL_GIVE_UP_SECONDS", PROVISIONAL_GIVE_UP_SECONDS)
    )
    for order in orders:
        failure = errors.get(order.purchase_order_id)
        if failure is None:
            continue
        if isinstance(failure, WalmartNotFound) and order.created_at <= give_up_before:
            if order_provisional_release(order_id=order.pk, reason=error_text(failure)):
                result.released.append(order.purchase_order_id)
            continue
        result.errors[order.purchase_order_id] = error_text(failure)
        Order.objects.filter(pk=order.pk, provisional=True).update(provisional_read_error=error_text(failure)[:500])
    return result


def order_provisional_release(*, order_id: int, reason: str) -> bool:
    """Give up waiting for Walmart's copy of a provisional order: release the units its lines reserved (the
    store's reservations, one stock movement per product), put it in Error with the reason, stop the sweep's
    read-backs. It stays provisional (no ship, cancel, refund); a later read that finds it completes it and
    reserves its units again. Returns False (nothing done) when it is no longer provisional or already released.
    Atomic."""
    from inventory.services import ReservationMove, reservations_apply

    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_id, provisional=True, provisional_read_at__isnull=False)
            .first()
        )
        if order is None:
            return False
        lines = list(OrderLine.objects.filter(order=order).select_related("listing").order_by("pk"))
        units: dict[int, int] = defaultdict(int)
        for line in lines:
            held = line.stock_held
            if line.listing is not None and held > 0:
                units[line.listing.product_id] += held
                line.stock_reserved -= held
        if units:
            reservations_apply(
                store_id=order.store_id,
                moves=[ReservationMove(product_id, released=count) for product_id, count in sorted(units.items())],
                actor=actor_name(Actor.SYSTEM),
                reference=f"PO {order.purchase_order_id}: not found on Walmart",
            )
            OrderLine.objects.bulk_update(lines, ["stock_reserved"])
        released = sum(units.values())
        details = (
            f"Walmart does not return purchase order {order.purchase_order_id} ({reason}), "
            f"{(timezone.now() - order.created_at).total_seconds() / 3600:.1f} h after its notification: "
            f"its {released} reserved unit(s) went back to stock. Refresh from Walmart if it appears later."
        )
        if order.status != Order.Status.ERROR:
            order_status_counts_shift(store_id=order.store_id, deltas={order.status: -1, Order.Status.ERROR: 1})
        Order.objects.filter(pk=order.pk).update(
            status=Order.Status.ERROR,
            status_details=details,
            provisional_read_at=None,
            provisional_read_error=reason[:500],
            updated_at=timezone.now(),
        )
        order_event_add(order=order, actor=Actor.SYSTEM, message=details)
    return True
