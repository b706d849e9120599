"""Notifications (webhooks) API: event types, subscriptions (create / list / update / delete), test.

https://developer.walmart.com/us-marketplace/reference/getallsubscriptions
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walmart_client.events import ITEM_EVENT_TYPES
from walmart_client.models import EventType, Subscription
from walmart_client.requestor import Requestor
from walmart_client.resources._common import path_part
from walmart_client.transport import Retry

SUBSCRIPTION_STATUSES = frozenset({"ACTIVE", "INACTIVE"})


def build_event(
    *,
    event_type: str,
    resource_name: str,
    event_url: str,
    event_version: str = "V1",
    auth_details: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    status: str | None = "ACTIVE",
) -> dict[str, Any]:
    """One event subscription body. Raises ValueError for a non-https URL or an unknown status."""
    if not event_url.startswith("https://") and not event_url.startswith("http://"):
        raise ValueError("event_url must be an http(s) URL")
    if status is not None and status not in SUBSCRIPTION_STATUSES:
        raise ValueError(f"status must be one of {sorted(SUBSCRIPTION_STATUSES)}")
    event: dict[str, Any] = {
        "eventType": event_type,
        "eventVersion": event_version,
        "resourceName": resource_name,
        "eventUrl": event_url,
        "headers": dict(headers or {"content-type": "application/json"}),
    }
    if auth_details:
        event["authDetails"] = dict(auth_details)
    if status is not None:
        event["status"] = status
    return event


def _subscriptions(data: Any) -> list[Subscription]:
    """Subscriptions from any of the shapes Walmart documents: the create schema's top-level `event[]`,
    its example's (and the emulator's) `events[]` of subscriptions, and GET's `events[].event[]`."""
    if not isinstance(data, Mapping):
        return []
    entries = data.get("events")
    if entries is None:
        entries = data.get("event")
    if isinstance(entries, Mapping):
        entries = [entries]
    result = []
    for entry in entries if isinstance(entries, list) else []:
        nested = entry.get("event") if isinstance(entry, Mapping) else None
        if isinstance(nested, Mapping):
            nested = [nested]
        for item in nested if isinstance(nested, list) else [entry]:
            if isinstance(item, Mapping):
                result.append(Subscription.from_api(item))
    return result


class Notifications:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def event_types(self) -> list[EventType]:
        data = self._requestor.get("/v3/webhooks/eventTypes", family="notifications.event_types") or {}
        # The schema names the list `eventTypes`; the spec's example (and so possibly Walmart) says `events`.
        return [EventType.from_api(e) for e in data.get("eventTypes") or data.get("events") or []]

    def item_event_types(self) -> list[EventType]:
        """The item and offer events (OFFER_PUBLISHED, OFFER_UNPUBLISHED, BUY_BOX_CHANGED) that Walmart offers
        this seller: the live list is the truth (NOTES §12), filtered to `walmart_client.events.ITEM_EVENT_TYPES`."""
        wanted = set(ITEM_EVENT_TYPES)
        return [event for event in self.event_types() if (event.resource_name, event.event_type) in wanted]

    def subscriptions(
        self,
        *,
        subscription_id: str | None = None,
        event_type: str | None = None,
        resource_name: str | None = None,
        status: str | None = None,
    ) -> list[Subscription]:
        params = {
            "subscriptionId": subscription_id,
            "eventType": event_type,
            "resourceName": resource_name,
            "status": status,
        }
        data = self._requestor.get_or_none("/v3/webhooks/subscriptions", family="notifications.list", params=params)
        return _subscriptions(data)

    def create_subscription(self, *, events: list[dict[str, Any]]) -> list[Subscription]:
        """Subscribe to events (bodies from `build_event`). A write: not retried once it may have been sent."""
        if not events:
            raise ValueError("at least one event is required")
        data = self._requestor.request(
            "POST",
            "/v3/webhooks/subscriptions",
            family="notifications.create",
            retry=Retry.WRITE,
            json_body={"events": events},
        )
        return _subscriptions(data)

    def update_subscription(self, subscription_id: str, **fields: Any) -> Subscription:
        """Change a subscription (`event_url`, `status`, `event_version`, `auth_details`, `headers`)."""
        names = {
            "event_type": "eventType",
            "event_version": "eventVersion",
            "resource_name": "resourceName",
            "event_url": "eventUrl",
            "auth_details": "authDetails",
            "headers": "headers",
            "status": "status",
        }
        body = {}
        for name, value in fields.items():
            if name not in names:
                raise TypeError(f"unknown subscription field {name!r}")
            if name == "status" and value not in SUBSCRIPTION_STATUSES:
                raise ValueError(f"status must be one of {sorted(SUBSCRIPTION_STATUSES)}")
            body[names[name]] = value
        if not body:
            raise ValueError("nothing to update")
        data = self._requestor.request(
            "PATCH",
            f"/v3/webhooks/subscriptions/{path_part(subscription_id)}",
            family="notifications.update",
            retry=Retry.WRITE,
            json_body=body,
        )
        return Subscription.from_api({"subscriptionId": subscription_id, **(data or {})})

    def delete_subscription(self, subscription_id: str) -> str | None:
        """Delete a subscription; returns Walmart's message."""
        data = self._requestor.request(
            "DELETE",
            f"/v3/webhooks/subscriptions/{path_part(subscription_id)}",
            family="notifications.delete",
            retry=Retry.WRITE,
        )
        return (data or {}).get("message")

    def test(self, *, event: dict[str, Any]) -> str | None:
        """Ask Walmart to call the event URL once; returns Walmart's message. Raises WalmartError when
        Walmart could not validate the URL."""
        event = {k: v for k, v in event.items() if k != "status"}
        data = self._requestor.request(
            "POST", "/v3/webhooks/test", family="notifications.test", retry=Retry.READ, json_body=event
        )
        return (data or {}).get("message")
