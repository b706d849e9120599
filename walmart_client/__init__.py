"""A plain Python client for Walmart's Marketplace (US, v3) seller API. Never imports Django.

    from walmart_client import WalmartClient
    client = WalmartClient(base_url=..., client_id=..., client_secret=...)   # Django: walmart_client_for_store(store)
    for order in client.orders.iter_all(created_start_date=since):          # aware datetimes
        ...

Layers: `WalmartClient` -> `Requestor` (token, headers, typed errors) -> `Transport` (HTTP, retries,
timeouts). One resource per API: `client.auth` (token_detail), `client.items` (iter_all, get, count,
search, retire), `client.feeds` (submit, status, iter_item_results, iter_all; payload builders and
`split_feed_items` in `walmart_client.resources.feeds`), `client.inventory` (get, update, update_nodes,
iter_all: inputQty, availToSellQty, reservedQty per SKU and node), `client.prices` (update), `client.reports`
(request, request_item_report, status, iter_requests, download_link, download_file, download: the ITEM report
row by row), `client.orders` (iter_all, iter_released, get, acknowledge, ship,
cancel, refund), `client.returns` (iter_all, refund), `client.notifications` (event_types, subscriptions,
create_subscription, update_subscription, delete_subscription, test, item_event_types), `client.settings`
(partner_profile: feed limits and whether the store is live, shipping_carriers). Webhook deliveries parse with
`walmart_client.events.parse_event`. `client.rate_limits[family]` is Walmart's last reported bucket per endpoint family
(`"orders.ship"`, `"inventory.update"`, `"feeds.submit.price"`, ...); `client.last_correlation_id` is the
correlation id of the latest attempt.

Results are dataclasses in `walmart_client.models`; errors are in `walmart_client.errors`; Walmart's enums
(carriers, method codes, cancel and refund reasons) are in `walmart_client.enums`.
"""

from walmart_client.auth import CachedToken, MemoryTokenCache, TokenCache, TokenRefreshLock
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
    WalmartReportFailed,
    WalmartReportFileError,
    WalmartReportNotReady,
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
    InventoryReportRow,
    Item,
    ItemReportRow,
    LineStatus,
    PartnerProfile,
    RefundLine,
    ReportDownload,
    ReportRequest,
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
    "InventoryReportRow",
    "Item",
    "ItemReportRow",
    "LineStatus",
    "MemoryRateLimitStore",
    "MemoryTokenCache",
    "RateLimitInfo",
    "RateLimitStore",
    "PartnerProfile",
    "RefundLine",
    "ReportDownload",
    "ReportRequest",
    "ReturnRefundLine",
    "ShipLine",
    "TokenCache",
    "TokenDetail",
    "TokenRefreshLock",
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
    "WalmartReportFailed",
    "WalmartReportFileError",
    "WalmartReportNotReady",
    "WalmartResponseError",
    "WalmartReturn",
    "WalmartServerError",
    "split_feed_items",
]
