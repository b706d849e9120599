"""Writes of the inventory app. Import services from here (`from inventory.services import stock_move`)."""

from inventory.services.reservations import ReservationMove, ReservationResult, reservations_apply
from inventory.services.stock import (
    InsufficientStock,
    StockError,
    stock_bulk_set,
    stock_move,
    stock_movements_record,
    stock_set,
)

__all__ = [
    "ReservationMove",
    "ReservationResult",
    "reservations_apply",
    "InsufficientStock",
    "StockError",
    "stock_bulk_set",
    "stock_move",
    "stock_movements_record",
    "stock_set",
]
