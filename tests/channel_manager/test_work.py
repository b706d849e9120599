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
