"""The production shape on loopback: gunicorn (the app with the Walmart emulator mounted, behind the soak's
request log), Celery workers that between them consume every queue the settings define (one per queue group
as docker-compose runs them, or each one every queue), and one Celery beat. Each process
runs in its own session (its own process group), so a fault can kill one exactly and Ctrl-C on the soak
never reaches them directly; `Stack.stop_all` ends every one of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


@dataclass
class Managed:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    starts: list[float] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Stack:
    def __init__(self, *, env: dict[str, str], workdir: Path, port: int, worker_queues: list[list[str]],
                 walmart_queue: str, concurrency: int, web_workers: int, web_threads: int) -> None:  # fmt: skip
        """`worker_queues`: one Celery worker per entry, consuming those queues (named after its first queue
        when the workers differ, else numbered)."""
        self.env = env
        self.workdir = workdir
        self.port = port
        self.worker_queues = worker_queues
        self.processes: dict[str, Managed] = {}
        python = sys.executable
        self._add(
            "web",
            [
                python, "-m", "gunicorn", "bench.soak.wsgi:application",
                "--bind", f"127.0.0.1:{port}",
                "--worker-class", "gthread", "--workers", str(web_workers), "--threads", str(web_threads),
                "--header-map", "dangerous", "--timeout", "120", "--graceful-timeout", "5",
                "--access-logfile", str(workdir / "web-access.log"),
            ],
        )  # fmt: skip
        alike = len({tuple(queues) for queues in worker_queues}) < len(worker_queues)
        for number, queues in enumerate(worker_queues, start=1):
            name = f"worker{number}" if alike else f"worker-{queues[0]}"
            self._add(
                name,
                [
                    python, "-m", "celery", "-A", "channel_manager", "worker", "-l", "info",
                    "-n", f"soak-{name}@%h", "-c", str(concurrency), "-Q", ",".join(queues),
                    "--without-gossip", "--without-mingle",
                ],
            )  # fmt: skip
        self._add(
            "walmart",
            [
                python, "-m", "celery", "-A", "channel_manager", "worker", "-l", "info",
                "-n", "soak-walmart@%h", "-c", "2", "-Q", walmart_queue, "--without-gossip", "--without-mingle",
            ],
        )  # fmt: skip
        self._add(
            "beat",
            [
                python, "-m", "celery", "-A", "channel_manager", "beat", "-l", "info",
                "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        )  # fmt: skip

    def _add(self, name: str, command: list[str]) -> None:
        env = {**self.env, "PGAPPNAME": f"cm-soak-{name}"}
        self.processes[name] = Managed(name=name, command=command, env=env, log=self.workdir / f"{name}.log")

    @property
    def worker_names(self) -> list[str]:
        return [name for name in self.processes if name.startswith("worker")]

    @property
    def app_names(self) -> list[str]:
        """The PostgreSQL application names of the product's processes (what a connection fault terminates);
        not the emulator's worker (Walmart's side)."""
        return [f"cm-soak-{name}" for name in self.processes if name != "walmart"]

    def start(self, name: str) -> None:
        managed = self.processes[name]
        if managed.running:
            return
        log = managed.log.open("a")
        log.write(f"\n==== soak: starting {name} at {time.strftime('%H:%M:%S')}\n")
        log.flush()
        managed.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            managed.command, cwd=ROOT, env=managed.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        managed.starts.append(time.time())

    def start_all(self) -> None:
        for name in self.processes:
            self.start(name)

    def kill(self, name: str) -> None:
        """SIGKILL the process and its children (its process group): nothing runs its cleanup."""
        self.stop(name, timeout=0)

    def stop(self, name: str, *, timeout: float = 20) -> None:
        """SIGTERM the process group and SIGKILL what is left of it after `timeout` seconds (at once when 0:
        a kill). The group goes whole, pool children included."""
        managed = self.processes[name]
        if managed.process is None:
            return
        if timeout > 0:
            _signal_group(managed.process.pid, signal.SIGTERM)
            try:
                managed.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(managed.process.pid, signal.SIGKILL)
        managed.process.wait(timeout=15)
        managed.process = None

    def stop_all(self) -> None:
        for name in ("beat", *self.worker_names, "walmart", "web"):
            if name in self.processes:
                self.stop(name)

    def crashed(self) -> list[str]:
        """Processes that should be running (started, not stopped by the soak) but have exited."""
        return [name for name, managed in self.processes.items() if managed.process is not None and not managed.running]
