"""Event notifications: the subscriptions API and delivery of events to subscribed URLs.

Events emitted: PO_CREATED (customer simulator), INTENT_TO_CANCEL (customer asks to cancel),
PO_LINE_AUTOCANCELLED (auto-cancel sweep); a subscription to ORDER_UPDATES receives those three with
`payload.subEventType` set. OFFER_PUBLISHED / OFFER_UNPUBLISHED (resource ITEM) when an offer's published
status changes (match feed, retire, Walmart-side changes in item_events.py), BUY_BOX_CHANGED (PRICE) from the
competition simulator, REPORT_STATUS (REPORTS) when an on-request report is ready. Event types and payloads:
the notifications spec's eventTypes example and developer.walmart.com us-marketplace/docs pages
offer-published-event, offer-unpublished-event, buy-box-changed-event, report-status-notification.
Body: `{"source": {"eventType", "eventTime", "eventId"}, "payload": {...}}`.

Delivery auth (`authDetails.authMethod`):
- `HMAC`: header `authDetails.authHeaderName` (default `WM_SEC.SIGNATURE`) = lowercase **hex**
  HMAC-SHA256 of the exact body bytes, keyed with `authDetails.clientSecret` when given, else the
  seller's API client secret. (Walmart does not document hex vs base64; the emulator chose hex.)
- `BASIC_AUTH`: header `authHeaderName` (default `Authorization`) = `Basic base64(userName:password)`.
- `OAUTH`: first `POST authUrl` with `grant_type=client_credentials` and Basic(clientId:clientSecret);
  its `access_token` goes in header `authHeaderName` (default `Authorization`) as `Bearer <token>`. A
  failed token call counts as a failed attempt.
- none: an unauthenticated POST. Custom `headers` of the subscription are always added.
Each event makes one WebhookDelivery per matching ACTIVE subscription, sent by
`webhook_delivery_send_task` after commit. A non-2xx answer or a network error is retried up to
`WALMART_EMULATOR_WEBHOOK_MAX_ATTEMPTS` (default 4) times with exponential backoff from
`WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS` (default 30 s); every attempt is recorded on the delivery.
"""

import base64
import functools
import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F

from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError, not_found
from walmart_emulator.models import Seller, WebhookDelivery, WebhookSubscription

EVENT_TYPES = (
    ("ORDER", "PO_CREATED", "V1", "A purchase order was created."),
    ("ORDER", "INTENT_TO_CANCEL", "V1", "The customer asked to cancel order lines."),
    ("ORDER", "PO_LINE_AUTOCANCELLED", "V1", "Order lines were cancelled automatically (not shipped in time)."),
    ("ORDER", "ORDER_UPDATES", "V1", "All order events, with payload.subEventType."),
    ("ITEM", "OFFER_PUBLISHED", "V1", "An offer was published."),
    ("ITEM", "OFFER_UNPUBLISHED", "V1", "An offer went from published to unpublished."),
    ("PRICE", "BUY_BOX_CHANGED", "V1", "The buy box winner or winning price of an item changed."),
    ("REPORTS", "REPORT_STATUS", "V1", "An on-request report is ready (or failed)."),
)
EVENT_RESOURCES = {event_type: resource for resource, event_type, _, _ in EVENT_TYPES}
AUTH_METHODS = ("HMAC", "BASIC_AUTH", "OAUTH", "NONE", "")
DEFAULT_SIGNATURE_HEADER = "WM_SEC.SIGNATURE"
TIMEOUT_SECONDS = 10
API = "GMP_NOTIFICATION_API"


def _error(description: str, field: str = "") -> EmulatorError:
    return EmulatorError(description, field=field, code=f"INVALID_REQUEST_CONTENT.{API}")


def _auth_details_validated(auth: object) -> dict:
    if not isinstance(auth, dict) or auth.get("authMethod", "") not in AUTH_METHODS:
        raise _error("authDetails.authMethod must be HMAC, BASIC_AUTH or OAUTH.", "authDetails.authMethod")
    if auth.get("authMethod") == "BASIC_AUTH" and not (auth.get("userName") and auth.get("password")):
        raise _error("BASIC_AUTH needs userName and password.", "authDetails")
    if auth.get("authMethod") == "OAUTH" and not (
        auth.get("authUrl") and auth.get("clientId") and auth.get("clientSecret")
    ):
        raise _error("OAUTH needs authUrl, clientId and clientSecret.", "authDetails")
    return auth


def _event_type_validated(event: dict) -> str:
    event_type = event["eventType"]
    if event_type not in EVENT_RESOURCES:
        raise _error(f"eventType '{event_type}' is not supported.", "eventType")
    if event.get("resourceName", EVENT_RESOURCES[event_type]) != EVENT_RESOURCES[event_type]:
        raise _error(f"resourceName must be {EVENT_RESOURCES[event_type]} for {event_type}.", "resourceName")
    return event_type


def _validated(event: dict, *, partial: bool = False, status_required: bool = True) -> dict:
    if not isinstance(event, dict):
        raise _error("Each event must be an object.", "events")
    fields: dict[str, object] = {}
    required = () if partial else ("eventType", "eventVersion", "resourceName", "eventUrl")
    if status_required and not partial:
        required = (*required, "status")
    for name in required:
        if not event.get(name):
            raise _error(f"{name} is required.", name)
    if "eventType" in event:
        fields["event_type"] = _event_type_validated(event)
    if "resourceName" in event:
        fields["resource_name"] = event["resourceName"]
    if "eventVersion" in event:
        if event["eventVersion"] != "V1":
            raise _error("eventVersion must be V1.", "eventVersion")
        fields["event_version"] = event["eventVersion"]
    if "eventUrl" in event:
        url = event["eventUrl"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _error("eventUrl must be an http(s) URL.", "eventUrl")
        fields["event_url"] = url
    if "status" in event:
        if event["status"] not in ("ACTIVE", "INACTIVE"):
            raise _error("status must be ACTIVE or INACTIVE.", "status")
        fields["status"] = event["status"]
    if "authDetails" in event:
        fields["auth_details"] = _auth_details_validated(event["authDetails"] or {})
    if "headers" in event:
        if not isinstance(event["headers"], dict):
            raise _error("headers must be an object.", "headers")
        fields["headers"] = event["headers"]
    return fields


def subscriptions_create(*, seller: Seller, body: dict) -> list[WebhookSubscription]:
    """POST /v3/webhooks/subscriptions. All events validated first; raises EmulatorError (nothing saved)."""
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise _error("events must be a non-empty list.", "events")
    planned = [_validated(event) for event in events]
    with transaction.atomic():
        created = []
        for fields in planned:
            if WebhookSubscription.objects.filter(
                seller=seller, event_type=fields["event_type"], event_url=fields["event_url"]
            ).exists():
                raise _error(f"A subscription for {fields['event_type']} to this eventUrl already exists.", "eventUrl")
            created.append(
                WebhookSubscription.objects.create(seller=seller, subscription_id=str(uuid.uuid4()), **fields)
            )
    return created


def subscription_update(*, seller: Seller, subscription_id: str, body: dict) -> WebhookSubscription:
    """PATCH /v3/webhooks/subscriptions/{id}. Raises EmulatorError (404, 400)."""
    subscription = subscription_get(seller=seller, subscription_id=subscription_id)
    fields = _validated(body, partial=True)
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.save()
    return subscription


def subscription_get(*, seller: Seller, subscription_id: str) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.filter(seller=seller, subscription_id=subscription_id).first()
    if subscription is None:
        raise not_found(f"Subscription '{subscription_id}' was not found.", field="subscriptionId", api=API)
    return subscription


def subscription_delete(*, seller: Seller, subscription_id: str) -> None:
    subscription_get(seller=seller, subscription_id=subscription_id).delete()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def webhook_event_emit(
    *, seller: Seller, event_type: str, payload: dict, now: datetime | None = None
) -> list[WebhookDelivery]:
    """Record one delivery per matching active subscription and send them after commit."""
    return webhook_events_emit(seller=seller, event_type=event_type, payloads=[payload], now=now)


def webhook_events_emit(
    *, seller: Seller, event_type: str, payloads: list[dict], now: datetime | None = None
) -> list[WebhookDelivery]:
    """One event per payload (a feed can publish thousands of offers): one query for the subscriptions, one
    bulk insert for the deliveries, each sent after commit. Nothing is written without a subscription."""
    now = now or emulator_now()
    wanted = [event_type, "ORDER_UPDATES"] if EVENT_RESOURCES.get(event_type) == "ORDER" else [event_type]
    subscriptions = list(WebhookSubscription.objects.filter(seller=seller, status="ACTIVE", event_type__in=wanted))
    if not subscriptions or not payloads:
        return []
    deliveries = []
    for subscription in subscriptions:
        for payload in payloads:
            event_id = str(uuid.uuid4())
            body_payload = payload if subscription.event_type == event_type else {**payload, "subEventType": event_type}
            body = json.dumps(
                {
                    "source": {"eventType": subscription.event_type, "eventTime": _iso(now), "eventId": event_id},
                    "payload": body_payload,
                },
                separators=(",", ":"),
            )
            deliveries.append(
                WebhookDelivery(
                    subscription=subscription, event_id=event_id, event_type=event_type, body=body, created_at=now
                )
            )
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
    from walmart_emulator.tasks import webhook_delivery_send_task

    for delivery in deliveries:
        transaction.on_commit(functools.partial(webhook_delivery_send_task.delay, delivery.pk))
    return deliveries


_sessions = threading.local()


def _session() -> requests.Session:
    """This thread's HTTP session: a burst's deliveries to one subscriber reuse its open connections (keep-alive)
    instead of opening one per event."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
    return session


def webhook_signature(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of `body` keyed with `secret` (what the emulator sends)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DeliveryAuthError(Exception):
    """The subscriber's OAuth token endpoint did not hand out a token."""


def oauth_token(auth: dict) -> str:
    """client_credentials against the subscriber's authUrl. Raises DeliveryAuthError."""
    try:
        response = requests.post(
            auth["authUrl"],
            data={"grant_type": "client_credentials"},
            auth=(auth["clientId"], auth["clientSecret"]),
            timeout=TIMEOUT_SECONDS,
        )
        token = response.json().get("access_token") if response.status_code == 200 else None
    except (requests.RequestException, ValueError) as error:
        raise DeliveryAuthError(f"OAuth token request failed: {type(error).__name__}") from error
    if not token:
        raise DeliveryAuthError(f"OAuth token request answered HTTP {response.status_code} without access_token")
    return str(token)


def delivery_headers(subscription: WebhookSubscription, body: bytes) -> dict[str, str]:
    """Headers of one delivery (may call the subscriber's OAuth endpoint; raises DeliveryAuthError)."""
    headers = {"Content-Type": "application/json"}
    headers.update({key: str(value) for key, value in (subscription.headers or {}).items()})
    auth = subscription.auth_details or {}
    method = auth.get("authMethod", "")
    if method == "HMAC":
        secret = auth.get("clientSecret") or subscription.seller.client_secret
        headers[auth.get("authHeaderName") or DEFAULT_SIGNATURE_HEADER] = webhook_signature(body, secret)
    elif method == "BASIC_AUTH":
        token = base64.b64encode(f"{auth['userName']}:{auth['password']}".encode()).decode()
        headers[auth.get("authHeaderName") or "Authorization"] = f"Basic {token}"
    elif method == "OAUTH":
        headers[auth.get("authHeaderName") or "Authorization"] = f"Bearer {oauth_token(auth)}"
    return headers


def webhook_post(subscription: WebhookSubscription, body: str) -> tuple[int | None, str]:
    """POST once. Returns (status code or None, error text)."""
    raw = body.encode()
    try:
        headers = delivery_headers(subscription, raw)
    except DeliveryAuthError as error:
        return None, str(error)[:500]
    try:
        response = _session().post(subscription.event_url, data=raw, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    return response.status_code, "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def webhook_delivery_attempt(*, delivery_pk: int) -> WebhookDelivery:
    """Send a pending delivery once and record the attempt (one read, one write: a burst's deliveries go out
    many at once); schedules the next try while attempts remain. A delivered or failed delivery is left alone
    (safe to re-run; two attempts at once may both send: delivery is at least once, like Walmart's)."""
    delivery = WebhookDelivery.objects.select_related("subscription__seller").get(pk=delivery_pk)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return delivery
    status_code, error = webhook_post(delivery.subscription, delivery.body)
    max_attempts = getattr(settings, "WALMART_EMULATOR_WEBHOOK_MAX_ATTEMPTS", 4)
    delivery.attempts += 1
    if not error:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, emulator_now()
    elif delivery.attempts >= max_attempts:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.last_status_code, delivery.last_error = status_code, error
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        attempts=F("attempts") + 1,
        status=delivery.status,
        delivered_at=delivery.delivered_at,
        last_status_code=status_code,
        last_error=error,
    )
    if delivery.status == WebhookDelivery.Status.PENDING:
        from walmart_emulator.tasks import webhook_delivery_send_task

        base = float(getattr(settings, "WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS", 30))
        webhook_delivery_send_task.apply_async((delivery.pk,), countdown=base * 2 ** (delivery.attempts - 1))
    return delivery


def webhook_test(*, seller: Seller, body: dict) -> dict:
    """POST /v3/webhooks/test: send a test event to eventUrl now; 200 from it -> validated, else 400."""
    fields = _validated(body, status_required=False)
    subscription = WebhookSubscription(seller=seller, subscription_id="test", **fields)
    payload = json.dumps(
        {
            "source": {
                "eventType": fields["event_type"],
                "eventTime": _iso(emulator_now()),
                "eventId": str(uuid.uuid4()),
            },
            "payload": {"test": True},
        },
        separators=(",", ":"),
    )
    status_code, _error_text = webhook_post(subscription, payload)
    if status_code is None:
        # Like Walmart, say only that the URL could not be reached: the connection error's own words (refused,
        # timed out, no route) would tell the caller which hosts and ports exist behind this server.
        raise _error("eventUrl could not be reached.", "eventUrl")
    if status_code != 200:
        raise _error(f"eventUrl did not answer 200 (HTTP {status_code}).", "eventUrl")
    return {"message": "Eventurl successfully validated"}


def subscription_json(subscription: WebhookSubscription) -> dict:
    auth = dict(subscription.auth_details or {})
    for secret in ("password", "clientSecret"):
        if auth.get(secret):
            auth[secret] = "****"
    return {
        "eventType": subscription.event_type,
        "subscriptionId": subscription.subscription_id,
        "partnerId": subscription.seller.partner_id,
        "eventVersion": subscription.event_version,
        "resourceName": subscription.resource_name,
        "status": subscription.status,
        "eventUrl": subscription.event_url,
        "authDetails": auth,
        "headers": subscription.headers or {},
    }
