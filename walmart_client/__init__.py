"""A plain Python client for Walmart's Marketplace (US, v3) seller API. Never imports Django.

from walmart_client import WalmartClient
client = WalmartClient(base_url=..., client_id=..., client_secret=...)
for order in client.orders.iter_all(created_start_date=since):
    ...
"""

from walmart_client.auth import CachedToken, MemoryTokenCache, TokenCache
from walmart_client.client import PRODUCTION_BASE_URL, SANDBOX_BASE_URL, WalmartClient
from walmart_client.errors import (
    WalmartAuthError,
    WalmartBadRequest,
    WalmartConnectionError,
    WalmartError,
    WalmartErrorDetail,
    WalmartNotFound,
    WalmartPayloadTooLarge,
    WalmartRateLimited,
    WalmartResponseError,
    WalmartServerError,
)
from walmart_client.models import (
    CancelLine,
    Charge,
    FeedAck,
    FeedItemResult,
    FeedStatus,
    FeedSummary,
    Inventory,
    Item,
    LineStatus,
    RefundLine,
    ReturnRefundLine,
    ShipLine,
    TokenDetail,
    WalmartOrder,
    WalmartOrderLine,
    WalmartReturn,
)
from walmart_client.ratelimit import MemoryRateLimitStore, RateLimitInfo, RateLimitStore
from walmart_client.resources.feeds import split_feed_items

__all__ = [
    "PRODUCTION_BASE_URL",
    "SANDBOX_BASE_URL",
    "CachedToken",
    "CancelLine",
    "Charge",
    "FeedAck",
    "FeedItemResult",
    "FeedStatus",
    "FeedSummary",
    "Inventory",
    "Item",
    "LineStatus",
    "MemoryRateLimitStore",
    "MemoryTokenCache",
    "RateLimitInfo",
    "RateLimitStore",
    "RefundLine",
    "ReturnRefundLine",
    "ShipLine",
    "TokenCache",
    "TokenDetail",
    "WalmartAuthError",
    "WalmartBadRequest",
    "WalmartClient",
    "WalmartConnectionError",
    "WalmartError",
    "WalmartErrorDetail",
    "WalmartNotFound",
    "WalmartOrder",
    "WalmartOrderLine",
    "WalmartPayloadTooLarge",
    "WalmartRateLimited",
    "WalmartResponseError",
    "WalmartReturn",
    "WalmartServerError",
    "split_feed_items",
]
