"""The embedded Redis of `make run` and the tests: unix socket only, and stopped (with its data saved) when
the process that started it exits, even while other clients are still connected."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = """
import json, sys
from pathlib import Path
import redis
from channel_manager.embedded_redis import _servers, embedded_redis_start
url = embedded_redis_start(directory=Path(sys.argv[1]))
other_client = redis.Redis.from_url(url)
other_client.set("kept", "yes")
server = next(iter(_servers.values()))
print(json.dumps({"url": url, "pid": server.pid, "port": other_client.config_get("port")["port"]}))
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_unix_socket_only_and_stopped_with_data_saved_when_the_owner_exits(tmp_path):
    # when: a process starts the server, connects a second client, and exits
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    started = json.loads(result.stdout)
    # then: it had no TCP port, it is gone, it saved its data, and it left no noise behind
    assert started["url"].startswith("unix:///")
    assert started["port"] == "0"
    deadline = time.monotonic() + 5
    while _alive(started["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(started["pid"])
    assert (tmp_path / "redis.rdb").stat().st_size > 0
    assert not Path(started["url"].removeprefix("unix://").split("?")[0]).exists()
    assert result.stderr == ""
