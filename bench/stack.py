"""The product's real processes for a benchmark: the environment of a run (`make run`'s settings, an embedded
Redis private to the run, a fresh secret and encryption key, the emulator on a free port) and the web
server, Celery worker and beat as child processes, each in its own session, stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], fraction: float) -> float:
    """The value at `fraction` of the sorted values (the index rounded to the nearest; the benchmarks' p50 / p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def wsgi_server() -> ThreadedServer:
    """Django's WSGI handler (this process's settings) on 127.0.0.1 at a free port, a thread per request,
    no request log; not serving yet (`serve_forever` in a thread, or in a forked child)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadedServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(WSGIHandler())
    return server


def wsgi_server_start() -> tuple[ThreadedServer, str]:
    """`wsgi_server` serving from a daemon thread of this process; with its base URL."""
    import threading

    server = wsgi_server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def worker_client(user):
    """A test client logged in as `user`, in the state a gunicorn worker serves its first request in: the
    middleware chain built (channel_manager.wsgi's handler builds it at import) and the worker's own new
    database and cache connections opened (`worker_warm_up`, gunicorn.conf.py's `post_worker_init`)."""
    from django.db import connection
    from django.test import Client

    from channel_manager.warmup import worker_warm_up

    client = Client()
    client.force_login(user)
    client.handler.load_middleware()
    connection.close()
    worker_warm_up()
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_environment(*, database_url: str, workdir: Path, port: int) -> dict[str, str]:
    """The variables every process of the run gets (this one included, once it sets them)."""
    from cryptography.fernet import Fernet

    from channel_manager.embedded_redis import embedded_redis_start

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="channel_manager.settings.local",
        DATABASE_URL=database_url,
        REDIS_URL=embedded_redis_start(directory=workdir / "redis"),
        DJANGO_SECRET_KEY="bench-not-secret",  # noqa: S106 - a throwaway run
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        WALMART_EMULATOR_BASE_URL=f"http://127.0.0.1:{port}/walmart-emulator",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        MEDIA_ROOT=str(workdir / "media"),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def web_command(port: int) -> list[str]:
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]


def worker_command(
    concurrency: int = 2, queues: list[str] | None = None, name: str = "", *, pool: str = "prefork"
) -> list[str]:
    """A Celery worker: every queue by default, or only `queues` (e.g. the emulator's own, Walmart's side);
    `pool` "threads" for work that mostly waits on the network (Walmart's webhook deliveries)."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "channel_manager",
        "worker",
        "-l",
        "warning",
        "-c",
        str(concurrency),
    ]
    if pool != "prefork":
        command += ["-P", pool]
    if queues:
        command += ["-Q", ",".join(queues)]
    if name:
        command += ["-n", f"{name}@%h"]
    return command


def gunicorn_command(port: int, *, workers: int = 2, threads: int = 8) -> list[str]:
    """The production web server (gthread) instead of runserver: a fixed pool of threads, so a fixed number of
    database connections; `--header-map dangerous` keeps Walmart's WM_SEC.* headers for the mounted emulator."""
    return [
        sys.executable, "-m", "gunicorn", "channel_manager.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", str(workers),
        "--threads", str(threads), "--header-map", "dangerous", "--timeout", "120", "--graceful-timeout", "5",
    ]  # fmt: skip


def beat_command(workdir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "channel_manager",
        "beat",
        "-l",
        "warning",
        "-s",
        str(workdir / "beat"),
    ]


def web_up(port: int, *, timeout: float = 30.0) -> bool:
    """Whether the web server answers /healthz within `timeout` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503):
                return True
        time.sleep(0.3)
    return False


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command's ")" (state is fields[0]), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _stat_cpu_seconds(fields: list[str]) -> float:
    """utime + stime (all threads) of a process's `_stat_fields`, in seconds."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) used so far by process `pid`, from /proc; None when unreadable."""
    fields = _stat_fields(pid)
    return _stat_cpu_seconds(fields) if fields else None


def session_cpu_seconds(leader: int) -> float:
    """CPU seconds (user + system) used by the processes of the session `leader` started: each living member's
    own time plus that of its children that exited (a Celery worker's pool processes are its children)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name)  # None: the process exited meanwhile
        # after the command's ")": state ppid pgrp session ... utime(11) stime(12) cutime(13) cstime(14)
        if fields and int(fields[3]) == leader:
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def pid_running(argument: str) -> int | None:
    """The pid of a process whose command line contains `argument` (e.g. the embedded Redis server, daemonised,
    by its socket's path), None when there is none."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and argument.encode() in (entry / "cmdline").read_bytes():
                return int(entry.name)
    return None


def machine_busy_seconds() -> float:
    """CPU seconds every processor of the machine spent busy since boot (all users: /proc/stat, idle and iowait
    excluded)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds per part of a run, sampled every `interval` seconds by a thread: each named session (a child
    started by `stack_start`: its living members and their exited children), each named pid, the PostgreSQL
    backends serving `database` (found by their process title; one that exits between two samples loses what it
    used since the last), this process, and the whole machine (everyone's processes). `reading()` gives the totals
    so far; the difference of two readings is what each part used between them."""

    def __init__(
        self, *, sessions: dict[str, int], pids: dict[str, int], database: str = "", interval: float = 0.2
    ) -> None:
        import threading

        self.sessions, self.pids, self.interval = sessions, pids, interval
        self._title = f" {database} " if database else ""
        self._backends: dict[tuple[str, str], float] = {}  # (pid, start time) -> CPU seconds last seen
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> CpuMeter:
        self._sample_backends()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample_backends()

    def _sample_backends(self) -> None:
        if not self._title:
            return
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if not title.startswith("postgres: ") or self._title not in title:
                continue
            fields = _stat_fields(entry.name)
            if fields:
                with self._lock:
                    self._backends[(entry.name, fields[19])] = _stat_cpu_seconds(fields)

    def reading(self) -> dict[str, float]:
        self._sample_backends()
        totals = {name: session_cpu_seconds(leader) for name, leader in self.sessions.items()}
        for name, pid in self.pids.items():
            totals[name] = process_cpu_seconds(pid) or 0.0
        if self._title:
            with self._lock:
                totals["postgresql"] = sum(self._backends.values())
        totals["this process"] = time.process_time()
        totals["machine"] = machine_busy_seconds()
        return totals


def cpu_split(before: dict[str, float], after: dict[str, float], *, seconds: float) -> str:
    """What each part used between two `CpuMeter` readings, in CPU seconds and in share of the machine's cores
    over `seconds`; "others" is the machine's busy time nobody of the run used (other users)."""
    used = {name: after[name] - before[name] for name in before}
    machine = used.pop("machine")
    ours = sum(used.values())
    cores = os.cpu_count() or 1
    parts = [f"{name} {value:.1f}" for name, value in sorted(used.items(), key=lambda item: -item[1])]
    return (
        f"{', '.join(parts)}; the run {ours:.1f} CPU-s, others {max(0.0, machine - ours):.1f}, idle "
        f"{max(0.0, cores * seconds - machine):.1f} of the {cores} cores' {cores * seconds:.1f} CPU-s "
        f"in {seconds:.1f} s"
    )


def cpu_per_minute(
    processes: dict[str, subprocess.Popen], minutes: float, *, names: tuple[str, ...] = ("worker", "beat", "web")
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Watch the named processes (each with its session) for `minutes`, reading /proc every 10 s: their CPU
    seconds per minute over the whole time, and each whole minute's CPU seconds."""
    start = {name: session_cpu_seconds(processes[name].pid) for name in names}
    began = time.monotonic()
    previous, minute_marks = dict(start), []
    while time.monotonic() - began < minutes * 60:
        time.sleep(min(10.0, max(0.1, minutes * 60 - (time.monotonic() - began))))
        now = {name: session_cpu_seconds(processes[name].pid) for name in names}
        if int((time.monotonic() - began) // 60) > len(minute_marks):
            minute_marks.append({name: now[name] - previous[name] for name in names})
            previous = now
    elapsed = (time.monotonic() - began) / 60
    end = {name: session_cpu_seconds(processes[name].pid) for name in names}
    return {name: (end[name] - start[name]) / elapsed for name in names}, minute_marks


def stack_start(commands: dict[str, list[str]], *, env: dict[str, str], workdir: Path) -> dict[str, subprocess.Popen]:
    """Start each named command, each in its own session, its output in `workdir/<name>.log`."""
    processes = {}
    for name, command in commands.items():
        with (workdir / f"{name}.log").open("w") as log:
            processes[name] = subprocess.Popen(  # noqa: S603 - the product's own commands
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
    return processes


def stack_stop(processes: dict[str, subprocess.Popen]) -> None:
    """Stop every process with its session: SIGTERM, then SIGKILL after 15 s."""
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def stack_processes(commands: dict[str, list[str]], *, env: dict[str, str], workdir: Path) -> Iterator[dict]:
    """`stack_start`, and `stack_stop` on the way out whatever happened."""
    processes = stack_start(commands, env=env, workdir=workdir)
    try:
        yield processes
    finally:
        stack_stop(processes)
