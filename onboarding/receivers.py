"""Receivers of onboarding: each only calls a service."""

from channel_manager.work import enqueue_on_commit


def on_store_connected(sender, *, store, **kwargs) -> None:
    from onboarding.tasks import store_connected_task

    enqueue_on_commit(store_connected_task, store.pk)
