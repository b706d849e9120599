"""What the order desk and the returns intake share when they read Walmart on a schedule: which stores
are due, the poll's window and watermark, and how a Walmart failure or answer is recorded (error text,
correlation id)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from channel_manager.models import Store
from channel_manager.walmart import error_text
from walmart_client import WalmartClient

DUE_SLACK_SECONDS = 5


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


def client_correlation_id(client: WalmartClient) -> str:
    """The WM_QOS.CORRELATION_ID of the client's last call (at most 64 characters), or ""."""
    return str(getattr(client, "last_correlation_id", "") or "")[:64]


@dataclass(frozen=True)
class PollWindow:
    started: datetime
    window_start: datetime


def poll_start(stream_settings: Any, *, initial_lookback: timedelta) -> PollWindow:
    """Record the start of a poll on `stream_settings` (an OrderSettings / ReturnSettings row: it has
    poll_overlap_seconds, polled_through, last_poll_started_at) and return its window: from the watermark
    minus the overlap, or `initial_lookback` before now on the first poll."""
    started = timezone.now()
    type(stream_settings).objects.filter(pk=stream_settings.pk).update(last_poll_started_at=started)
    if stream_settings.polled_through:
        window_start = stream_settings.polled_through - timedelta(seconds=stream_settings.poll_overlap_seconds)
    else:
        window_start = started - initial_lookback
    return PollWindow(started=started, window_start=window_start)


@contextmanager
def poll_recorded(stream_settings: Any, window: PollWindow) -> Iterator[None]:
    """Around a poll's reads: on any exception, record its text as last_poll_error and re-raise (the
    watermark is untouched, so the next poll redoes the same window); on success, advance the watermark
    to the poll's start and clear the error."""
    rows = type(stream_settings).objects.filter(pk=stream_settings.pk)
    try:
        yield
    except Exception as error:
        rows.update(last_poll_error=error_text(error))
        raise
    rows.update(polled_through=window.started, last_poll_finished_at=timezone.now(), last_poll_error="")
