"""`WalmartClient`: the entry point. Wires transport -> requestor -> one resource per API."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import requests

from walmart_client.auth import TokenCache, TokenProvider
from walmart_client.models import TokenDetail
from walmart_client.ratelimit import MemoryRateLimitStore, RateLimits, RateLimitStore
from walmart_client.requestor import Requestor
from walmart_client.resources.auth import Auth
from walmart_client.resources.feeds import Feeds
from walmart_client.resources.inventory import InventoryResource
from walmart_client.resources.items import Items
from walmart_client.resources.notifications import Notifications
from walmart_client.resources.orders import Orders
from walmart_client.resources.prices import Prices
from walmart_client.resources.reports import Reports
from walmart_client.resources.returns import Returns
from walmart_client.resources.settings import Settings
from walmart_client.transport import Transport

PRODUCTION_BASE_URL = "https://marketplace.walmartapis.com"
SANDBOX_BASE_URL = "https://sandbox.walmartapis.com"


class WalmartClient:
    """A client for one Walmart seller account.

    `token_cache` (get/set) shares tokens between client instances and processes; `rate_limit_store`
    shares the last seen bucket per endpoint family; `rate_limit_hook(family)` is called before every
    request attempt (the Django side paces there). `sleep`/`jitter` are injectable for tests. Thread-safe
    for concurrent calls (token refresh is single-flight).
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        token_cache: TokenCache | None = None,
        rate_limit_hook: Callable[[str], None] | None = None,
        timeout: float = 30.0,
        rate_limit_store: RateLimitStore | None = None,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_rate_limit_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
        now: Callable[[], datetime] | None = None,
        session: requests.Session | None = None,
        consumer_channel_type: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.transport = Transport(
            session=session,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_rate_limit_wait=max_rate_limit_wait,
            sleep=sleep,
            jitter=jitter,
            clock=now,
        )
        self.tokens = TokenProvider(
            transport=self.transport,
            base_url=self.base_url,
            client_id=client_id,
            client_secret=client_secret,
            cache=token_cache,
            clock=clock,
            consumer_channel_type=consumer_channel_type,
        )
        self.rate_limits = RateLimits(rate_limit_store if rate_limit_store is not None else MemoryRateLimitStore())
        self.requestor = Requestor(
            base_url=self.base_url,
            transport=self.transport,
            tokens=self.tokens,
            rate_limits=self.rate_limits,
            rate_limit_hook=rate_limit_hook,
            consumer_channel_type=consumer_channel_type,
            extra_headers=extra_headers,
            clock=now,
        )
        self.auth = Auth(self.requestor)
        self.items = Items(self.requestor)
        self.feeds = Feeds(self.requestor)
        self.inventory = InventoryResource(self.requestor)
        self.prices = Prices(self.requestor)
        self.orders = Orders(self.requestor)
        self.returns = Returns(self.requestor)
        self.notifications = Notifications(self.requestor)
        self.settings = Settings(self.requestor)
        self.reports = Reports(self.requestor)

    def __repr__(self) -> str:
        return f"<WalmartClient base_url={self.base_url!r} client_id={self.client_id!r}>"

    @property
    def last_correlation_id(self) -> str | None:
        """The `WM_QOS.CORRELATION_ID` of the most recent request attempt (for logs and ledgers)."""
        return self.requestor.last_correlation_id

    def token_detail(self) -> TokenDetail:
        """Shortcut for `client.auth.token_detail()`."""
        return self.auth.token_detail()

    def close(self) -> None:
        self.transport.session.close()

    def __enter__(self) -> WalmartClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
