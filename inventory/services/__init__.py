"""Writes of the inventory app. Import services from here (`from inventory.services import stock_move`)."""

from inventory.services.stock import (
    InsufficientStock,
    StockError,
    stock_bulk_set,
    stock_move,
    stock_movements_record,
    stock_set,
)

__all__ = [
    "InsufficientStock",
    "StockError",
    "stock_bulk_set",
    "stock_move",
    "stock_movements_record",
    "stock_set",
]
