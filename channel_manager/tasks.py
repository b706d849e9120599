"""Celery tasks of the core: the one sweeper of durable work (see channel_manager.work)."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def sweep_task() -> dict[str, int]:
    """Run every registered sweep once (beat, every minute)."""
    from channel_manager.work import sweep_all

    return sweep_all()
