"""Helpers for tests that drive the real client against the emulator on Django's live server."""

import gc
import threading
import time

from walmart_client import WalmartClient


def make_client(live_server, seller, **options) -> WalmartClient:
    """A client for an emulated seller: no retries, no waiting for rate limits, never sleeps."""
    defaults = {"timeout": 10.0, "max_retries": 0, "sleep": lambda seconds: None, "max_rate_limit_wait": 0.0}
    return WalmartClient(
        base_url=live_server.url + "/walmart-emulator",
        client_id=seller.client_id,
        client_secret=seller.client_secret,
        **{**defaults, **options},
    )


def live_server_threads_wait() -> None:
    """Let the live server's keep-alive request threads end before the database is torn down (one that
    outlives it fails closing its shared connection). Sockets kept by reference cycles (exception tracebacks)
    are only closed by a collection, hence gc.collect()."""
    gc.collect()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(
        "process_request_thread" in thread.name and thread.is_alive() for thread in threading.enumerate()
    ):
        time.sleep(0.02)
