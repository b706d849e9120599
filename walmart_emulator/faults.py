"""Faults on demand, per seller: what a flaky Walmart does to a client.

Kinds (fields on Seller, set with `fault_set`):
- `error_share` (0..1) with `error_status` 500 or 503: that share of requests answered with the status
  (500 with Walmart's SYSTEM_ERROR body; 503 bare, like an unreachable gateway). Nothing is applied.
- `latency_ms`: every request waits that long, then is handled normally.
- `hang_seconds`: every request waits that long before anything is done (set it past the client's
  timeout: the client gives up, nothing is applied).
- `throttle_storm`: every request is answered 429 REQUEST_THRESHOLD_VIOLATED, whatever the buckets hold.
- `lost_answer_share` (0..1): that share of writes (POST/PUT/PATCH/DELETE) is applied and committed,
  then the connection is closed without a byte of response (a requests ConnectionError on the client).
`remaining` limits how many requests are still faulted (None: all). Draws use `random.random()`; shares
of 0 and 1 are deterministic.
"""

import random
import socket
from collections.abc import Iterator

from django.db.models import F

from walmart_emulator.models import Seller

FAULT_FIELDS = {
    "error_share": "fault_error_share",
    "error_status": "fault_error_status",
    "latency_ms": "fault_latency_ms",
    "hang_seconds": "fault_hang_seconds",
    "throttle_storm": "fault_throttle_storm",
    "lost_answer_share": "fault_lost_answer_share",
    "remaining": "fault_remaining",
}
FAULT_DEFAULTS = {
    "error_share": 0.0,
    "error_status": 500,
    "latency_ms": 0,
    "hang_seconds": 0.0,
    "throttle_storm": False,
    "lost_answer_share": 0.0,
    "remaining": None,
}


def fault_set(*, seller: Seller, **faults) -> Seller:
    """Set fault kinds on a seller (keywords of FAULT_FIELDS); others keep their value.

    Raises ValueError for an unknown kind, a share outside 0..1 or an error status other than 500/503.
    """
    unknown = set(faults) - set(FAULT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fault kinds: {', '.join(sorted(unknown))}")
    for key in ("error_share", "lost_answer_share"):
        if key in faults and not 0.0 <= float(faults[key]) <= 1.0:
            raise ValueError(f"{key} must be between 0 and 1")
    if "error_status" in faults and int(faults["error_status"]) not in (500, 503):
        raise ValueError("error_status must be 500 or 503")
    for key, value in faults.items():
        setattr(seller, FAULT_FIELDS[key], value)
    seller.save(update_fields=[FAULT_FIELDS[key] for key in faults])
    return seller


def fault_clear(*, seller: Seller) -> Seller:
    """No faults at all for the seller."""
    return fault_set(seller=seller, **FAULT_DEFAULTS)


def fault_any_active(seller: Seller) -> bool:
    return bool(
        seller.fault_error_share
        or seller.fault_latency_ms
        or seller.fault_hang_seconds
        or seller.fault_throttle_storm
        or seller.fault_lost_answer_share
    )


def fault_draw(share: float) -> bool:
    return share >= 1.0 or (share > 0.0 and random.random() < share)  # noqa: S311 - simulation, not security


def fault_consume(seller: Seller) -> bool:
    """Count one injected fault against `remaining`. False when the budget is spent (inject nothing)."""
    if seller.fault_remaining is None:
        return True
    updated = Seller.objects.filter(pk=seller.pk, fault_remaining__gt=0).update(
        fault_remaining=F("fault_remaining") - 1
    )
    return bool(updated)


def connection_drop(environ: dict) -> bool:
    """Close the client's TCP connection under the WSGI server without sending anything.

    Works with Django's runserver / live server (walmart_emulator.apps puts the socket in the environ) and gunicorn
    (`gunicorn.socket`). Returns False when no socket could be found (e.g. Django's test client).
    """
    sock = environ.get("walmart_emulator.socket") or environ.get("gunicorn.socket")
    if sock is None:
        reader = getattr(getattr(environ.get("wsgi.input"), "_read", None), "__self__", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if not isinstance(sock, socket.socket):
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    return True


def lost_answer_body(environ: dict) -> Iterator[bytes]:
    """Response body that drops the connection when the server starts sending it.

    Raising ConnectionResetError inside the body makes wsgiref-based servers give up quietly (it is
    what they expect when a client goes away), so no status line is ever written.
    """
    connection_drop(environ)
    raise ConnectionResetError("walmart emulator: answer lost on purpose")
    yield b""  # pragma: no cover - makes this a generator
