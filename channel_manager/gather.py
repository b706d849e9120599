"""Group commit inside one process: items handed in by many threads (a web server's request threads) written a batch
at a time by one thread of the process's own, so a burst costs one write per batch instead of one per item, and no
request thread waits for a write.

Only for work whose record is already durable elsewhere: what is gathered lives in this process's memory until it is
written, so a process that dies (or stops) loses it (e.g. a webhook's provisional order: its delivery's event is
committed before the answer, and the event's read-back stores the order).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

logger = logging.getLogger(__name__)


class Gatherer:
    """Items are gathered per key (a store): a key's first item waits up to `seconds()` for others (less once `most`
    are waiting), then the writer thread writes them with one `write(key, items)` call, in the order handed in; what
    comes meanwhile makes the key's next batch. `seconds()` at 0 or below turns gathering off: `submit` writes its
    item itself, at once (tests, a process that serves one request at a time). The writer thread is started by the
    first item handed in (so after a fork, in the process that serves), and never stops: an exception of `write` is
    logged and its batch dropped; its database connection is checked before each batch as around a request."""

    def __init__(
        self, write: Callable[[Any, list[Any]], object], *, seconds: Callable[[], float], most: int = 100
    ) -> None:
        self._write = write
        self._seconds = seconds
        self._most = most
        self._waiting: dict[Hashable, list[Any]] = {}
        self._due: dict[Hashable, float] = {}  # monotonic time a key's batch is written at the latest
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, key: Hashable, item: Any) -> None:
        """Hand in `item` to be written with the others of `key`; returns at once (unless gathering is off)."""
        seconds = self._seconds()
        if seconds <= 0:
            self._write(key, [item])
            return
        with self._changed:
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._waiting, self._due = {}, {}  # a forked child holds none of its parent's items
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="gatherer", daemon=True)
                self._thread.start()
            self._waiting.setdefault(key, []).append(item)
            self._due.setdefault(key, time.monotonic() + seconds)
            self._changed.notify_all()

    def _next_batch(self) -> tuple[Hashable, list[Any]]:
        """Wait for a key whose batch is due (full, or its first item waited long enough); take its batch."""
        with self._changed:
            while True:
                now = time.monotonic()
                due = [key for key, items in self._waiting.items() if len(items) >= self._most or self._due[key] <= now]
                if due:
                    key = min(due, key=self._due.__getitem__)
                    items = self._waiting.pop(key)
                    del self._due[key]
                    if len(items) > self._most:  # the rest waits no longer
                        self._waiting[key], self._due[key] = items[self._most :], now
                    return key, items[: self._most]
                self._changed.wait(timeout=min(self._due.values(), default=now + 3600) - now)

    def _run(self) -> None:
        from django.db import close_old_connections

        while True:
            key, items = self._next_batch()
            # As around a request: this thread's database connection is replaced when broken or past CONN_MAX_AGE.
            close_old_connections()
            try:
                self._write(key, items)
            except Exception:  # the writer thread must live on: the batch's own record is elsewhere
                logger.exception("A gathered batch of %d item(s) was not written", len(items))
