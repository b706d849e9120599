"""Periodic jobs declared in code are synced into django-celery-beat; ops staff's changes survive."""

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from channel_manager import schedules
from channel_manager.schedules import PeriodicJob, schedules_sync

pytestmark = pytest.mark.django_db

JOBS = [
    PeriodicJob(name="orders: poll", task="orders.tasks.order_poll_all_task", every_seconds=300, description="Poll"),
    PeriodicJob(name="returns: poll", task="returns.tasks.return_poll_all_task", every_seconds=900),
]


@pytest.fixture
def declared(monkeypatch):
    PeriodicTask.objects.filter(name__in=[job.name for job in JOBS]).delete()
    monkeypatch.setattr(schedules, "schedules_declared", lambda: JOBS)
    return JOBS


def test_sync_creates_the_declared_tasks(declared):
    # when
    created = schedules_sync()
    # then
    assert created == 2
    rows = {
        task.name: (task.task, task.interval.every, task.interval.period, task.description, task.enabled)
        for task in PeriodicTask.objects.filter(name__in=["orders: poll", "returns: poll"]).select_related("interval")
    }
    assert rows == {
        "orders: poll": ("orders.tasks.order_poll_all_task", 300, IntervalSchedule.SECONDS, "Poll", True),
        "returns: poll": ("returns.tasks.return_poll_all_task", 900, IntervalSchedule.SECONDS, "", True),
    }


def test_sync_keeps_an_interval_changed_in_admin(declared):
    # given: ops staff slowed the orders poll down to 10 minutes and disabled it
    schedules_sync()
    slower, _ = IntervalSchedule.objects.get_or_create(every=600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="orders: poll").update(interval=slower, enabled=False)
    # when: the next deploy migrates again
    created = schedules_sync()
    # then
    task = PeriodicTask.objects.select_related("interval").get(name="orders: poll")
    assert created == 0
    assert (task.interval.every, task.enabled) == (600, False)
    assert PeriodicTask.objects.filter(name="orders: poll").count() == 1


def test_every_declared_job_of_the_apps_exists_after_migrate():
    # the test database was migrated, which ran the sync
    names = {job.name for job in schedules.schedules_declared()}
    assert names <= set(PeriodicTask.objects.values_list("name", flat=True))
