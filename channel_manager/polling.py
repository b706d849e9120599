"""What the order desk and the returns intake share when they read Walmart on a schedule: which stores
are due, and how a Walmart failure or answer is recorded (error text, correlation id)."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from channel_manager.models import Store

DUE_SLACK_SECONDS = 5
ERROR_TEXT_MAX_LENGTH = 2000


def stores_poll_due(
    *, enabled_field: str, settings_relation: str, default_interval_seconds: int, now: datetime | None = None
) -> list[int]:
    """Ids of the stores with the stream on (`enabled_field`, e.g. "orders_enabled") whose own poll
    interval (`<settings_relation>.poll_interval_seconds`, else `default_interval_seconds`) has elapsed
    since the last start (`last_poll_started_at`), with DUE_SLACK_SECONDS of slack for the minute tick."""
    now = now or timezone.now()
    due = []
    for store in Store.objects.filter(**{enabled_field: True}).select_related(settings_relation):
        stream_settings = getattr(store, settings_relation, None)
        interval = stream_settings.poll_interval_seconds if stream_settings else default_interval_seconds
        last = stream_settings.last_poll_started_at if stream_settings else None
        if last is None or last <= now - timedelta(seconds=interval) + timedelta(seconds=DUE_SLACK_SECONDS):
            due.append(store.pk)
    return due


def error_text(error: Exception) -> str:
    """What an operator reads about a failure: Walmart's error details joined, else the message (at most
    ERROR_TEXT_MAX_LENGTH characters). Never contains credentials: WalmartError messages carry none."""
    details = getattr(error, "errors", None)
    if details:
        return "; ".join(str(detail) for detail in details)[:ERROR_TEXT_MAX_LENGTH]
    return (getattr(error, "message", None) or str(error))[:ERROR_TEXT_MAX_LENGTH]


def client_correlation_id(client: Any) -> str:
    """The WM_QOS.CORRELATION_ID of the client's last call (at most 64 characters), or ""."""
    return str(getattr(client, "last_correlation_id", "") or "")[:64]
