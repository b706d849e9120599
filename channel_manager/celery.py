"""The Celery application. Configuration lives in Django settings under the CELERY_ namespace."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channel_manager.settings.local")

app = Celery("channel_manager")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _sweep_at_worker_start(**kwargs: Any) -> None:
    """Each worker, once it is ready, queues a sweep (which keeps the sweep chain alive): durable work is
    re-driven without beat (`channel_manager.work`)."""
    from channel_manager.tasks import sweep_task
    from channel_manager.work import sweep_at_worker_start

    sweep_at_worker_start(sweep_task)
