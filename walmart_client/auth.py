"""OAuth client-credentials tokens (`POST /v3/token`), cached and refreshed once for all callers.

https://developer.walmart.com/us-marketplace/docs/get-an-access-token

Tokens live 900 s. A token is reused until `refresh_margin` seconds before it expires. Refreshing is
single-flight inside a process (one lock per credential, shared by every client instance), and the
token is kept in a pluggable `TokenCache` so that, with a shared cache (the Django side passes one
backed by Redis), every worker uses the same token for a store. A cache that also offers the
`TokenRefreshLock` methods makes the refresh single-flight across processes: one process fetches while
the others wait (bounded) for the token it writes.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypedDict, TypeGuard

from walmart_client.errors import WalmartAuthError, WalmartError, WalmartResponseError, error_details_from_body
from walmart_client.transport import HttpCall, Retry, Transport

SERVICE_NAME = "Walmart Marketplace"
TOKEN_LIFETIME_SECONDS = 900
DEFAULT_REFRESH_MARGIN_SECONDS = 120
# Cross-process refresh (caches with `TokenRefreshLock`): how long a caller waits for another process's
# refresh before fetching by itself, how long a lock outlives a holder that died, and how often to look.
DEFAULT_LOCK_WAIT_SECONDS = 10.0
DEFAULT_LOCK_TTL_SECONDS = 20.0
DEFAULT_LOCK_POLL_SECONDS = 0.05


class CachedToken(TypedDict):
    access_token: str
    expires_at: float  # epoch seconds


class TokenCache(Protocol):
    """Where tokens are kept between calls. `ttl` is in seconds; `get` returns None when absent/expired."""

    def get(self, key: str) -> CachedToken | None: ...

    def set(self, key: str, value: CachedToken, ttl: int) -> None: ...


class TokenRefreshLock(Protocol):
    """Optional extra methods of a `TokenCache` shared between processes.

    `acquire_refresh_lock` takes the lock for `key` for at most `ttl` seconds without waiting and returns
    an owner token, or None when another holder has it; `release_refresh_lock` frees it if `owner` still
    holds it (a lock that has expired and been taken by someone else is left alone)."""

    def acquire_refresh_lock(self, key: str, ttl: float) -> str | None: ...

    def release_refresh_lock(self, key: str, owner: str) -> None: ...


class MemoryTokenCache:
    """Process-local token cache (the default)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._data: dict[str, tuple[CachedToken, float]] = {}
        self._clock = clock

    def get(self, key: str) -> CachedToken | None:
        item = self._data.get(key)
        if item is None or item[1] <= self._clock():
            return None
        return item[0]

    def set(self, key: str, value: CachedToken, ttl: int) -> None:
        self._data[key] = (value, self._clock() + ttl)

    def __repr__(self) -> str:
        return f"<MemoryTokenCache {len(self._data)} entries>"


_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class Secret:
    """A string that never shows itself in repr/str (so it cannot leak through logs or tracebacks)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


class TokenProvider:
    """Hands out a valid access token; fetches a new one when the cached one is missing or near expiry."""

    def __init__(
        self,
        *,
        transport: Transport,
        base_url: str,
        client_id: str,
        client_secret: str,
        cache: TokenCache | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
        consumer_channel_type: str | None = None,
        lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
        lock_ttl: float = DEFAULT_LOCK_TTL_SECONDS,
        lock_poll: float = DEFAULT_LOCK_POLL_SECONDS,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("Walmart client ID and client secret are both required")
        self._transport = transport
        self._base_url = base_url
        self._client_id = client_id
        self._secret = Secret(client_secret)
        self.cache: TokenCache = cache if cache is not None else MemoryTokenCache(clock)
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._consumer_channel_type = consumer_channel_type
        # One token per (environment, key, secret): a changed secret never reuses a token fetched with the old
        # one. Only a one-way digest of the secret is in the key (Walmart's secrets are long random strings).
        self.cache_key = (
            "walmart-token:" + hashlib.sha256(f"{base_url}|{client_id}|{client_secret}".encode()).hexdigest()[:40]
        )
        self._lock = _lock_for(self.cache_key)
        self.lock_wait = lock_wait
        self.lock_ttl = lock_ttl
        self.lock_poll = lock_poll
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"<TokenProvider client_id={self._client_id!r} base_url={self._base_url!r}>"

    def _usable(self, token: CachedToken | None) -> TypeGuard[CachedToken]:
        return token is not None and token["expires_at"] - self.refresh_margin > self._clock()

    def token(self) -> str:
        """A token valid for at least `refresh_margin` seconds. Raises WalmartAuthError when Walmart
        rejects the credentials, other WalmartError subclasses on transport/server failure."""
        cached = self.cache.get(self.cache_key)
        if self._usable(cached):
            return cached["access_token"]
        with self._lock:
            return self._fresh() or self._fetch_single_flight()

    def refresh(self, rejected_token: str) -> str:
        """A new token after Walmart answered 401 to `rejected_token` (another caller may already have
        replaced it, in which case that replacement is returned without a second fetch)."""
        with self._lock:
            return self._fresh(rejected_token) or self._fetch_single_flight(rejected_token)

    def _fresh(self, rejected_token: str | None = None) -> str | None:
        cached = self.cache.get(self.cache_key)
        if self._usable(cached) and cached["access_token"] != rejected_token:
            return cached["access_token"]
        return None

    def _fetch_single_flight(self, rejected_token: str | None = None) -> str:
        """Fetch once for every process sharing the cache, when the cache offers `TokenRefreshLock`.

        The lock holder re-reads the cache (a refresh may have just finished) and fetches; the others
        poll the cache for the holder's token for up to `lock_wait` seconds, take the lock themselves
        when the holder gave up without a token (e.g. Walmart refused it), and past the wait fetch
        without the lock rather than fail (a holder that died leaves its lock until `lock_ttl`)."""
        acquire = getattr(self.cache, "acquire_refresh_lock", None)
        release = getattr(self.cache, "release_refresh_lock", None)
        if acquire is None or release is None:
            return self._fetch()
        deadline = time.monotonic() + self.lock_wait
        while True:
            owner = acquire(self.cache_key, self.lock_ttl)
            if owner is not None:
                try:
                    return self._fresh(rejected_token) or self._fetch()
                finally:
                    release(self.cache_key, owner)
            time.sleep(self.lock_poll)
            fresh = self._fresh(rejected_token)
            if fresh:
                return fresh
            if time.monotonic() >= deadline:
                return self._fetch()

    def _headers(self) -> dict[str, str]:
        basic = base64.b64encode(f"{self._client_id}:{self._secret.reveal()}".encode()).decode()
        headers = {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "WM_SVC.NAME": SERVICE_NAME,
            "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
        }
        if self._consumer_channel_type:
            headers["WM_CONSUMER.CHANNEL.TYPE"] = self._consumer_channel_type
        return headers

    def _fetch(self) -> str:
        call = HttpCall(
            method="POST",
            url=f"{self._base_url}/v3/token",
            endpoint="POST /v3/token",
            family="auth.token",
            retry=Retry.READ,  # asking for a token twice has no side effect
            headers=self._headers,
            data={"grant_type": "client_credentials"},
        )
        response = self._transport.send(call)
        self.fetch_count += 1
        correlation_id = call.correlation_ids[-1] if call.correlation_ids else None
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code in (400, 401, 403):
            raise WalmartAuthError(
                "Walmart rejected the client ID / client secret",
                status=response.status_code,
                errors=error_details_from_body(body),
                endpoint=call.endpoint,
                correlation_id=correlation_id,
            )
        if response.status_code >= 300:
            from walmart_client.requestor import error_for_status

            raise error_for_status(
                response.status_code, body, endpoint=call.endpoint, correlation_id=correlation_id, headers={}
            )
        if not isinstance(body, dict) or not body.get("access_token"):
            raise WalmartResponseError(
                "Walmart's token response has no access_token",
                status=response.status_code,
                endpoint=call.endpoint,
                correlation_id=correlation_id,
            )
        expires_in = int(body.get("expires_in") or TOKEN_LIFETIME_SECONDS)
        token: CachedToken = {"access_token": str(body["access_token"]), "expires_at": self._clock() + expires_in}
        ttl = max(1, int(expires_in - self.refresh_margin))
        self.cache.set(self.cache_key, token, ttl)
        return token["access_token"]


__all__ = [
    "CachedToken",
    "MemoryTokenCache",
    "Secret",
    "TokenCache",
    "TokenProvider",
    "TokenRefreshLock",
    "WalmartError",
]
