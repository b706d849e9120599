"""Celery task of the demo: thin, ids in, a service does the work."""

from __future__ import annotations

from celery import shared_task

from demo.services import STEP_CONNECT, demo_store_start_step


@shared_task(acks_late=True)
def demo_store_start_task(store_pk: int, site_url: str, step: str = STEP_CONNECT, attempt: int = 0) -> None:
    """One step of the demo store's first minute; queues the next one. Safe to re-run (see the service)."""
    next_step, wait = demo_store_start_step(store_id=store_pk, site_url=site_url, step=step, attempt=attempt)
    if next_step is not None:
        demo_store_start_task.apply_async(
            args=(store_pk, site_url, next_step, attempt + 1 if next_step == step else 0), countdown=wait
        )
