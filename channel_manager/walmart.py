"""Django side of `walmart_client`: build a client for a Store, with a token and rate-limit state
shared by every worker through the Django cache (Redis).

* One access token per store, kept in the cache until shortly before it expires, so N workers make one
  token call per ~13 minutes instead of N. The refresh itself is single-flight across workers: a
  short-lived lock in the cache (`cache.add`) lets one worker call `POST /v3/token` while the others
  wait (bounded) for the token it writes.
* The last bucket Walmart reported per endpoint family (`x-current-token-count`,
  `x-next-replenish-time`) is kept in the cache, and the client's `rate_limit_hook` paces every worker
  on it: when Walmart said the bucket is empty, it raises `WalmartRateLimited` (with the wait) without
  calling Walmart, and the Celery task is rescheduled for the replenish time
  (`channel_manager.push_tasks.rescheduled_when_rate_limited`): a rate limit never holds a worker. A
  deployment may allow short in-process waits with `WALMART_RATE_LIMIT_MAX_WAIT_SECONDS` (default 0).
* Recording that state is best effort: a cache (Redis) failure while reading or writing it is logged and
  ignored, so it never turns Walmart's answer into an error after the request was applied.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache

from channel_manager.locks import lock_acquire, lock_release
from channel_manager.models import Store
from walmart_client import WalmartClient
from walmart_client.auth import CachedToken
from walmart_client.errors import WalmartConnectionError, WalmartRateLimited, WalmartServerError
from walmart_client.ratelimit import RateLimitInfo

logger = logging.getLogger(__name__)

RATE_LIMIT_STATE_TTL_SECONDS = 3600
RATE_LIMIT_MAX_WAIT_DEFAULT_SECONDS = 0.0  # never sleep for Walmart's budget: reschedule instead
ERROR_TEXT_MAX_LENGTH = 2000
# What can clear by itself, and so is retried (with backoff and a cap): a rate limit, a 5xx, a connection
# failure. A 4xx is Walmart refusing the request: retrying it changes nothing.
RETRYABLE = (WalmartRateLimited, WalmartServerError, WalmartConnectionError)


def error_text(error: Exception, *, with_codes: bool = True) -> str:
    """What an operator reads about a failure: Walmart's error details joined ("CODE [field]: description";
    with `with_codes=False` only each detail's description, else its code), else the error's message;
    at most ERROR_TEXT_MAX_LENGTH characters. Never contains credentials: WalmartError messages carry none."""
    details = getattr(error, "errors", None) or []
    if with_codes:
        text = "; ".join(str(detail) for detail in details) or getattr(error, "message", None) or str(error)
    else:
        text = "; ".join(detail.description or detail.code for detail in details if detail.description or detail.code)
    return (text or str(error))[:ERROR_TEXT_MAX_LENGTH]


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


class DjangoTokenCache:
    """`walmart_client.TokenCache` and `TokenRefreshLock` on the Django cache, namespaced per store. The
    cache entry expires with the token (the client passes a TTL shorter than the token's life).

    The refresh lock is `channel_manager.locks`' owner-token lock: only the worker that took it releases it."""

    def __init__(self, store_key: int | str) -> None:
        self.prefix = f"walmart:store:{store_key}:"

    def get(self, key: str) -> CachedToken | None:
        value = cache.get(self.prefix + key)
        return cast(CachedToken, value) if isinstance(value, dict) else None  # what `set` stored

    def set(self, key: str, value: CachedToken, ttl: int) -> None:
        cache.set(self.prefix + key, dict(value), timeout=ttl)

    def acquire_refresh_lock(self, key: str, ttl: float) -> str | None:
        return lock_acquire(self._lock_key(key), ttl)

    def release_refresh_lock(self, key: str, owner: str) -> None:
        lock_release(self._lock_key(key), owner)

    def _lock_key(self, key: str) -> str:
        return self.prefix + key + ":refresh-lock"

    def __repr__(self) -> str:
        return f"<DjangoTokenCache {self.prefix}>"


class DjangoRateLimitStore:
    """`walmart_client.RateLimitStore` on the Django cache: the last bucket per endpoint family of one
    seller key (Walmart's buckets are per seller), visible to every worker."""

    def __init__(self, store_key: int | str, client_id: str = "") -> None:
        key = hashlib.sha256(client_id.encode()).hexdigest()[:16]
        self.prefix = f"walmart:store:{store_key}:{key}:ratelimit:"

    def get(self, family: str) -> RateLimitInfo | None:
        try:
            value = cache.get(self.prefix + family)
        except Exception:  # noqa: BLE001 - pacing is advisory: without the state the request goes, Walmart answers
            logger.warning("Rate-limit state of %s could not be read", family, exc_info=True)
            return None
        if not isinstance(value, dict):
            return None
        try:
            return RateLimitInfo.from_dict(value)
        except (KeyError, TypeError, ValueError):
            return None

    def set(self, info: RateLimitInfo) -> None:
        """Record Walmart's last bucket; called by the client after every answer, so a cache failure here is
        logged and ignored (raising would turn an applied request into an error)."""
        try:
            cache.set(self.prefix + info.family, info.to_dict(), timeout=RATE_LIMIT_STATE_TTL_SECONDS)
            families = cache.get(self.prefix + "families") or []
            if info.family not in families:
                # Read-modify-write: two workers adding a new family at once may drop one name until its next
                # response; the state itself is never lost (it lives under its own key).
                cache.set(
                    self.prefix + "families", sorted({*families, info.family}), timeout=RATE_LIMIT_STATE_TTL_SECONDS
                )
        except Exception:  # noqa: BLE001 - see the docstring
            logger.warning("Rate-limit state of %s could not be recorded", info.family, exc_info=True)

    def all(self) -> dict[str, RateLimitInfo]:
        """Every endpoint family seen by any worker in the last hour, for the sync-health page."""
        families = cache.get(self.prefix + "families") or []
        result = {}
        for family in families:
            info = self.get(family)
            if info is not None:
                result[family] = info
        return result


def rate_limit_pacer(
    store: DjangoRateLimitStore,
    *,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] | None = None,
    max_wait: float | None = None,
) -> Callable[[str], None]:
    """The `rate_limit_hook` for a store: before a request of `family`, wait while Walmart's last answer
    said that bucket is empty. Raises WalmartRateLimited (nothing sent) when the wait exceeds `max_wait`."""
    clock = now or (lambda: datetime.now(tz=UTC))
    limit = float(
        max_wait
        if max_wait is not None
        else _setting("WALMART_RATE_LIMIT_MAX_WAIT_SECONDS", RATE_LIMIT_MAX_WAIT_DEFAULT_SECONDS)
    )

    def hook(family: str) -> None:
        info = store.get(family)
        if info is None or info.tokens_left is None or info.tokens_left > 0:
            return
        wait = info.seconds_until_replenish(clock())
        if wait <= 0:
            return
        if wait > limit:
            raise WalmartRateLimited(
                "Walmart's rate limit for this endpoint is exhausted (paced locally, nothing sent)",
                retry_after=wait,
                endpoint=family,
            )
        sleep(wait)

    return hook


def store_cache_key(store: Store) -> str:
    """The store's namespace in the cache: its id plus its creation time, so a deleted store's state is
    never picked up by a new store that reuses the id (SQLite reuses ids; test databases roll back)."""
    created = int(store.created_at.timestamp() * 1_000_000) if store.created_at else 0
    return f"{store.pk}.{created}"


def store_rate_limits(store: Store) -> dict[str, RateLimitInfo]:
    """Walmart's last reported bucket per endpoint family for `store` (shared by all workers), by family."""
    return DjangoRateLimitStore(store_cache_key(store), store.client_id).all()


def walmart_client_for_store(store: Store, **overrides: Any) -> WalmartClient:
    """A `WalmartClient` for `store`: its base URL (production / sandbox / emulator), decrypted
    credentials, the shared token cache and rate-limit state, and the configured timeout.

    The pacing hook and the client's own 429 handling share one limit (`WALMART_RATE_LIMIT_MAX_WAIT_SECONDS`,
    default 0): a longer wait becomes `WalmartRateLimited` for the caller (a Celery task is rescheduled for
    the replenish time).
    `overrides` are passed to `WalmartClient`; `sleep` and `now` (tests) are given to the pacing hook too.
    Raises `SecretDecryptionError` when the stored secret cannot be decrypted (the message never holds it).
    """
    rate_limit_store = DjangoRateLimitStore(store_cache_key(store), store.client_id)
    # One limit for the pacing hook and the client's 429 handling; a caller may pass max_rate_limit_wait.
    max_wait = float(
        overrides.get(
            "max_rate_limit_wait", _setting("WALMART_RATE_LIMIT_MAX_WAIT_SECONDS", RATE_LIMIT_MAX_WAIT_DEFAULT_SECONDS)
        )
    )
    options: dict[str, Any] = {
        "base_url": store.api_base_url,
        "client_id": store.client_id,
        "client_secret": store.client_secret,
        "token_cache": DjangoTokenCache(store_cache_key(store)),
        "rate_limit_store": rate_limit_store,
        "rate_limit_hook": rate_limit_pacer(
            rate_limit_store, sleep=overrides.get("sleep", time.sleep), now=overrides.get("now"), max_wait=max_wait
        ),
        "timeout": float(_setting("WALMART_HTTP_TIMEOUT_SECONDS", 30.0)),
        "max_rate_limit_wait": max_wait,
    }
    options.update(overrides)
    return WalmartClient(**options)
