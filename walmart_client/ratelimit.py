"""Walmart's per-endpoint token buckets as the client sees them.

Walmart reports the bucket on each response in `x-current-token-count` (tokens left) and
`x-next-replenish-time` (epoch milliseconds; the Supplier docs spell it `X-Next-Replenishment-Time`).
Header names are matched case-insensitively and both spellings are accepted. The state is kept per
endpoint family (a name such as `"orders.ship"` chosen by each resource method) in a `RateLimitStore`;
the default keeps it in memory, the Django side shares it across workers through the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

TOKEN_COUNT_HEADERS = ("x-current-token-count",)
REPLENISH_HEADERS = ("x-next-replenish-time", "x-next-replenishment-time")
RETRY_AFTER_HEADER = "retry-after"


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What Walmart last said about one endpoint family's bucket."""

    family: str
    tokens_left: int | None
    next_replenish_at: datetime | None
    observed_at: datetime

    def seconds_until_replenish(self, now: datetime | None = None) -> float:
        if self.next_replenish_at is None:
            return 0.0
        now = now or datetime.now(tz=UTC)
        return max(0.0, (self.next_replenish_at - now).total_seconds())

    def to_dict(self) -> dict[str, object]:
        return {
            "family": self.family,
            "tokens_left": self.tokens_left,
            "next_replenish_at": self.next_replenish_at.isoformat() if self.next_replenish_at else None,
            "observed_at": self.observed_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RateLimitInfo:
        replenish = data.get("next_replenish_at")
        tokens_left = data.get("tokens_left")
        return cls(
            family=str(data["family"]),
            tokens_left=int(str(tokens_left)) if tokens_left is not None else None,
            next_replenish_at=datetime.fromisoformat(str(replenish)) if replenish else None,
            observed_at=datetime.fromisoformat(str(data["observed_at"])),
        )


def _header(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in names:
        value = lowered.get(name)
        if value not in (None, ""):
            return value
    return None


def epoch_ms_to_datetime(value: str | int | float) -> datetime:
    return datetime.fromtimestamp(float(value) / 1000.0, tz=UTC)


def rate_limit_from_headers(family: str, headers: Mapping[str, str], *, now: datetime) -> RateLimitInfo | None:
    """The bucket state carried by one response's headers, or None when it carries none."""
    count = _header(headers, TOKEN_COUNT_HEADERS)
    replenish = _header(headers, REPLENISH_HEADERS)
    if count is None and replenish is None:
        return None
    tokens_left: int | None = None
    if count is not None:
        try:
            tokens_left = int(float(count))
        except ValueError:
            tokens_left = None
    replenish_at: datetime | None = None
    if replenish is not None:
        try:
            replenish_at = epoch_ms_to_datetime(replenish)
        except (ValueError, OverflowError, OSError):
            replenish_at = None
    return RateLimitInfo(family=family, tokens_left=tokens_left, next_replenish_at=replenish_at, observed_at=now)


def wait_from_headers(headers: Mapping[str, str], *, now: datetime) -> float | None:
    """Seconds Walmart asks a client to wait after a 429: `x-next-replenish-time` (epoch ms) first, then
    `Retry-After` (seconds or an HTTP date). None when neither is usable."""
    replenish = _header(headers, REPLENISH_HEADERS)
    if replenish is not None:
        try:
            return max(0.0, (epoch_ms_to_datetime(replenish) - now).total_seconds())
        except (ValueError, OverflowError, OSError):
            pass
    retry_after = _header(headers, (RETRY_AFTER_HEADER,))
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, (parsedate_to_datetime(retry_after) - now).total_seconds())
            except (TypeError, ValueError):
                return None
    return None


class RateLimitStore(Protocol):
    """Where the client keeps the last known bucket per endpoint family."""

    def get(self, family: str) -> RateLimitInfo | None: ...

    def set(self, info: RateLimitInfo) -> None: ...


class MemoryRateLimitStore:
    """Process-local store (the default)."""

    def __init__(self) -> None:
        self._data: dict[str, RateLimitInfo] = {}
        self._lock = threading.Lock()

    def get(self, family: str) -> RateLimitInfo | None:
        return self._data.get(family)

    def set(self, info: RateLimitInfo) -> None:
        with self._lock:
            self._data[info.family] = info

    def families(self) -> list[str]:
        return sorted(self._data)


class RateLimits(Mapping[str, RateLimitInfo]):
    """`client.rate_limits`: read-only view of the bucket per endpoint family seen by this client
    (`client.rate_limits["orders.ship"].tokens_left`). Families are the ones this client observed; a
    shared store may hold more, reachable with `.get(family)`."""

    def __init__(self, store: RateLimitStore) -> None:
        self.store = store
        self._seen: set[str] = set()

    def record(self, info: RateLimitInfo) -> None:
        self._seen.add(info.family)
        self.store.set(info)

    def __getitem__(self, family: str) -> RateLimitInfo:
        info = self.store.get(family)
        if info is None:
            raise KeyError(family)
        return info

    def get(self, family: str, default: RateLimitInfo | None = None) -> RateLimitInfo | None:  # type: ignore[override]
        info = self.store.get(family)
        return info if info is not None else default

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._seen))

    def __len__(self) -> int:
        return len(self._seen)
