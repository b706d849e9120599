"""`make run`: the whole product in one command, on its embedded default.

Starts an embedded Redis on a unix socket (unless REDIS_URL is set), migrates, sets up the demo,
then runs the web server, a Celery worker and Celery beat until Ctrl-C, which stops them all.
DATABASE_URL, when set, replaces the SQLite file.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from channel_manager.queues import ALL_QUEUES

BASE_DIR = Path(__file__).resolve().parent.parent


def _run_manage(*arguments: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=BASE_DIR, env=env, check=True)  # noqa: S603


def _die_with_parent() -> None:
    """In a child: get SIGTERM if the launcher dies without stopping it (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker_command() -> list[str]:
    """One worker for every queue (intake, pushes, sync, reads and the default one); production runs one
    worker service per queue (docker-compose.yml)."""
    return [
        *(sys.executable, "-m", "celery", "-A", "channel_manager", "worker", "-l", "info", "-c", "2"),
        *("--queues", ",".join(ALL_QUEUES)),
    ]


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.local")
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    env.setdefault("WALMART_EMULATOR_BASE_URL", f"http://{host}:{port}/walmart-emulator")
    env.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
    if not env.get("REDIS_URL"):
        from channel_manager.embedded_redis import embedded_redis_start

        env["REDIS_URL"] = embedded_redis_start(directory=BASE_DIR / "var" / "redis")
        print(f"Embedded Redis at {env['REDIS_URL']} (a unix socket, no TCP port)", flush=True)

    _run_manage("migrate", "--no-input", env=env)
    _run_manage("collectstatic", "--no-input", "--verbosity", "0", env=env)
    _run_manage("demo_setup", "--url", f"http://{host}:{port}/", env=env)

    commands = {
        "web": [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        "worker": worker_command(),
        "beat": [sys.executable, "-m", "celery", "-A", "channel_manager", "beat", "-l", "info"],
    }
    # Each child runs in its own session, so Ctrl-C reaches only this launcher, which then stops them
    # one by one (a second signal from the terminal would make them exit mid-shutdown).
    processes = {
        name: subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, env=env, start_new_session=True, preexec_fn=_die_with_parent
        )
        for name, command in commands.items()
    }
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping everything.", flush=True)
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.5)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
