"""Acknowledgement of purchase orders on Walmart (POST /v3/orders/{id}/acknowledge), and its sweep.

The same discipline as every push: the order is claimed (`acknowledging_since`), marked in flight
(`acknowledge_maybe_applied`, committed) just before the request, and an order found in flight later is
read back before anything is resent: Walmart's line statuses say whether it is acknowledged (no line
still Created), and intake records that on its own (`orders.services.diff`). No blind re-acknowledgement.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from channel_manager.intents import claim_seconds, request_maybe_applied_after
from channel_manager.models import Store
from channel_manager.polling import client_correlation_id
from channel_manager.push_tasks import OUTAGE_ERRORS, connections_reset
from channel_manager.walmart import DjangoRateLimitStore, error_text, store_cache_key, walmart_client_for_store
from orders.models import Order, OrderEvent, OrderLine
from orders.services.common import order_event_add
from orders.services.intake import order_upsert_from_walmart

logger = logging.getLogger(__name__)

Actor = OrderEvent.Actor

ACKNOWLEDGE_DUE_AFTER_SECONDS = 60  # an order's own task normally acknowledges it within seconds
ACKNOWLEDGE_FAMILY = "orders.acknowledge"  # the client's rate-limit family of POST /v3/orders/{id}/acknowledge
WAITING_TTL_SECONDS = 3600  # orders handed to a store's waiting task; the sweep re-drives them anyway
WAITING_TASK_GRACE_SECONDS = 120  # a waiting task not started this long after its time is taken as lost


def _claim_expired_before(now: datetime) -> datetime:
    """A claim (`acknowledging_since`) taken before this moment has expired (`claim_seconds`: only as long as
    one attempt can still be sending; the in-flight mark re-arms it)."""
    return now - timedelta(seconds=claim_seconds())


def _still_created(order_id: int) -> bool:
    return OrderLine.objects.filter(order_id=order_id, quantity_created__gt=0).exists()


def order_acknowledge(*, order_id: int, actor: str = Actor.SYSTEM, force: bool = False, user=None) -> bool:
    """Acknowledge a purchase order on Walmart (POST /v3/orders/{id}/acknowledge) and store the answer.

    A provisional order (stored from Walmart's notification) is not acknowledged: returns False; its read-back
    acknowledges it (`orders.services.provisional`). Runs at most once per order unless `force` (re-acknowledge,
    which Walmart allows): a claim on the row
    keeps two workers from both calling. An order whose earlier attempt may have reached Walmart (in flight
    when its worker died, or a lost answer) is read back first: when no line is still Created there, it is
    recorded as acknowledged and nothing is sent. Returns True when the order is acknowledged by this call
    (sent, or found so on Walmart). Raises WalmartError on failure (the claim is released, so a retry can
    run; an ambiguous failure leaves it marked maybe-applied, so the retry reads back first). A database or
    Redis failure (`OUTAGE_ERRORS`) anywhere releases the claim when it can and is re-raised (the task
    retries within seconds); the in-flight mark stays, so the retry reads Walmart back first.
    """
    now = timezone.now()
    claim = Order.objects.filter(pk=order_id, provisional=False).filter(
        Q(acknowledging_since__isnull=True) | Q(acknowledging_since__lt=_claim_expired_before(now))
    )
    if not force:
        claim = claim.filter(acknowledged_at__isnull=True)
    if not claim.update(acknowledging_since=now):
        return False
    held = [now]  # the claim's token: the in-flight mark re-arms it with its own time
    try:
        return _acknowledge_claimed(order_id=order_id, held=held, actor=actor, force=force, user=user)
    except OUTAGE_ERRORS:
        connections_reset()
        try:
            Order.objects.filter(pk=order_id, acknowledging_since=held[0]).update(acknowledging_since=None)
        except OUTAGE_ERRORS:  # still down: the claim expires after `claim_seconds`
            connections_reset()
        raise


def _acknowledge_claimed(*, order_id: int, held: list[datetime], actor: str, force: bool, user) -> bool:
    """`order_acknowledge` once its claim is taken (`held[0]`: the claim's token, updated when re-armed)."""
    order = Order.objects.select_related("store").get(pk=order_id)
    client = walmart_client_for_store(order.store)
    maybe_applied_before = order.acknowledge_maybe_applied
    try:
        if maybe_applied_before and not force:
            remote = client.orders.get(order.purchase_order_id)
            order_upsert_from_walmart(
                store=order.store, remote=remote, actor=actor, correlation_id=client_correlation_id(client)
            )
            if not _still_created(order_id):
                _acknowledged(
                    order,
                    actor=actor,
                    user=user,
                    correlation_id=client_correlation_id(client),
                    message="Walmart already shows it acknowledged (the earlier answer was lost); not sent again.",
                )
                return True
            maybe_applied_before = False  # Walmart shows Created lines: the earlier request was not applied
        in_flight_at = timezone.now()
        with transaction.atomic():  # in flight, committed before the request leaves; the claim re-armed
            marked = Order.objects.filter(pk=order_id, acknowledging_since=held[0]).update(
                acknowledge_maybe_applied=True, acknowledging_since=in_flight_at
            )
        if not marked:
            return False  # the claim expired and another attempt owns the order now
        held[0] = in_flight_at
        remote = client.orders.acknowledge(order.purchase_order_id)
    except Exception as error:
        from walmart_client.errors import WalmartError, WalmartRateLimited

        if isinstance(error, WalmartError):
            maybe_applied = request_maybe_applied_after(error, already=maybe_applied_before)
            Order.objects.filter(pk=order_id).update(acknowledging_since=None, acknowledge_maybe_applied=maybe_applied)
        if isinstance(error, WalmartError) and not isinstance(error, WalmartRateLimited):
            # A rate limit is a wait, not a failure (the task resumes at Walmart's refill): only a real failure
            # goes on the order's timeline.
            order_event_add(
                order=order,
                actor=actor,
                user=user,
                message=f"Acknowledgement failed: {error_text(error)}",
                correlation_id=getattr(error, "correlation_id", "") or "",
            )
        raise
    correlation_id = client_correlation_id(client)
    with transaction.atomic():
        order_upsert_from_walmart(store=order.store, remote=remote, actor=actor, correlation_id=correlation_id)
        _acknowledged(
            order,
            actor=actor,
            user=user,
            correlation_id=correlation_id,
            message="Re-acknowledged on Walmart." if force else "Acknowledged on Walmart.",
        )
    return True


def _acknowledged(order: Order, *, actor: str, user, correlation_id: str, message: str) -> None:
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            acknowledged_at=timezone.now(), acknowledging_since=None, acknowledge_maybe_applied=False
        )
        order_event_add(order=order, actor=actor, user=user, message=message, correlation_id=correlation_id)


def acknowledgements_due(*, now: datetime) -> list[int]:
    """Orders still to acknowledge (auto-acknowledge on, a line still Created, not acknowledged) whose own
    task should have done it by now: none in progress, or one whose claim expired (its worker died; it is
    marked in flight, so the next attempt reads Walmart back first)."""
    stale = now - timedelta(seconds=ACKNOWLEDGE_DUE_AFTER_SECONDS)
    return list(
        Order.objects.filter(
            acknowledged_at__isnull=True,
            provisional=False,
            created_at__lt=stale,
            store__order_settings__auto_acknowledge=True,
            lines__quantity_created__gt=0,
        )
        .filter(Q(acknowledging_since__isnull=True) | Q(acknowledging_since__lt=_claim_expired_before(now)))
        .values_list("pk", flat=True)
        .distinct()[:500]
    )


def acknowledgements_sweep(now: datetime) -> int:
    """The acknowledgement sweep (registered in OrdersConfig.ready): release expired claims, then enqueue the
    orders due, one `orders_acknowledge_task` per ACKNOWLEDGE_CHUNK orders of a store (oldest first), like
    intake. One task per order made a backlog waiting for Walmart's budget (after a burst, hundreds of orders)
    into hundreds of tasks all waking at each refill to compete for its one token, each refusal a task run and
    a timeline row; a chunk waits and resumes as one. Safe to run twice: `order_acknowledge` claims its order
    first. Returns how many orders were due."""
    from channel_manager.work import enqueue
    from orders.services.intake import ACKNOWLEDGE_CHUNK
    from orders.tasks import orders_acknowledge_task

    Order.objects.filter(acknowledged_at__isnull=True, acknowledging_since__lt=_claim_expired_before(now)).update(
        acknowledging_since=None
    )
    due = acknowledgements_due(now=now)
    by_store: dict[int, list[int]] = defaultdict(list)
    for pk, store_id in Order.objects.filter(pk__in=due).order_by("pk").values_list("pk", "store_id"):
        by_store[store_id].append(pk)
    for pks in by_store.values():
        for start in range(0, len(pks), ACKNOWLEDGE_CHUNK):
            enqueue(orders_acknowledge_task, pks[start : start + ACKNOWLEDGE_CHUNK])
    return len(due)


def acknowledge_wait_seconds(*, store: Store, now: datetime | None = None) -> float:
    """Seconds until Walmart's acknowledgement bucket for `store` holds a token, from the bucket Walmart
    reported last (`x-current-token-count`, `x-next-replenish-time`, shared by every worker): 0 when tokens
    were left or nothing is known (the request goes; a 429 then says how long to wait)."""
    info = DjangoRateLimitStore(store_cache_key(store), store.client_id).get(ACKNOWLEDGE_FAMILY)
    if info is None or info.tokens_left is None or info.tokens_left > 0:
        return 0.0
    return info.seconds_until_replenish(now)


def _waiting_key(store_id: int) -> str:
    return f"orders:acknowledge:waiting:{store_id}"


def _waiting_task_key(store_id: int) -> str:
    return f"orders:acknowledge:waiting-task:{store_id}"


def _waiting_list() -> tuple[Any, Any] | None:
    """The Redis client of the shared cache and its key maker, or None on another cache backend."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client: Any = backend._cache  # Django's RedisCacheClient (as channel_manager.locks uses it)
    return client, backend.make_and_validate_key


def acknowledgements_defer(*, store_id: int, order_pks: list[int], wait: float, attempt: int, idle_waits: int) -> None:
    """Hand orders waiting for Walmart's acknowledgement budget (`wait` seconds) to the store's one waiting
    task: they join the store's waiting list (Redis), and a waiting task is queued for the refill unless one
    already is. So a burst's chunks do not each wake at every refill to compete for its one token (each
    loser a refusal); one task takes the tokens as they come, oldest orders first. `idle_waits`: how many
    times in a row the waiting task found no token when it woke; after ACKNOWLEDGE_IDLE_WAITS the orders stay
    listed without a task (something else is spending the bucket): the next order handed on, or the orders'
    sweep, starts one again. Without Redis as the cache, the orders go to a task of their own. Never raises
    for Redis or the broker: the orders stay unacknowledged in the database, the sweep's record."""
    from channel_manager.work import enqueue
    from orders.tasks import ACKNOWLEDGE_IDLE_WAITS, orders_acknowledge_task

    redis = _waiting_list()
    if redis is None:
        enqueue(orders_acknowledge_task, order_pks, attempt, countdown=wait)
        return
    client, key_of = redis
    key = key_of(_waiting_key(store_id))
    try:
        with client.get_client(key, write=True).pipeline() as pipeline:  # listed before the task is looked for
            pipeline.rpush(key, *order_pks)
            pipeline.expire(key, WAITING_TTL_SECONDS)
            pipeline.execute()
        if idle_waits >= ACKNOWLEDGE_IDLE_WAITS:
            return
        if cache.add(_waiting_task_key(store_id), 1, timeout=int(wait) + WAITING_TASK_GRACE_SECONDS):
            enqueue(orders_acknowledge_task, [], attempt, store_id, idle_waits, countdown=wait)
    except OUTAGE_ERRORS:
        # Redis (the broker too) unreachable: the orders stay unacknowledged in the database, the sweep's record.
        logger.warning(
            "Orders %s of store %s wait for the acknowledgement sweep (Redis unreachable)", order_pks, store_id
        )


def acknowledgements_waiting_take(*, store_id: int) -> list[int]:
    """In the store's waiting task: every order handed to it so far, oldest first, taken off the list. The
    task's mark is cleared first, so an order handed on from now on queues a new waiting task. Redis
    unreachable: none (the orders stay in the database; the sweep re-drives them)."""
    redis = _waiting_list()
    if redis is None:
        return []
    client, key_of = redis
    key = key_of(_waiting_key(store_id))
    try:
        cache.delete(_waiting_task_key(store_id))
        with client.get_client(key, write=True).pipeline() as pipeline:  # MULTI: read and emptied at once
            pipeline.lrange(key, 0, -1)
            pipeline.delete(key)
            listed, _ = pipeline.execute()
    except OUTAGE_ERRORS:  # the list went with Redis (or waits for it): the sweep re-drives its orders
        logger.warning("The acknowledgement waiting list of store %s could not be read (Redis unreachable)", store_id)
        return []
    return sorted({int(pk) for pk in listed})


def acknowledgement_stores(*, order_pks: list[int]) -> dict[int, Store]:
    """The store of each order still to acknowledge among `order_pks` (two queries)."""
    store_of = dict(Order.objects.filter(pk__in=order_pks, acknowledged_at__isnull=True).values_list("pk", "store_id"))
    stores = Store.objects.in_bulk(set(store_of.values()))
    return {pk: stores[store_id] for pk, store_id in store_of.items() if store_id in stores}
