"""`make soak` / `python -m bench.soak [--quick]`: the production shape on loopback under load and faults, then
Walmart's truth against the product's. See bench/soak/__init__.py for what it does and README "Soak"."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger("soak")


@dataclass(frozen=True)
class Profile:
    name: str
    listings: int
    warmup_seconds: float
    phase_seconds: float  # each fault phase (beat stays stopped 2.4 times as long)
    gap_seconds: float
    quiet_max_seconds: float  # the quiet phase ends at convergence, or after this
    orders_per_minute: float
    catalog_changes_per_second: float
    returns_per_minute: float
    budget_seconds: float  # the quiet phase is cut short so the whole run ends within this


# The quiet phase of both runs allows at least the 5 minutes listings and work have to converge in (issue
# 11's target); the full run waits up to 7 to measure a slower convergence.
QUICK = Profile("quick", 200, 20, 15, 2, 300, 40, 4, 8, budget_seconds=570)
FULL = Profile("full", 500, 60, 150, 20, 420, 40, 4, 8, budget_seconds=2340)
FINAL_STEPS_SECONDS = 40  # the last evaluation, the report and stopping everything
CONVERGENCE_TARGET_SECONDS = 300
CLIENT_TIMEOUT_SECONDS = 10.0
SAMPLE_EVERY_SECONDS = 10.0


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short run (under 10 minutes)")
    parser.add_argument(
        "--layout",
        choices=("compose", "all"),
        default="compose",
        help="compose (default): one Celery worker per queue group, as docker-compose.yml runs them (every "
        "worker taking every queue when the file names no queues); all: --workers workers, each taking every queue",
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery workers with --layout all (default 2)")
    parser.add_argument("--concurrency", type=int, default=2, help="prefork slots per worker (default 2)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the soak's database (and PostgreSQL data)")
    parser.add_argument("--output", type=Path, default=None, help="JSON file (default bench/results/soak-*.json)")
    tuning = parser.add_argument_group("overrides of the profile (for trying the harness; figures use the profiles)")
    for name in ("listings", "warmup_seconds", "phase_seconds", "gap_seconds", "quiet_max_seconds"):
        tuning.add_argument("--" + name.replace("_", "-"), type=float, default=None, dest=name)
    return parser.parse_args(argv)


def _log_setup(workdir: Path) -> None:
    logger.setLevel(logging.INFO)
    logger.propagate = False
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(console)
    file_handler = logging.FileHandler(workdir / "soak.log")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(message)s"))
    file_handler.setLevel(logging.DEBUG)
    logger.addHandler(file_handler)


def _environment(*, database_url: str, redis_url: str, port: int, workdir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "bench.soak.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": "soak-" + os.urandom(24).hex(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WALMART_EMULATOR_ENABLED": "true",
        "WALMART_EMULATOR_BASE_URL": f"http://127.0.0.1:{port}/walmart-emulator",
        # Where Walmart (the emulator) delivers the webhooks the manager subscribes: this run's web server
        # (the subscription's URL is built from it, never from a request's Host header).
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WALMART_HTTP_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT_SECONDS),
        "SOAK_REQUEST_LOG_DIR": str(workdir / "walmart-requests"),
        "SOAK_RUN_ID": f"soak-{workdir.name}",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def _manage(*command: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603


def _wait_healthy(url: str, *, timeout: float) -> bool:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:  # noqa: C901 - the run, phase after phase
    args = arguments(argv)
    profile = QUICK if args.quick else FULL
    overrides = {name: getattr(args, name) for name in Profile.__dataclass_fields__ if getattr(args, name, None)}
    if overrides:
        overrides = {name: int(value) if name == "listings" else value for name, value in overrides.items()}
        profile = Profile(**{**asdict(profile), **overrides, "name": f"{profile.name}-custom"})
    workdir = Path(tempfile.mkdtemp(prefix="cm-soak-"))
    workdir.chmod(0o755)  # the PostgreSQL account must reach its data directory inside
    _log_setup(workdir)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.time()
    report: dict = {"mode": profile.name, "profile": asdict(profile), "started_at": started, "workdir": str(workdir)}
    report["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg(),
    }
    logger.info("soak (%s): work directory %s", profile.name, workdir)

    from bench.soak import servers

    own_postgres = own_redis = stack = None
    database_url = None
    stop = threading.Event()
    walmart_stop = threading.Event()
    threads: list[threading.Thread] = []
    background: list[threading.Thread] = []
    exit_code = 1
    fault_context = None
    try:
        # --- servers --------------------------------------------------------------------------------
        given_database = os.environ.get("DATABASE_URL")
        if given_database:
            database_url = servers.soak_database_url(given_database)
            servers.database_create(database_url, drop_first=True)
            report["database"] = f"PostgreSQL given by DATABASE_URL; fresh database {database_url.rsplit('/', 1)[-1]}"
        else:
            own_postgres = servers.OwnPostgres(workdir)
            own_postgres.start()
            database_url = own_postgres.url
            report["database"] = f"own PostgreSQL ({own_postgres.bin.parent.name}) on 127.0.0.1:{own_postgres.port}"
        given_redis = os.environ.get("REDIS_URL")
        if given_redis:
            redis_url = given_redis
            report["redis"] = "given by REDIS_URL (never killed: the Redis phase is skipped)"
        else:
            own_redis = servers.OwnRedis(workdir)
            own_redis.start()
            redis_url = own_redis.url
            report["redis"] = f"own redis-server ({own_redis.binary}) on 127.0.0.1:{own_redis.port}, no persistence"
        logger.info("database: %s; redis: %s", report["database"], report["redis"])
        port = servers.free_port()
        env = {**os.environ, **_environment(database_url=database_url, redis_url=redis_url, port=port, workdir=workdir)}
        os.environ.update(env)
        os.environ["PGAPPNAME"] = "cm-soak-driver"
        t0 = time.monotonic()
        _manage("migrate", "--no-input", "-v", "0", env=env)
        _manage("collectstatic", "--no-input", "-v", "0", env=env)
        logger.info("migrated and static files collected in %.0f s", time.monotonic() - t0)

        import django

        django.setup()
        logging.getLogger().setLevel(logging.WARNING)  # the product's INFO logs go to the processes' log files
        from bench.soak import drivers, faults, truth, world
        from bench.soak.checks import celery_queue_names, compose_queue_groups, worker_queues
        from bench.soak.dashboard import Dashboard
        from channel_manager.celery import app as celery_app

        # --- the world and the stack ----------------------------------------------------------------
        base_url = f"http://127.0.0.1:{port}"
        emulator_url = env["WALMART_EMULATOR_BASE_URL"]
        soak_world = world.world_create(listings=profile.listings, emulator_base_url=emulator_url, seed=args.seed)
        from bench.soak.settings import WALMART_QUEUE

        queues = [
            name
            for name in celery_queue_names(
                default_queue=celery_app.conf.task_default_queue,
                task_queues=celery_app.conf.task_queues,
                task_routes=celery_app.conf.task_routes,
            )
            if name != WALMART_QUEUE
        ]
        groups = compose_queue_groups((ROOT / "docker-compose.yml").read_text()) if args.layout == "compose" else []
        layout = worker_queues(queues, groups=groups, workers=args.workers)
        stack_env = {key: value for key, value in env.items() if key != "PGAPPNAME"}
        from bench.soak.stack import Stack

        stack = Stack(env=stack_env, workdir=workdir, port=port, worker_queues=layout, walmart_queue=WALMART_QUEUE,
                      concurrency=args.concurrency, web_workers=2, web_threads=16)  # fmt: skip
        stack.start_all()
        if not _wait_healthy(f"{base_url}/healthz", timeout=60):
            raise RuntimeError(f"the web server did not become healthy; see {workdir / 'web.log'}")
        report["setup"] = {
            "listings": profile.listings,
            "web": "gunicorn gthread, 2 workers x 16 threads, --header-map dangerous (the emulator mounted)",
            "workers": f"{len(layout)} Celery workers x prefork {args.concurrency}"
            + (" (one per queue group, as docker-compose.yml)" if groups else " (each taking every queue)")
            + ": "
            + "; ".join(f"{name} <- {','.join(qs)}" for name, qs in zip(stack.worker_names, layout, strict=True)),
            "beat": "1 Celery beat, django-celery-beat DatabaseScheduler (the project's schedules)",
            "walmart": f"the emulator's tasks on their own queue ({WALMART_QUEUE}) and worker (prefork 2)",
            "settings": "bench.soak.settings: channel_manager.settings.local (emulator installed), DEBUG off, "
            "the soak's PostgreSQL and Redis",
            "client_timeout_seconds": CLIENT_TIMEOUT_SECONDS,
        }
        logger.info("stack up: %s; %s", report["setup"]["web"], report["setup"]["workers"])
        manager = Dashboard(base_url, username=soak_world.manager.username, password=soak_world.manager.password)
        manager.login()
        for done in world.world_connect(soak_world, manager):
            logger.info("dashboard: %s", done)
        probe = world.inventory_probe(emulator_base_url=emulator_url)
        report["setup"]["inventory_probe"] = probe
        logger.info("Walmart's PUT /v3/inventory sets %s (probe: %s)", probe["semantics"], probe["shown"])

        # --- load --------------------------------------------------------------------------------------
        from datetime import UTC, datetime

        journal = drivers.Journal()
        since = time.time()
        since_dt = datetime.fromtimestamp(since - 1, tz=UTC)
        plan: dict = {}
        plan_lock = threading.Lock()

        def dashboard(login: world.Login) -> Dashboard:
            session = Dashboard(base_url, username=login.username, password=login.password)
            session.login()
            return session

        per_thread_catalog = profile.catalog_changes_per_second / 2
        threads = [
            drivers.Customers(seller_id=soak_world.seller_id, interval=60 / profile.orders_per_minute,
                              journal=journal, stop=stop, seed=args.seed + 1),
            drivers.Returns(seller_id=soak_world.seller_id, interval=60 / profile.returns_per_minute,
                            journal=journal, stop=stop, seed=args.seed + 2),
            *[drivers.CatalogManager(f"catalog{n}", dashboard=dashboard(soak_world.catalog_editor),
                                     product_ids=soak_world.product_ids, interval=1 / per_thread_catalog,
                                     journal=journal, stop=stop, seed=args.seed + 10 + n)
              for n in (1, 2)],
            *[drivers.Operators(name=f"operators{n}", dashboard=dashboard(soak_world.operator),
                                store_id=soak_world.store_id, since=since_dt, plan=plan, plan_lock=plan_lock,
                                tracking_prefix="SOAK", interval=0.4, journal=journal, stop=stop,
                                seed=args.seed + 20 + n)
              for n in (1, 2)],
        ]  # fmt: skip
        walmart_side = drivers.WalmartDeliveries(seller_id=soak_world.seller_id, interval=5, journal=journal,
                                                 stop=walmart_stop, seed=args.seed + 3)  # fmt: skip
        walmart_side.start()
        background.append(walmart_side)
        for thread in threads:
            thread.start()
        logger.info(
            "load on: %.0f orders/min, %.1f catalog changes/s, %.0f returns/min, operators ship/cancel/refund",
            profile.orders_per_minute,
            profile.catalog_changes_per_second,
            profile.returns_per_minute,
        )
        stop.wait(profile.warmup_seconds)

        # --- faults --------------------------------------------------------------------------------------
        fault_context = faults.FaultContext(
            seller_id=soak_world.seller_id, stack=stack, redis=own_redis, database_url=database_url,
            client_timeout=CLIENT_TIMEOUT_SECONDS, stop=threading.Event(),
        )  # fmt: skip
        records = faults.phases_run(fault_context, phase_seconds=profile.phase_seconds, gap_seconds=profile.gap_seconds)
        window = (records[0].started, records[-1].ended)
        report["machine"]["load_average_after_faults"] = os.getloadavg()
        report["phases"] = [record.as_dict() for record in records]
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        report["load"] = dict(sorted(journal.counts.items()))
        report["load_seconds"] = round(time.time() - since, 1)
        logger.info("load off; quiet phase (up to %.0f s) until everything converges", profile.quiet_max_seconds)

        # --- quiet: converge ----------------------------------------------------------------------------
        from django.db import close_old_connections

        scope = truth.Scope(
            store_id=soak_world.store_id, seller_id=soak_world.seller_id, client_id=soak_world.client_id,
            client_secret=soak_world.client_secret, emulator_base_url=emulator_url,
            request_log_dir=workdir / "walmart-requests", semantics=probe["semantics"], since=since,
        )  # fmt: skip
        last_fault_end = window[1]
        samples: list[tuple[float, bool]] = []
        deadline = min(
            last_fault_end + profile.quiet_max_seconds, started + profile.budget_seconds - FINAL_STEPS_SECONDS
        )
        results = []
        while True:
            close_old_connections()
            results, evidence = truth.evaluate(scope, journal=journal)
            gates = [result for result in results if result.gate]
            passed = all(result.passed for result in gates)
            samples.append((time.time(), passed))
            failing = [result.name for result in gates if not result.passed]
            logger.info(
                "  +%.0f s after the last fault: %s",
                time.time() - last_fault_end,
                "all checks pass" if passed else "failing: " + "; ".join(failing),
            )
            confirmed = passed and len(samples) >= 2 and samples[-2][1]
            if confirmed or time.time() + SAMPLE_EVERY_SECONDS > deadline:
                break
            time.sleep(SAMPLE_EVERY_SECONDS)
        from bench.soak.checks import CheckResult, converged_after

        converged = converged_after(samples, since=last_fault_end)
        results.append(
            CheckResult(
                "converged after the last fault",
                converged is not None,
                f"{converged:.0f} s after the last fault ended (target {CONVERGENCE_TARGET_SECONDS} s)"
                if converged is not None
                else f"not converged {time.time() - last_fault_end:.0f} s after the last fault",
                gate=False,
            )
        )
        crashed = stack.crashed()
        results.append(
            CheckResult(
                "every process still running",
                not crashed,
                "yes" if not crashed else "exited: " + ", ".join(crashed),
            )
        )
        report["convergence"] = {
            "last_fault_ended": last_fault_end,
            "seconds": converged,
            "samples": [{"at": round(at, 1), "passed": ok} for at, ok in samples],
        }
        phases = [(record.name, record.started, record.ended) for record in records]
        report["latency"] = truth.latencies(scope, window=window, phases=phases)
        report["latency"]["fault_window"] = [window[0], window[1]]
        report["walmart_requests"] = evidence.summary()
        report["rows"] = truth.tallies(scope)
        report["checks"] = [result.as_dict() for result in results]
        report["processes"] = {name: {"starts": len(m.starts)} for name, m in stack.processes.items()}
        report["passed"] = all(result.passed for result in results if result.gate)
        exit_code = 0 if report["passed"] else 1
    except KeyboardInterrupt:
        logger.info("interrupted: stopping everything")
        report["interrupted"] = True
        exit_code = 130
    except Exception as error:
        logger.exception("soak failed to run: %s", error)
        report["error"] = f"{type(error).__name__}: {error}"
        exit_code = 2
    finally:
        stop.set()
        walmart_stop.set()
        if fault_context is not None:
            fault_context.stop.set()
        for thread in [*threads, *background]:
            thread.join(timeout=30)
        if stack is not None:
            stack.stop_all()
        if own_redis is not None:
            own_redis.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        if own_postgres is not None:
            own_postgres.stop(keep_data=args.keep)
        elif database_url and not args.keep:
            try:
                servers.database_drop(database_url)
            except Exception as error:  # noqa: BLE001
                logger.warning("could not drop %s: %s", database_url, error)
        shutil.rmtree(workdir / "redis", ignore_errors=True)
    report["finished_at"] = time.time()
    report["seconds"] = round(report["finished_at"] - started, 1)
    report["machine"]["load_average_end"] = os.getloadavg()
    from bench.soak.report import report_print, report_write

    path = report_write(report, args.output)
    report_print(report, path)
    return exit_code
