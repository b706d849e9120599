"""Webhooks: authenticated deliveries recorded once and processed (the order is read through the API),
and the store's subscriptions on Walmart (Channel Settings -> Webhooks)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from channel_manager.models import Store
from channel_manager.polling import client_correlation_id
from channel_manager.push_tasks import OUTAGE_ERRORS
from channel_manager.walmart import RETRYABLE, error_text, walmart_client_for_store
from channel_manager.work import enqueue
from orders.mapping import webhook_envelope_parse
from orders.models import (
    Order,
    OrderEvent,
    OrderSettings,
    WebhookEvent,
)
from orders.services.common import order_settings_ensure
from orders.services.intake import orders_upsert_from_walmart
from walmart_client import WalmartClient
from walmart_client.models import EventType, Subscription, WalmartOrder

logger = logging.getLogger(__name__)

Actor = OrderEvent.Actor
WEBHOOK_EVENT_DEADLINE_SECONDS = 120  # its store's batch processes an event within seconds
WEBHOOK_EVENT_MAX_ATTEMPTS = 10  # then it stays unprocessed with its error (the poll reads the order anyway)
WEBHOOK_BATCH_SIZE = 500  # events one batch claims
WEBHOOK_BATCH_DELAY_SECONDS = 0.5  # a batch starts this long after the first event it takes (setting overrides)
WEBHOOK_BATCH_KEY_SECONDS = 30  # the debounce key outlives a queued batch by this much (then the next event queues)
WEBHOOK_CLAIM_SECONDS = 60  # a batch's claim on its events; older, its worker died and the sweep releases it
WEBHOOK_WINDOW_MIN_ORDERS = 3  # from this many orders in a batch, one listing reads them back
WEBHOOK_WINDOW_EXTRA_PAGES = 2  # pages read beyond what the batch needs before reading the rest one by one
WEBHOOK_WINDOW_MARGIN_SECONDS = 120  # the listing starts this long before the batch's first event
READ_BACK_PAGE_SIZE = 200  # Walmart's maximum page of orders


def webhook_signature_valid(*, order_settings: OrderSettings, body: bytes, headers: Mapping[str, str]) -> bool:
    """Does this delivery carry the authentication the subscription asked Walmart for?

    HMAC: the configured header holds HMAC-SHA256 of the raw body keyed with the store's client secret
    (hex or base64: Walmart does not document the encoding, both are accepted). Basic: the configured
    header (or Authorization) holds base64(user:password). Constant-time comparisons; never raises.
    """
    header_name = order_settings.webhook_auth_header or "Authorization"
    lowered = {key.lower(): value for key, value in headers.items()}
    received = (lowered.get(header_name.lower()) or "").strip()
    try:
        if order_settings.webhook_auth_method == OrderSettings.WebhookAuth.BASIC:
            received = received or (lowered.get("authorization") or "").strip()
            # Both configured, never an empty password: "user:" would otherwise be a valid credential.
            if not order_settings.webhook_basic_username or not order_settings.webhook_basic_password:
                return False
            token = received.removeprefix("Basic ").strip()
            expected = base64.b64encode(
                f"{order_settings.webhook_basic_username}:{order_settings.webhook_basic_password}".encode()
            ).decode()
            return bool(token) and hmac.compare_digest(token.encode(), expected.encode())
        if not received:
            return False
        digest = hmac.new(order_settings.store.client_secret.encode(), body, hashlib.sha256).digest()
        candidates = (digest.hex(), base64.b64encode(digest).decode())
        value = received.removeprefix("sha256=")
        return any(hmac.compare_digest(value.encode(), candidate.encode()) for candidate in candidates)
    except Exception:  # noqa: BLE001 - a malformed header or an undecryptable secret is a refusal, never a 500
        logger.warning("Webhook authentication of store %s could not be checked.", order_settings.store_id)
        return False


def webhook_event_record(*, store: Store, envelope: Any) -> tuple[WebhookEvent | None, bool]:
    """Record an authenticated delivery once, keyed on (store, event id), and queue the store's batch after
    commit (debounced: a burst of deliveries gives few batches). Returns (event, created); a duplicate returns
    (existing event, False) and does nothing. Raises ValueError (nothing recorded) when the envelope is not of
    Walmart's shape (`source` and `payload` objects, string ids) or has no event id: see
    `orders.mapping.webhook_envelope_parse`. The endpoint then answers and stores a PO_CREATED event's purchase
    order, provisional (`orders.services.provisional.order_provisional_store`)."""
    parsed = webhook_envelope_parse(envelope)
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            store=store,
            event_id=parsed.event_id,
            defaults={
                "event_type": parsed.event_type,
                "purchase_order_id": parsed.purchase_order_id,
                "payload": dict(envelope),
            },
        )
        if created:
            store_id = store.pk
            transaction.on_commit(lambda: webhook_events_enqueue(store_id=store_id))
    return event, created


def _batch_key(store_id: int) -> str:
    return f"orders:webhook-batch:{store_id}"


def _batch_delay_seconds() -> float:
    return float(getattr(settings, "ORDERS_WEBHOOK_BATCH_DELAY_SECONDS", WEBHOOK_BATCH_DELAY_SECONDS))


def webhook_events_enqueue(*, store_id: int) -> bool:
    """Queue one batch of the store's pending events in ORDERS_WEBHOOK_BATCH_DELAY_SECONDS (call it after the
    events committed). Debounced: while a queued batch has not started, further calls queue nothing (that batch
    claims their events too); a batch that has started lets the next event queue the next batch. Never raises
    (a lost batch is the sweep's: events unprocessed after WEBHOOK_EVENT_DEADLINE_SECONDS). Returns whether a
    batch was queued."""
    from orders.tasks import webhook_events_process_task

    delay = _batch_delay_seconds()
    try:
        first = cache.add(_batch_key(store_id), 1, timeout=int(delay) + WEBHOOK_BATCH_KEY_SECONDS)
    except Exception:  # noqa: BLE001 - Redis down: no debounce; the enqueue below is logged, never raised
        logger.warning("Webhook batch debounce unavailable for store %s", store_id, exc_info=True)
        first = True
    if not first:
        return False
    queued = enqueue(webhook_events_process_task, store_id, countdown=delay)
    if not queued:  # the broker is down: the next event tries again
        with contextlib.suppress(Exception):
            cache.delete(_batch_key(store_id))
    return queued


@dataclass
class WebhookBatchResult:
    """What one batch did: events processed, events that failed (with the error, recorded on the row and
    counted as an attempt unless Walmart only asked to wait), orders upserted."""

    processed: list[int] = field(default_factory=list)
    failed: dict[int, Exception] = field(default_factory=dict)
    orders: int = 0

    def first_error(self) -> Exception | None:
        return next(iter(self.failed.values()), None)


def _events_claim(*, store_id: int, event_ids: Sequence[int] | None, now: datetime) -> list[WebhookEvent]:
    """Claim the store's pending events (oldest first, at most WEBHOOK_BATCH_SIZE) in their own committed
    transaction, before Walmart is read: rows another batch holds are skipped (FOR UPDATE SKIP LOCKED, and a
    claim younger than WEBHOOK_CLAIM_SECONDS), so two batches never process one event together."""
    free = Q(processing_since__isnull=True) | Q(processing_since__lt=now - timedelta(seconds=WEBHOOK_CLAIM_SECONDS))
    pending = WebhookEvent.objects.filter(
        free, store_id=store_id, processed_at__isnull=True, attempts__lt=WEBHOOK_EVENT_MAX_ATTEMPTS
    )
    if event_ids is not None:
        pending = pending.filter(pk__in=list(event_ids))
    with transaction.atomic():
        events = list(pending.select_for_update(skip_locked=True).order_by("received_at", "pk")[:WEBHOOK_BATCH_SIZE])
        if events:
            WebhookEvent.objects.filter(pk__in=[event.pk for event in events]).update(processing_since=now)
    return events


def _event_time(event: WebhookEvent) -> datetime:
    """When Walmart says the event happened (its clock, like the orders' lastModified), else when received."""
    source = event.payload.get("source") if isinstance(event.payload, dict) else None
    value = source.get("eventTime") if isinstance(source, dict) else None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        return event.received_at
    return min(parsed, event.received_at)


def _orders_read_back(
    *,
    client: WalmartClient,
    purchase_order_ids: Sequence[str],
    modified_since: datetime,
    stop_on: tuple[type[Exception], ...] = (),
) -> tuple[dict[str, WalmartOrder], dict[str, Exception]]:
    """Walmart's current copy of each purchase order: one GET /v3/orders listing of the orders modified since
    `modified_since` (200 a page, at most the pages the batch needs plus WEBHOOK_WINDOW_EXTRA_PAGES) when the
    batch names WEBHOOK_WINDOW_MIN_ORDERS or more, then GET /v3/orders/{id} for each one still missing.
    Returns (orders found, error per purchase order not read). Raises WalmartRateLimited (nothing lost: the
    caller releases its claims and is rescheduled), and the first failure of a type in `stop_on` (the listing's
    too): a caller that retries later anyway need not wait out one timeout per order while Walmart hangs."""
    from walmart_client.errors import WalmartError, WalmartRateLimited

    stopping: tuple[type[BaseException], ...] = (WalmartRateLimited, *stop_on)
    wanted = set(purchase_order_ids)
    found: dict[str, WalmartOrder] = {}
    errors: dict[str, Exception] = {}
    if len(wanted) >= WEBHOOK_WINDOW_MIN_ORDERS:
        most = (len(wanted) // READ_BACK_PAGE_SIZE + 1 + WEBHOOK_WINDOW_EXTRA_PAGES) * READ_BACK_PAGE_SIZE
        created_within = timedelta(days=getattr(settings, "ORDERS_POLL_CREATED_WITHIN_DAYS", 30))
        listed = 0
        try:
            for remote in client.orders.iter_all(
                last_modified_start_date=modified_since,
                created_start_date=modified_since - created_within,
                limit=READ_BACK_PAGE_SIZE,
            ):
                listed += 1
                if remote.purchase_order_id in wanted:
                    found[remote.purchase_order_id] = remote
                if len(found) == len(wanted) or listed >= most:
                    break
        except stopping:
            raise
        except WalmartError:  # the listing failed: each order is read on its own below
            logger.warning("Webhook read-back listing failed; reading %d orders one by one", len(wanted) - len(found))
    for purchase_order_id in sorted(wanted - set(found)):
        try:
            found[purchase_order_id] = client.orders.get(purchase_order_id)
        except (*stopping, *OUTAGE_ERRORS):
            raise
        except Exception as error:  # noqa: BLE001 - this order's own failure, recorded on its events
            errors[purchase_order_id] = error
    return found, errors


def _orders_store(
    *, store: Store, remotes: dict[str, WalmartOrder], correlation_id: str
) -> tuple[int, dict[str, Exception]]:
    """Upsert the batch's orders in one call; if that fails, one by one, so a bad order fails only its events.
    Returns (orders stored, error per purchase order not stored)."""
    if not remotes:
        return 0, {}
    try:
        orders_upsert_from_walmart(
            store=store, remotes=list(remotes.values()), actor=Actor.WEBHOOK, correlation_id=correlation_id
        )
        return len(remotes), {}
    except OUTAGE_ERRORS:
        raise
    except Exception:  # noqa: BLE001 - narrowed below: each order alone, its own error on its own events
        logger.warning("Webhook batch upsert of store %s failed; storing its orders one by one", store.pk)
    stored, errors = 0, {}
    for purchase_order_id, remote in remotes.items():
        try:
            orders_upsert_from_walmart(
                store=store, remotes=[remote], actor=Actor.WEBHOOK, correlation_id=correlation_id
            )
            stored += 1
        except OUTAGE_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - recorded on the order's events
            errors[purchase_order_id] = error
    return stored, errors


def webhook_events_process(
    *, store_id: int, event_ids: Sequence[int] | None = None, now: datetime | None = None
) -> WebhookBatchResult:
    """Process a batch of the store's pending webhook events (all of them up to WEBHOOK_BATCH_SIZE, or only
    `event_ids`): claim them (committed), read their purchase orders back from Walmart (the webhook is only a
    hint; `_orders_read_back`: one listing for many orders), upsert them in one call, and mark the events
    processed in one UPDATE. Offer events update their listing. Safe to re-run: an event is processed once
    (claims; `processed_at`), the upsert is keyed on the purchase order.

    A failing event does not stop the batch: its error is recorded on its row with the attempt counted, its
    claim released, and the others are processed (the failure is in the result: the task retries what can
    clear by itself; the sweep takes the rest after WEBHOOK_EVENT_DEADLINE_SECONDS). Raises WalmartRateLimited
    when Walmart asks to wait, after releasing the claims of what is left (no attempt counted)."""
    from walmart_client.errors import WalmartRateLimited

    now = now or timezone.now()
    result = WebhookBatchResult()
    if event_ids is None:
        # This batch has started: the next event queues the next one (a batch that only ended the debounce
        # when it finished would leave the events that came meanwhile to the sweep).
        with contextlib.suppress(Exception):  # Redis down: the key expires by itself
            cache.delete(_batch_key(store_id))
    events = _events_claim(store_id=store_id, event_ids=event_ids, now=now)
    if not events:
        return result
    if event_ids is None and len(events) == WEBHOOK_BATCH_SIZE:
        transaction.on_commit(lambda: webhook_events_enqueue(store_id=store_id))  # more are waiting
    store = events[0].store
    by_order: dict[str, list[WebhookEvent]] = defaultdict(list)
    for event in events:
        if event.event_type in OFFER_EVENT_TYPES:
            _offer_event_process(event=event, store=store, result=result)
        elif event.purchase_order_id:
            by_order[event.purchase_order_id].append(event)
        else:
            result.processed.append(event.pk)
    try:
        if by_order:
            client = walmart_client_for_store(store)
            modified_since = min(_event_time(event) for group in by_order.values() for event in group)
            remotes, errors = _orders_read_back(
                client=client,
                purchase_order_ids=sorted(by_order),
                modified_since=modified_since - timedelta(seconds=WEBHOOK_WINDOW_MARGIN_SECONDS),
            )
            stored, store_errors = _orders_store(
                store=store, remotes=remotes, correlation_id=client_correlation_id(client)
            )
            result.orders = stored
            errors.update(store_errors)
            for purchase_order_id, group in by_order.items():
                error = errors.get(purchase_order_id)
                for event in group:
                    if error is None:
                        result.processed.append(event.pk)
                    else:
                        result.failed[event.pk] = error
    except WalmartRateLimited:
        _events_finish(result, now=timezone.now())
        webhook_events_release(store_id=store_id, claimed_at=now)
        raise
    _events_finish(result, now=timezone.now())
    return result


def webhook_events_release(*, store_id: int, claimed_at: datetime) -> int:
    """Give back the claims a batch took at `claimed_at` on events it did not finish (Walmart asked to wait,
    or our database failed mid-batch): the next batch takes them at once. Returns how many."""
    return WebhookEvent.objects.filter(
        store_id=store_id, processing_since=claimed_at, processed_at__isnull=True
    ).update(processing_since=None)


def _offer_event_process(*, event: WebhookEvent, store: Store, result: WebhookBatchResult) -> None:
    from listings.services import listing_offer_event_apply

    try:
        listing_offer_event_apply(store=store, envelope=event.payload)
    except ValueError as error:  # a malformed payload: recorded, never retried
        WebhookEvent.objects.filter(pk=event.pk).update(
            error=str(error)[:500], processed_at=timezone.now(), processing_since=None
        )
    except OUTAGE_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001 - this event's own failure, recorded on its row
        result.failed[event.pk] = error
    else:
        result.processed.append(event.pk)


def _events_finish(result: WebhookBatchResult, *, now: datetime) -> None:
    """Mark the processed events (one UPDATE) and record each failure on its event (one UPDATE per error),
    counting the attempt. A failure that can clear by itself (5xx, connection) releases the claim: the task's
    retry takes the event again. Any other failure (Walmart cannot find the order, a bad answer) keeps its claim
    as a back-off: the next batches leave it alone for WEBHOOK_CLAIM_SECONDS, then the sweep re-drives it."""
    if result.processed:
        WebhookEvent.objects.filter(pk__in=result.processed).update(processed_at=now, error="", processing_since=None)
    by_outcome: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for pk, error in result.failed.items():
        by_outcome[(error_text(error), isinstance(error, RETRYABLE))].append(pk)
    for (text, retryable), pks in by_outcome.items():
        WebhookEvent.objects.filter(pk__in=pks).update(
            error=text, attempts=F("attempts") + 1, processing_since=None if retryable else now
        )


def webhook_event_process(*, event_id: int, now: datetime | None = None) -> Order | None:
    """Process one event (`webhook_events_process` restricted to it, claimed at `now`): fetch the purchase
    order it names and upsert it. Safe to re-run. Raises the event's error (WalmartError for the task to retry)
    after recording it and counting the attempt; an event already processed, or claimed by a running batch, is
    left alone."""
    event = WebhookEvent.objects.filter(pk=event_id).only("store_id", "purchase_order_id").first()
    if event is None:
        return None
    result = webhook_events_process(store_id=event.store_id, event_ids=[event_id], now=now)
    error = result.first_error()
    if error is not None:
        raise error
    if not event.purchase_order_id or event_id not in result.processed:
        return None
    return Order.objects.filter(store_id=event.store_id, purchase_order_id=event.purchase_order_id).first()


def webhook_events_due(*, now: datetime) -> list[int]:
    """Events received over WEBHOOK_EVENT_DEADLINE_SECONDS ago and still not processed (their batch was lost
    with Redis, or failed past its retries), fewer than WEBHOOK_EVENT_MAX_ATTEMPTS attempts so far, and not
    claimed by a running batch (a claim older than WEBHOOK_CLAIM_SECONDS has expired: its worker died)."""
    return list(
        WebhookEvent.objects.filter(
            Q(processing_since__isnull=True) | Q(processing_since__lt=now - timedelta(seconds=WEBHOOK_CLAIM_SECONDS)),
            processed_at__isnull=True,
            received_at__lt=now - timedelta(seconds=WEBHOOK_EVENT_DEADLINE_SECONDS),
            attempts__lt=WEBHOOK_EVENT_MAX_ATTEMPTS,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )


def webhook_events_sweep(now: datetime) -> int:
    """The webhook-event sweep (registered in OrdersConfig.ready): release the claims of batches whose worker
    died (older than WEBHOOK_CLAIM_SECONDS), then queue one batch per store with events due. Safe to run twice:
    a batch claims its events first. Returns how many events were due."""
    from orders.tasks import webhook_events_process_task

    WebhookEvent.objects.filter(
        processed_at__isnull=True, processing_since__lt=now - timedelta(seconds=WEBHOOK_CLAIM_SECONDS)
    ).update(processing_since=None)
    due = webhook_events_due(now=now)
    store_ids = sorted(set(WebhookEvent.objects.filter(pk__in=due).values_list("store_id", flat=True)))
    for store_id in store_ids:
        enqueue(webhook_events_process_task, store_id)
    return len(due)


ORDER_EVENT_TYPES = ("PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL", "ORDER_UPDATES")
# Item events a listing and the store's Walmart items follow (walmart_client.events): published status, buy box.
OFFER_EVENT_TYPES = ("OFFER_PUBLISHED", "OFFER_UNPUBLISHED", "BUY_BOX_CHANGED")


def webhook_endpoint_url(*, order_settings: OrderSettings) -> str:
    """The URL Walmart delivers this store's events to: `settings.PUBLIC_BASE_URL` (where Walmart reaches this
    product) and the store's secret path. Never built from a request's Host header, which the sender of the
    request chooses (a subscription or test could be pointed at any host and port). '' when PUBLIC_BASE_URL is
    not set: nothing can be subscribed or tested then."""
    base = (getattr(settings, "PUBLIC_BASE_URL", "") or "").strip().rstrip("/")
    if not base:
        return ""
    return base + reverse("orders:webhook_receive", args=[order_settings.webhook_token])


def _webhook_auth_details(order_settings: OrderSettings) -> dict[str, str]:
    if order_settings.webhook_auth_method == OrderSettings.WebhookAuth.BASIC:
        return {
            "authMethod": "BASIC_AUTH",
            "authHeaderName": order_settings.webhook_auth_header or "Authorization",
            "userName": order_settings.webhook_basic_username,
            "password": order_settings.webhook_basic_password,
        }
    return {"authMethod": "HMAC", "authHeaderName": order_settings.webhook_auth_header}


def _order_event_types(client: WalmartClient) -> list[str]:
    """The order events to subscribe to: the specific ones Walmart offers (ORDER_UPDATES carries the same
    events again, so it is only used when they are not offered)."""
    try:
        offered = {event.event_type for event in client.notifications.event_types() if event.resource_name == "ORDER"}
    except Exception:  # noqa: BLE001 - the event-type list is advisory; PO_CREATED is always offered
        offered = set()
    chosen = [event_type for event_type in ORDER_EVENT_TYPES[:3] if event_type in offered]
    if chosen:
        return chosen
    return ["ORDER_UPDATES"] if "ORDER_UPDATES" in offered else ["PO_CREATED"]


def _offer_event_types(client: WalmartClient) -> list[EventType]:
    """The item events Walmart offers this seller (offer published / unpublished, buy box changed), for the
    listings and the store's Walmart items."""
    try:
        return [event for event in client.notifications.item_event_types() if event.event_type in OFFER_EVENT_TYPES]
    except Exception:  # noqa: BLE001 - advisory, like the order events: the hourly read-back still runs
        return []


def webhook_subscribe(*, store: Store, event_url: str) -> int:
    """Subscribe the store's webhook endpoint to Walmart's order events, and to the offer events it offers
    (OFFER_PUBLISHED / OFFER_UNPUBLISHED / BUY_BOX_CHANGED: a listing's and a Walmart item's published status and
    buy box within seconds), in one call
    (POST /v3/webhooks/subscriptions) with the configured authentication. Returns how many ORDER
    subscriptions now point at the endpoint. Raises WalmartError (e.g. when one already exists: unsubscribe first)."""
    from walmart_client.resources.notifications import build_event

    order_settings = order_settings_ensure(store=store)
    client = walmart_client_for_store(store)
    auth_details = _webhook_auth_details(order_settings)
    events = [
        build_event(event_type=event_type, resource_name="ORDER", event_url=event_url, auth_details=auth_details)
        for event_type in _order_event_types(client)
    ]
    events += [
        build_event(
            event_type=offered.event_type,
            resource_name=offered.resource_name,
            event_url=event_url,
            auth_details=auth_details,
        )
        for offered in _offer_event_types(client)
    ]
    client.notifications.create_subscription(events=events)
    # Walmart's spec answers `event` and its example `events`: read the subscriptions back instead.
    ours = [
        subscription
        for subscription in client.notifications.subscriptions(resource_name="ORDER")
        if subscription.event_url == event_url and subscription.subscription_id
    ]
    OrderSettings.objects.filter(pk=order_settings.pk).update(
        webhook_subscription_ids=sorted({subscription.subscription_id for subscription in ours})
    )
    return len(ours)


def webhook_unsubscribe(*, store: Store) -> int:
    """Delete every subscription of the seller pointing at this store's endpoint (or recorded by us): order
    and offer events. Returns how many were deleted. Raises WalmartError."""
    order_settings = order_settings_ensure(store=store)
    client = walmart_client_for_store(store)
    recorded = set(order_settings.webhook_subscription_ids)
    deleted = 0
    for subscription in client.notifications.subscriptions():
        ours = subscription.subscription_id in recorded or order_settings.webhook_token in (
            subscription.event_url or ""
        )
        if ours and subscription.subscription_id:
            client.notifications.delete_subscription(subscription.subscription_id)
            deleted += 1
    OrderSettings.objects.filter(pk=order_settings.pk).update(webhook_subscription_ids=[])
    return deleted


def webhook_test(*, store: Store, event_url: str) -> str:
    """Ask Walmart to deliver its test event to the endpoint (POST /v3/webhooks/test). Returns Walmart's
    message. Raises WalmartError when Walmart could not validate the URL."""
    from walmart_client.resources.notifications import build_event

    order_settings = order_settings_ensure(store=store)
    client = walmart_client_for_store(store)
    event = build_event(
        event_type="PO_CREATED",
        resource_name="ORDER",
        event_url=event_url,
        auth_details=_webhook_auth_details(order_settings),
    )
    return client.notifications.test(event=event) or "OK"


def webhook_subscriptions(*, store: Store) -> tuple[list[Subscription], str]:
    """The seller's ORDER subscriptions on Walmart, and an error text instead when Walmart cannot be read."""
    try:
        return list(walmart_client_for_store(store).notifications.subscriptions(resource_name="ORDER")), ""
    except Exception as error:  # noqa: BLE001 - shown on the settings page
        return [], f"Could not read the subscriptions from Walmart: {error_text(error)}"
