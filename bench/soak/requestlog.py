"""Walmart's request log for the soak: every write the emulator receives, with what became of it.

`RequestLog` is WSGI middleware around the application gunicorn serves (bench/soak/wsgi.py). For each
POST / PUT / PATCH / DELETE under the emulator's API it appends one JSON line to
`<directory>/requests-<pid>.jsonl`: start and end time, method, path, query, the correlation id the client
sent, the HTTP status, whether the answer was lost on purpose (the emulator's "answer lost" fault: applied,
then the connection dropped), the status the emulator had decided before dropping it, and, for order and
return writes, the JSON body (small: lines, quantities, tracking numbers).

"Applied" is what Walmart did, not what the client saw: a 200 applied the write; a lost answer applied it
when the emulator's own outcome was a success. The emulator builds every refusal with
`walmart_emulator.http.error_response`; `install_outcome_probe` wraps it so the middleware learns a lost
answer's real outcome. Everything below the middleware is pure and unit-tested.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

API_PREFIX = "/walmart-emulator/v3/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_KINDS = frozenset({"ack", "ship", "cancel", "order_refund", "return_refund"})
MAX_BODY_BYTES = 64 * 1024

_local = threading.local()

_ROUTES = (
    (re.compile(r"^orders/(?P<key>[^/]+)/acknowledge/?$"), "ack"),
    (re.compile(r"^orders/(?P<key>[^/]+)/shipping/?$"), "ship"),
    (re.compile(r"^orders/(?P<key>[^/]+)/cancel/?$"), "cancel"),
    (re.compile(r"^orders/(?P<key>[^/]+)/refund/?$"), "order_refund"),
    (re.compile(r"^returns/(?P<key>[^/]+)/refund/?$"), "return_refund"),
    (re.compile(r"^inventory/?$"), "inventory"),
    (re.compile(r"^inventories/(?P<key>.+)$"), "inventory_nodes"),
    (re.compile(r"^price/?$"), "price"),
    (re.compile(r"^feeds/?$"), "feed"),
    (re.compile(r"^token/?$"), "token"),
    (re.compile(r"^webhooks/"), "webhooks"),
)


def classify(method: str, path: str) -> tuple[str, str] | None:
    """(kind, key) of an emulator write (`key`: the purchase order / return order id, or "" when the path
    names none); None for anything that is not a write to the emulator's API."""
    if method.upper() not in WRITE_METHODS or not path.startswith(API_PREFIX):
        return None
    rest = path[len(API_PREFIX) :]
    for pattern, kind in _ROUTES:
        match = pattern.match(rest)
        if match:
            return kind, match.groupdict().get("key") or ""
    return "other", rest


def applied(entry: dict[str, Any]) -> bool | None:
    """Did Walmart apply this write? True for a 2xx answer, or a lost answer whose own outcome was a 2xx;
    False for anything else; None for a lost answer whose outcome is unknown."""
    if entry.get("answer_lost"):
        inner = entry.get("inner_status")
        if inner is None:
            return None
        return 200 <= int(inner) < 300
    status = entry.get("status")
    return status is not None and 200 <= int(status) < 300


def ack_counts(entries: Iterable[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    """(applied acknowledgements per purchase order, acknowledgements with an unknown outcome per order)."""
    done: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    for entry in entries:
        if entry.get("kind") != "ack":
            continue
        outcome = applied(entry)
        if outcome:
            done[entry["key"]] += 1
        elif outcome is None:
            unknown[entry["key"]] += 1
    return done, unknown


def _amount(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def order_line_units(kind: str, body: Any) -> list[tuple[str, int, str]]:
    """[(line number, units, tracking number or "")] a ship or cancel body asks for (Walmart's shapes:
    `orderShipment` / `orderCancellation` -> orderLines.orderLine[] -> orderLineStatuses.orderLineStatus[])."""
    root = {"ship": "orderShipment", "cancel": "orderCancellation"}.get(kind)
    if root is None or not isinstance(body, dict):
        return []
    lines = ((body.get(root) or {}).get("orderLines") or {}).get("orderLine") or []
    units = []
    for line in lines:
        if not isinstance(line, dict):
            continue
        for status in (line.get("orderLineStatuses") or {}).get("orderLineStatus") or []:
            if not isinstance(status, dict):
                continue
            tracking = ((status.get("trackingInfo") or {}).get("trackingNumber")) or ""
            quantity = _amount((status.get("statusQuantity") or {}).get("amount"))
            units.append((str(line.get("lineNumber")), quantity, str(tracking)))
    return units


def return_refund_units(body: Any) -> list[tuple[int, int]]:
    """[(return order line number, units)] of a `POST /v3/returns/{id}/refund` body."""
    if not isinstance(body, dict):
        return []
    units = []
    for line in body.get("refundLines") or []:
        if isinstance(line, dict):
            quantity = _amount((line.get("quantity") or {}).get("measurementValue"))
            units.append((_amount(line.get("returnOrderLineNumber")), quantity))
    return units


def entry_brief(entry: dict[str, Any]) -> dict[str, Any]:
    """What a finding quotes from one log entry."""
    started = float(entry.get("t0", 0))
    brief = {
        "at": time.strftime("%H:%M:%S", time.localtime(started)) + f".{int(started * 1000) % 1000:03d}",
        "seconds": round(float(entry.get("t1", 0)) - float(entry.get("t0", 0)), 3),
        "request": f"{entry.get('method')} {entry.get('path')}",
        "status": entry.get("status"),
        "applied": applied(entry),
        "correlation_id": entry.get("correlation_id"),
    }
    if entry.get("answer_lost"):
        brief["answer_lost"] = True
        brief["emulator_status"] = entry.get("inner_status")
    if entry.get("kind") in ("ship", "cancel"):
        brief["lines"] = order_line_units(entry["kind"], entry.get("body"))
    elif entry.get("kind") == "return_refund":
        brief["lines"] = return_refund_units(entry.get("body"))
    return brief


def read_entries(directory: Path) -> list[dict[str, Any]]:
    """Every entry of every process's log file, oldest first. A line cut short (a process killed while
    writing) is skipped."""
    entries = []
    for path in sorted(Path(directory).glob("requests-*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue
    entries.sort(key=lambda entry: entry.get("t0", 0))
    return entries


# --- the middleware -------------------------------------------------------------------------------


def install_outcome_probe() -> bool:
    """Wrap the emulator's error-response builder so the middleware learns the status of a refusal whose
    answer is then lost on purpose. False (nothing wrapped) when the emulator has no such builder."""
    from walmart_emulator import http as emulator_http

    original = getattr(emulator_http, "error_response", None)
    if original is None or getattr(original, "_soak_probe", False):
        return original is not None

    def error_response(error, *args, **kwargs):
        response = original(error, *args, **kwargs)
        if getattr(_local, "recording", False):
            _local.inner_status = response.status_code
        return response

    error_response._soak_probe = True
    emulator_http.error_response = error_response
    return True


class RequestLog:
    """WSGI middleware writing one JSON line per emulator write (see the module docstring)."""

    def __init__(self, application, *, directory: str | os.PathLike, probe_installed: bool) -> None:
        self.application = application
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.probe_installed = probe_installed
        self._lock = threading.Lock()
        self._handle = None
        self._pid = None

    def _write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            if self._handle is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._handle = (self.directory / f"requests-{self._pid}.jsonl").open("a", encoding="utf-8")
            self._handle.write(line)
            self._handle.flush()

    def __call__(self, environ, start_response):
        kind_key = classify(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if kind_key is None:
            return self.application(environ, start_response)
        kind, key = kind_key
        entry: dict[str, Any] = {
            "t0": time.time(),
            "pid": os.getpid(),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING", ""),
            "kind": kind,
            "key": key,
            "correlation_id": next(
                (value for name, value in environ.items() if name.startswith("HTTP_") and "CORRELATION" in name), None
            ),
        }
        if kind in BODY_KINDS:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            if length <= MAX_BODY_BYTES:
                try:
                    entry["body"] = json.loads(raw or b"null")
                except ValueError:
                    entry["body"] = raw[:500].decode("utf-8", "replace")
        _local.recording, _local.inner_status = True, None

        def recording_start_response(status, headers, exc_info=None):
            entry["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            result = self.application(environ, recording_start_response)
        except BaseException as error:
            entry.update(t1=time.time(), status=None, exception=type(error).__name__)
            _local.recording = False
            self._write(entry)
            raise
        return self._body(result, entry)

    def _body(self, result, entry: dict[str, Any]) -> Iterator[bytes]:
        try:
            yield from result
        except GeneratorExit:  # the server stopped sending (the client went away): the answer was whole
            entry["client_gone"] = True
            raise
        except BaseException as error:
            entry["answer_lost"] = True
            entry["exception"] = type(error).__name__
            entry["inner_status"] = _local.inner_status or (200 if self.probe_installed else None)
            raise
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
            entry["t1"] = time.time()
            _local.recording = False
            self._write(entry)
