"""Writes of the inventory app. Import services from here (`from inventory.services import stock_move`)."""

from inventory.services.stock import (
    InsufficientStock,
    StockError,
    catalog_changed_after_commit,
    stock_bulk_set,
    stock_move,
    stock_set,
)

__all__ = [
    "InsufficientStock",
    "StockError",
    "catalog_changed_after_commit",
    "stock_bulk_set",
    "stock_move",
    "stock_set",
]
