"""The embedded Redis of `make run` and the tests: unix socket only, and stopped (with its data saved) when
the process that started it exits, even while other clients are still connected."""

import json
import os
import signal
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


# A process started in the background by a non-interactive shell inherits SIGINT ignored; the owner restores
# Python's default handler so that Ctrl-C (the SIGINT sent below) stops it as it stops `make run`.
OWNER_SCRIPT = """
import signal, sys, time
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)
from channel_manager.embedded_redis import _servers, embedded_redis_start
embedded_redis_start(directory=Path(sys.argv[1]))
print(next(iter(_servers.values())).pid, flush=True)
time.sleep(60)
"""
GUEST_SCRIPT = """
import sys
from pathlib import Path
import redis
from channel_manager.embedded_redis import embedded_redis_start
redis.Redis.from_url(embedded_redis_start(directory=Path(sys.argv[1]))).set("guest", "was here")
"""


def test_a_second_process_connects_to_the_running_server_and_leaves_it_running(tmp_path):
    # given: a process (as `make run` does) owns a running server
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    owner = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", OWNER_SCRIPT, str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        server_pid = int(owner.stdout.readline())
        # when: another process (a `manage.py` command) uses the same directory and exits
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", GUEST_SCRIPT, str(tmp_path)], cwd=ROOT, env=env, timeout=60, check=True
        )
        # then: the owner's server is still up and holds what the guest wrote
        time.sleep(0.3)
        assert _alive(server_pid)
        import redis

        socket_path = json.loads((tmp_path / "redis.rdb.settings").read_text())["unixsocket"]
        assert redis.Redis(unix_socket_path=socket_path).get("guest") == b"was here"
    finally:
        owner.send_signal(signal.SIGINT)  # as Ctrl-C would: the owner's exit handlers stop its server
        owner.wait(timeout=30)
    assert not _alive(server_pid)
