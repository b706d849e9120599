"""Settings API: the partner profile (the seller's own feed limits) and shipping carrier methods.

https://developer.walmart.com/us-marketplace/reference/getpartnerconfigurations
"""

from __future__ import annotations

from typing import Any

from walmart_client.models import PartnerProfile
from walmart_client.requestor import Requestor


class Settings:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def partner_profile(self) -> PartnerProfile:
        """The seller's configuration, with per-feed-type throttles in `feed_limits`."""
        return PartnerProfile.from_api(
            self._requestor.get("/v3/settings/partnerprofile", family="settings.partner_profile") or {}
        )

    def shipping_carriers(self) -> list[dict[str, Any]]:
        """Carrier methods available to the seller (`carrierMethodId`, `carrierMethodName`, ...)."""
        data = self._requestor.get("/v3/settings/shipping/carriers", family="settings.carriers")
        if isinstance(data, dict):
            data = data.get("carriers") or data.get("carrierMethods") or []
        return list(data or [])
