import logging
from datetime import UTC, datetime

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from channel_manager import work
from channel_manager.schedules import schedules_declared


class FakeTask:
    name = "tests.fake"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[tuple[tuple, dict]] = []

    def apply_async(self, args=(), **options):
        if self.error:
            raise self.error
        self.sent.append((args, options))


@pytest.fixture
def isolated_sweeps(monkeypatch):
    monkeypatch.setattr(work, "_SWEEPS", {})


def test_enqueue_sends_with_options():
    task = FakeTask()
    assert work.enqueue(task, 7, countdown=5, queue="pushes") is True
    assert task.sent == [((7,), {"countdown": 5, "queue": "pushes"})]


def test_enqueue_logs_and_returns_false_when_the_broker_is_down(caplog):
    task = FakeTask(OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."))
    with caplog.at_level(logging.WARNING, logger="channel_manager.work"):
        assert work.enqueue(task, 7) is False
    assert "tests.fake" in caplog.text
    assert "sweeper" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit_and_never_raises():
    down = FakeTask(ConnectionError("redis down"))
    up = FakeTask()
    with transaction.atomic():
        work.enqueue_on_commit(up, 1)
        work.enqueue_on_commit(down, 2)
        assert up.sent == []
    assert up.sent == [((1,), {})]


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_sends_nothing_when_rolled_back():
    task = FakeTask()

    def save_then_fail():
        with transaction.atomic():
            work.enqueue_on_commit(task, 1)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        save_then_fail()
    assert task.sent == []


def test_sweep_all_runs_every_kind_and_survives_a_broken_one(isolated_sweeps, caplog):
    seen: list[tuple[str, datetime]] = []
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    def broken(when):
        raise RuntimeError("boom")

    def two(when):
        seen.append(("b", when))
        return 2

    work.sweep_register("a.broken", broken)
    work.sweep_register("b.two", two)
    with caplog.at_level(logging.ERROR, logger="channel_manager.work"):
        assert work.sweep_all(now=now) == {"a.broken": -1, "b.two": 2}
    assert seen == [("b", now)]
    assert "a.broken" in caplog.text


def test_registering_a_kind_again_replaces_it(isolated_sweeps):
    work.sweep_register("k", lambda now: 1)
    work.sweep_register("k", lambda now: 3)
    assert [sweep.kind for sweep in work.sweeps_registered()] == ["k"]
    assert work.sweep_all() == {"k": 3}


def test_the_sweeper_runs_every_minute():
    jobs = [job for job in schedules_declared() if job.task == "channel_manager.tasks.sweep_task"]
    assert [job.every_seconds for job in jobs] == [60]


# --- the sweeper without beat --------------------------------------------------------------------------------


@pytest.fixture
def chain(settings):
    """A broker, not eager tasks (the chain is off under CELERY_TASK_ALWAYS_EAGER), and no chain recorded."""
    from django.core.cache import cache

    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(work._SWEEP_CHAIN_KEY)
    yield
    cache.delete(work._SWEEP_CHAIN_KEY)


def test_a_worker_start_queues_a_sweep(monkeypatch):
    from channel_manager import celery as celery_app
    from channel_manager.tasks import sweep_task

    sent = []
    monkeypatch.setattr(sweep_task, "apply_async", lambda args=(), **options: sent.append((args, options)))
    celery_app._sweep_at_worker_start(sender=None)
    assert sent == [((), {"countdown": work.SWEEP_AT_WORKER_START_COUNTDOWN})]


@pytest.mark.django_db
def test_each_sweep_queues_the_next_so_sweeps_go_on_without_beat(chain, isolated_sweeps, monkeypatch):
    from channel_manager.tasks import sweep_task

    runs = []
    work.sweep_register("k", lambda now: runs.append(now) or 0)
    sent = []
    monkeypatch.setattr(sweep_task, "apply_async", lambda args=(), **options: sent.append((args, options)))
    # given: a worker started (no beat): its sweep starts the chain
    sweep_task.run()
    ((token,), options) = sent[-1]
    assert options == {"countdown": work.SWEEP_CHAIN_SECONDS}
    # when: the chain's sweep runs, it queues the next one, with a new token
    sweep_task.run(chain=token)
    ((next_token,), options) = sent[-1]
    assert (len(runs), len(sent), options["countdown"]) == (2, 2, work.SWEEP_CHAIN_SECONDS)
    assert next_token != token
    # and another sweep (beat's, a second worker's) does not start a second chain
    sweep_task.run()
    assert len(sent) == 2
    # nor does a replaced chain's sweep go on
    sweep_task.run(chain=token)
    assert len(sent) == 2
    sweep_task.run(chain=next_token)
    assert len(sent) == 3


def test_a_chain_whose_next_sweep_was_lost_is_restarted_by_the_next_sweep(chain):
    task = FakeTask()
    assert work.sweep_chain_next(task, token=None, now=1000.0) is True
    assert work.sweep_chain_next(task, token=None, now=1000.0 + work.SWEEP_CHAIN_SECONDS) is False  # alive
    # when: its sweep never ran (Redis restarted empty, or the worker holding it was killed)
    late = 1000.0 + work.SWEEP_CHAIN_SECONDS + work.SWEEP_CHAIN_GRACE_SECONDS + 1
    # then: any sweep (beat, a worker start) starts a new chain
    assert work.sweep_chain_next(task, token=None, now=late) is True
    assert [options for _, options in task.sent] == [{"countdown": work.SWEEP_CHAIN_SECONDS}] * 2


def test_the_chain_never_raises_when_the_cache_is_down(chain, monkeypatch, caplog):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "get", down)
    task = FakeTask()
    with caplog.at_level(logging.WARNING, logger="channel_manager.work"):
        assert work.sweep_chain_next(task, token=None) is False
    assert task.sent == []
    assert "sweep chain" in caplog.text


def test_no_chain_under_eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    task = FakeTask()
    assert work.sweep_chain_next(task, token=None) is False
    assert task.sent == []


def test_the_first_enqueue_after_a_broker_outage_queues_a_sweep(settings, monkeypatch):
    from kombu.exceptions import OperationalError as BrokerDown

    from channel_manager.tasks import sweep_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sweeps = []
    monkeypatch.setattr(sweep_task, "apply_async", lambda args=(), **options: sweeps.append(options))
    monkeypatch.setattr(work, "_broker_failed", False)
    # given: the broker fails once
    assert work.enqueue(FakeTask(BrokerDown("Connection refused")), 1) is False
    assert sweeps == []
    # when: it takes tasks again
    assert work.enqueue(FakeTask(), 2) is True
    assert work.enqueue(FakeTask(), 3) is True
    # then: one sweep, once the lost work is due
    assert sweeps == [{"countdown": work.SWEEP_AFTER_BROKER_OUTAGE_COUNTDOWN}]
