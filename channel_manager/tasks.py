"""Celery tasks of the core: the one sweeper of durable work (see channel_manager.work)."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def sweep_task(chain: str | None = None) -> dict[str, int]:
    """Run every registered sweep once (beat every minute, each worker at start, and the sweep chain every
    `SWEEP_CHAIN_SECONDS` with its token in `chain`), then keep the chain going (`sweep_chain_next`)."""
    from channel_manager.work import sweep_all, sweep_chain_next

    try:
        return sweep_all()
    finally:
        sweep_chain_next(sweep_task, token=chain)
