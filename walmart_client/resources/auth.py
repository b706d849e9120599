"""Token detail: which permissions the API key has (`GET /v3/token/detail`).

https://developer.walmart.com/us-marketplace/reference/gettokendetail
"""

from __future__ import annotations

from walmart_client.models import TokenDetail
from walmart_client.requestor import Requestor


class Auth:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def token_detail(self) -> TokenDetail:
        """The current token's scopes (`{"item": "full_access", ...}`). Raises WalmartAuthError when the
        credentials are rejected."""
        return TokenDetail.from_api(self._requestor.get("/v3/token/detail", family="auth.token_detail") or {})
