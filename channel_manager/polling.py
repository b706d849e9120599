"""What the order desk and the returns intake share when they read Walmart on a schedule: which stores
are due, the poll's window and watermark, and how a Walmart failure or answer is recorded (error text,
correlation id)."""

import itertools
import queue
import threading
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.utils import timezone

from channel_manager.models import Store
from channel_manager.walmart import error_text
from walmart_client import WalmartClient

DUE_SLACK_SECONDS = 5
T = TypeVar("T")


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


class _ReadFailed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_READ_END = object()
READ_AHEAD_JOIN_SECONDS = 2.0


def read_ahead(items: Iterable[T], *, chunk: int, depth: int = 1) -> Generator[list[T], None, None]:
    """`items` (a Walmart listing: each next page is an HTTP call, then parsed) read in a thread of its own,
    ahead of the caller: yields lists of up to `chunk` items in order, while the reader fills up to `depth`
    more. The caller writes one chunk while the next pages are fetched and parsed, instead of waiting for
    Walmart between its writes. The reader does no database work. `depth` 0 reads in the caller's thread,
    one chunk at a time (for a Walmart answered inside the caller's own database transaction).

    An exception raised while reading is raised here, after every chunk read before it was yielded. When the
    caller stops early, it closes the generator (`contextlib.closing`): the reader then stops at its next item.
    It is waited for READ_AHEAD_JOIN_SECONDS at most: one still inside an HTTP call (with the client's retries,
    minutes) finishes it in the background and ends there, its pages dropped, instead of holding back the
    caller's error."""
    if depth <= 0:
        iterator = iter(items)
        while batch := list(itertools.islice(iterator, chunk)):
            yield batch
        return
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(value, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def read() -> None:
        try:
            batch: list[T] = []
            for item in items:
                if stop.is_set():
                    return
                batch.append(item)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(_READ_END)
        except BaseException as error:  # noqa: BLE001 - not swallowed: handed to the caller's thread, raised there
            put(_ReadFailed(error))

    reader = threading.Thread(target=read, name="walmart-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            value = handoff.get()
            if value is _READ_END:
                return
            if isinstance(value, _ReadFailed):
                raise value.error
            yield value
    finally:
        stop.set()
        reader.join(READ_AHEAD_JOIN_SECONDS)
