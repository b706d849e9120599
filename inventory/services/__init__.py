"""Writes of the inventory app. Import services from here (`from inventory.services import stock_move`)."""

from inventory.services.stock import (
    InsufficientStock,
    StockError,
    catalog_changed_after_commit,
    stock_bulk_set,
    stock_move,
    stock_set,
)
from inventory.services.sync import (
    PlannedSync,
    ReconcileResult,
    SyncRunResult,
    feed_poll,
    feed_results_apply,
    sync_enqueue,
    sync_nudge,
    sync_plan,
    sync_reconcile,
    sync_reconcile_tick,
    sync_resync,
    sync_resync_stores,
    sync_run,
    sync_tick,
)

__all__ = [
    "PlannedSync",
    "ReconcileResult",
    "SyncRunResult",
    "feed_poll",
    "feed_results_apply",
    "sync_enqueue",
    "sync_nudge",
    "sync_plan",
    "sync_reconcile",
    "sync_reconcile_tick",
    "sync_resync",
    "sync_resync_stores",
    "sync_run",
    "sync_tick",
    "InsufficientStock",
    "StockError",
    "catalog_changed_after_commit",
    "stock_bulk_set",
    "stock_move",
    "stock_set",
]
