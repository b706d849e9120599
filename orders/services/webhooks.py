"""Webhooks: authenticated deliveries recorded once and processed (the order is read through the API),
and the store's subscriptions on Walmart (Channel Settings -> Webhooks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from channel_manager.models import Store
from channel_manager.walmart import error_text, walmart_client_for_store
from channel_manager.work import enqueue_on_commit
from orders.mapping import webhook_envelope_parse
from orders.models import (
    Order,
    OrderEvent,
    OrderSettings,
    WebhookEvent,
)
from orders.services.common import order_settings_ensure
from orders.services.intake import order_fetch
from walmart_client import WalmartClient
from walmart_client.models import EventType, Subscription

logger = logging.getLogger(__name__)

Actor = OrderEvent.Actor
WEBHOOK_EVENT_DEADLINE_SECONDS = 120  # its own task processes an event within seconds
WEBHOOK_EVENT_MAX_ATTEMPTS = 10  # then it stays unprocessed with its error (the poll reads the order anyway)


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
    """Record an authenticated delivery once, keyed on (store, event id), and fetch its purchase order
    after commit. Returns (event, created); a duplicate returns (existing event, False) and does nothing.
    Raises ValueError (nothing recorded) when the envelope is not of Walmart's shape (`source` and `payload`
    objects, string ids) or has no event id: see `orders.mapping.webhook_envelope_parse`."""
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
            from orders.tasks import webhook_event_process_task

            enqueue_on_commit(webhook_event_process_task, event.pk)
    return event, created


def webhook_event_process(*, event_id: int) -> Order | None:
    """Fetch the purchase order a webhook named and upsert it (the webhook is only a hint). Safe to re-run
    (the upsert is keyed on the purchase order). Raises WalmartError for the task to retry, after counting
    the attempt and recording the error; an event without a purchase order is just marked processed."""
    event = WebhookEvent.objects.select_related("store").get(pk=event_id)
    order = None
    if event.event_type in OFFER_EVENT_TYPES:
        from listings.services import listing_offer_event_apply

        try:
            listing_offer_event_apply(store=event.store, envelope=event.payload)
        except ValueError as error:  # a malformed payload: recorded, never retried
            WebhookEvent.objects.filter(pk=event.pk).update(error=str(error)[:500], processed_at=timezone.now())
            return None
    elif event.purchase_order_id:
        try:
            order, _ = order_fetch(store=event.store, purchase_order_id=event.purchase_order_id, actor=Actor.WEBHOOK)
        except Exception as error:
            WebhookEvent.objects.filter(pk=event.pk).update(error=error_text(error), attempts=F("attempts") + 1)
            raise
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error="")
    return order


def webhook_events_due(*, now: datetime) -> list[int]:
    """Events received over WEBHOOK_EVENT_DEADLINE_SECONDS ago and still not processed (their task was lost
    with Redis, or failed past its retries), fewer than WEBHOOK_EVENT_MAX_ATTEMPTS attempts so far."""
    return list(
        WebhookEvent.objects.filter(
            processed_at__isnull=True,
            received_at__lt=now - timedelta(seconds=WEBHOOK_EVENT_DEADLINE_SECONDS),
            attempts__lt=WEBHOOK_EVENT_MAX_ATTEMPTS,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )


def webhook_events_sweep(now: datetime) -> int:
    """The webhook-event sweep (registered in OrdersConfig.ready): enqueue each event due. Safe to run
    twice: processing reads the order and upserts it. Returns how many were enqueued."""
    from channel_manager.work import enqueue
    from orders.tasks import webhook_event_process_task

    return sum(enqueue(webhook_event_process_task, pk) for pk in webhook_events_due(now=now))


ORDER_EVENT_TYPES = ("PO_CREATED", "PO_LINE_AUTOCANCELLED", "INTENT_TO_CANCEL", "ORDER_UPDATES")
# Item events a listing's published status follows (walmart_client.events); buy box changes are not stored.
OFFER_EVENT_TYPES = ("OFFER_PUBLISHED", "OFFER_UNPUBLISHED")


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
    """The offer events Walmart offers this seller (published / unpublished), for the listings' status."""
    try:
        return [event for event in client.notifications.item_event_types() if event.event_type in OFFER_EVENT_TYPES]
    except Exception:  # noqa: BLE001 - advisory, like the order events: the hourly read-back still runs
        return []


def webhook_subscribe(*, store: Store, event_url: str) -> int:
    """Subscribe the store's webhook endpoint to Walmart's order events, and to the offer events it offers
    (OFFER_PUBLISHED / OFFER_UNPUBLISHED: a listing's published status within seconds), in one call
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
