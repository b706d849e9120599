"""Celery beat schedules declared in code and synced into django-celery-beat on migrate.

Each app lists its periodic jobs in `<app>/schedules.py` as `SCHEDULES = [PeriodicJob(...), ...]`.
`schedules_sync` (run after every migrate) creates the missing ones and leaves existing rows alone,
so an interval that ops staff changed in admin survives a deploy.
"""

from dataclasses import dataclass

from channel_manager.discovery import app_modules


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    every_seconds: int
    description: str = ""


def schedules_declared() -> list[PeriodicJob]:
    jobs: list[PeriodicJob] = []
    for module in app_modules("schedules"):
        jobs.extend(getattr(module, "SCHEDULES", []))
    return jobs


def schedules_sync() -> int:
    """Create the declared periodic tasks that do not exist yet. Returns how many were created."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created_count = 0
    for job in schedules_declared():
        if PeriodicTask.objects.filter(name=job.name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(every=job.every_seconds, period=IntervalSchedule.SECONDS)
        _, created = PeriodicTask.objects.get_or_create(
            name=job.name, defaults={"task": job.task, "interval": interval, "description": job.description}
        )
        created_count += created
    return created_count


SCHEDULES = [
    PeriodicJob(
        name="core: sweep durable work (pushes in flight, events not processed, feeds not polled)",
        task="channel_manager.tasks.sweep_task",
        every_seconds=60,
        description="Runs every registered sweep: rows past their deadline in a non-final state are re-driven.",
    ),
]
