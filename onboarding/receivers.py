"""Receivers of onboarding: each only calls a service."""

from channel_manager.work import enqueue_on_commit


def on_store_connected(sender, *, store, **kwargs) -> None:
    from onboarding.tasks import store_connected_task

    enqueue_on_commit(store_connected_task, store.pk)


def on_walmart_items_read(sender, *, store, items, started_at, complete, **kwargs) -> None:
    from onboarding.services import walmart_items_refresh

    walmart_items_refresh(store=store, items=items, started_at=started_at, complete=complete)


def on_walmart_item_event(sender, *, store, event, **kwargs) -> None:
    from onboarding.services import walmart_item_event_apply

    walmart_item_event_apply(store=store, event=event)


def on_read_back_stores_wanted(sender, **kwargs) -> list[int]:
    from onboarding.services import onboarded_store_ids

    return onboarded_store_ids()
