"""Price API: update the base price of one SKU (`PUT /v3/price`).

https://developer.walmart.com/us-marketplace/reference/updateprice
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from walmart_client.enums import PRICE_TYPES
from walmart_client.models import PriceUpdateResult
from walmart_client.requestor import Requestor
from walmart_client.resources._common import check_money
from walmart_client.transport import Retry

CURRENCIES = frozenset({"USD", "CAD"})


def build_price_body(
    sku: str, amount: Decimal | str | int, *, currency: str = "USD", price_type: str = "BASE"
) -> dict[str, Any]:
    """The single-price payload. Raises ValueError for more than two decimals, a non-positive amount,
    an unknown currency or price type."""
    if not sku:
        raise ValueError("sku is required")
    value = check_money(amount, what=f"price of {sku}")
    if value <= 0:
        raise ValueError(f"price of {sku} must be positive, got {value}")
    if currency not in CURRENCIES:
        raise ValueError(f"currency must be one of {sorted(CURRENCIES)}")
    if price_type not in PRICE_TYPES:
        raise ValueError(f"price type must be one of {sorted(PRICE_TYPES)}")
    return {
        "sku": sku,
        "pricing": [{"currentPriceType": price_type, "currentPrice": {"currency": currency, "amount": value}}],
    }


class Prices:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def update(
        self, sku: str, amount: Decimal | str | int, currency: str = "USD", *, price_type: str = "BASE"
    ) -> PriceUpdateResult:
        """Set the price of one SKU (absolute; safe to repeat). Raises ValueError before sending for more
        than two decimals or a non-positive amount."""
        body = build_price_body(sku, amount, currency=currency, price_type=price_type)
        data = self._requestor.request("PUT", "/v3/price", family="prices.update", retry=Retry.WRITE, json_body=body)
        return PriceUpdateResult.from_api(data, sku=sku)
