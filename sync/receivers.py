"""Receivers of the signals of the apps below the sync engine (`listings.signals`, `pricing.signals`),
connected in `SyncConfig.ready`. Each only calls a service."""

from __future__ import annotations

from sync.models import SyncStream
from sync.services import sync_enqueue, sync_nudge_on_commit, sync_rescan_request


def products_changed_received(sender, *, product_ids: frozenset[int], fields: frozenset[str], **kwargs) -> None:
    sync_nudge_on_commit(product_ids=product_ids, fields=fields)


def price_rule_changed_received(sender, *, store_id: int, **kwargs) -> None:
    sync_rescan_request(store_id=store_id, streams=[SyncStream.PRICE])
    sync_enqueue(store_id=store_id, stream=SyncStream.PRICE)
