"""Small helpers shared by resource modules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from walmart_client.models import to_epoch_ms


def path_part(value: str | int) -> str:
    """A value safe to put in a URL path segment (SKUs may hold `/`, `#`, spaces; feed ids hold `@`)."""
    text = str(value)
    if not text:
        raise ValueError("an identifier in a Walmart path cannot be empty")
    return quote(text, safe="")


def date_param(value: datetime | date | str | None) -> str | None:
    """Walmart's query date: ISO 8601 in UTC (`2024-05-01T10:00:00Z`) or `yyyy-MM-dd` for a date."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes sent to Walmart must be timezone-aware")
        return _utc_iso(value)
    return value.isoformat()


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def check_money(value: Any, *, what: str) -> Decimal:
    """`value` as a Decimal with at most two decimals. Raises ValueError (nothing is sent)."""
    if isinstance(value, float):
        raise ValueError(f"{what} must be a Decimal or a string, not a float ({value!r})")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} is not a finite number: {value!r}")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"{what} has more than two decimals: {value}")
    return amount


def check_quantity(value: Any, *, what: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{what} must be {'zero or more' if allow_zero else 'positive'}, got {value}")
    return value


__all__ = ["check_money", "check_quantity", "date_param", "path_part", "to_epoch_ms"]
