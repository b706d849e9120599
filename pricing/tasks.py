"""Celery tasks of the price sync (the engine lives in `inventory.services`)."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def price_sync_tick_task() -> int:
    """Every minute: a run of the price stream for every store that has it on (or feeds to poll)."""
    from inventory.models import SyncStream
    from inventory.services import sync_tick

    return sync_tick(stream=SyncStream.PRICE)
