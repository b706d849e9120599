"""Walmart answered by the emulator inside the test's own process and transaction: every request the client
sends to the store's base URL is caught at the HTTP boundary (`responses`) and handed to the emulator's
views through Django's test client. No live server, so tests run in one transaction on PostgreSQL and
SQLite alike.

It also plays the process dying at a chosen point of a push (`crash_at`), the way SIGKILL, a lost database
or Redis connection would end it: `ProcessDied` derives from BaseException, so no `except Exception` in
the product catches it (only transactions roll back, as a dead connection's would).

- "before_send": the in-flight mark is committed, the request never reaches Walmart.
- "after_answer": Walmart applied the request and answered; the process dies before reading the answer.
- "post_call_write": the answer came back; the process dies on its first database write after it.

`outage_after_answer` plays our database or Redis failing while Walmart's answer is stored (the process
lives on): after Walmart answered the matching request, the next database writes raise the given error
(an `OperationalError` of a terminated connection, a Redis `ConnectionError`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import responses
from django.db import connection
from django.test import Client, override_settings

CRASH_POINTS = ("before_send", "after_answer", "post_call_write")
METHODS = (responses.GET, responses.POST, responses.PUT, responses.PATCH, responses.DELETE)
HEADERS_NOT_FORWARDED = {"content-type", "content-length", "host", "connection", "accept-encoding"}


class ProcessDied(BaseException):
    """The worker process ended here (simulated)."""


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: bytes


@dataclass
class Crash:
    point: str
    method: str
    path_pattern: re.Pattern
    fired: bool = False
    answered: bool = False
    error: BaseException | None = None  # raised by the writes after the answer instead of ProcessDied
    writes: int = 1  # how many writes after the answer fail


@dataclass
class EmulatorBridge:
    base_url: str
    calls: list[Call] = field(default_factory=list)
    crash: Crash | None = None

    def applied(self, method: str, path_fragment: str) -> list[Call]:
        """The requests the emulator received and answered with a 2xx, by method and path fragment."""
        return [
            call
            for call in self.calls
            if call.method == method and path_fragment in call.path and 200 <= call.status < 300
        ]

    def handle(self, request) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        crash = self.crash
        crashing = (
            crash is not None
            and not crash.fired
            and request.method == crash.method
            and crash.path_pattern.search(url.path) is not None
        )
        if crashing and crash.point == "before_send":
            crash.fired = True
            raise ProcessDied(f"died before {request.method} {url.path} left")
        headers = {name: value for name, value in request.headers.items() if name.lower() not in HEADERS_NOT_FORWARDED}
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        response = Client().generic(
            request.method,
            path,
            data=body,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            headers=headers,
        )
        self.calls.append(Call(request.method, url.path, response.status_code, body))
        if crashing and crash.point == "after_answer":
            crash.fired = True
            raise ProcessDied(f"died after Walmart answered {request.method} {url.path}")
        if crashing and crash.point == "post_call_write":
            crash.fired = crash.answered = True
        return response.status_code, dict(response.items()), response.content

    @contextmanager
    def crash_at(self, point: str, method: str, path_regex: str) -> Iterator[Crash]:
        """Within the block, the first request matching (method, path_regex) ends the process at `point`."""
        assert point in CRASH_POINTS, point
        with self._failing(Crash(point=point, method=method, path_pattern=re.compile(path_regex))) as crash:
            yield crash

    @contextmanager
    def outage_after_answer(self, method: str, path_regex: str, error: BaseException, *, writes: int = 1):
        """Within the block, once Walmart answered the first request matching (method, path_regex), the next
        `writes` database writes raise `error` (the statement is not run): our database or Redis failing
        while the answer is stored, the process alive."""
        crash = Crash("post_call_write", method, re.compile(path_regex), error=error, writes=writes)
        with self._failing(crash) as failing:
            yield failing

    @contextmanager
    def _failing(self, crash: Crash) -> Iterator[Crash]:
        self.crash = crash

        def die_on_write(execute, sql, params, many, context):
            if self.crash is not None and self.crash.answered and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
                self.crash.writes -= 1
                if self.crash.writes <= 0:
                    self.crash.answered = False
                if self.crash.error is not None:
                    raise self.crash.error
                raise ProcessDied("died while storing Walmart's answer")
            return execute(sql, params, many, context)

        try:
            with connection.execute_wrapper(die_on_write):
                yield self.crash
        finally:
            self.crash = None


@contextmanager
def emulator_bridge(base_url: str) -> Iterator[EmulatorBridge]:
    """Route every request under `base_url` (a store's emulator URL ending in /walmart-emulator) to the
    emulator's views in this process."""
    bridge = EmulatorBridge(base_url=base_url)
    # The emulator answers in the test's transaction, so on this thread's connection: the order poll reads
    # Walmart in its own thread otherwise (ORDERS_POLL_READ_AHEAD_BATCHES), which would not see the test's rows.
    with (
        override_settings(ORDERS_POLL_READ_AHEAD_BATCHES=0),
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        for method in METHODS:
            mock.add_callback(method, re.compile(re.escape(base_url) + r"(/.*)?$"), callback=bridge.handle)
        yield bridge
