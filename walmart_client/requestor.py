"""Auth, headers and errors: turns a resource's (method, path, body) into a decoded JSON answer or a typed
`WalmartError`. Resources never see tokens, retries or `requests`.

Every request carries `WM_SEC.ACCESS_TOKEN`, a fresh `WM_QOS.CORRELATION_ID` per attempt,
`WM_SVC.NAME`, `Accept: application/json` and (except multipart uploads) `Content-Type: application/json`.
A 401 refreshes the token once and retries once.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests

from walmart_client.auth import SERVICE_NAME, TokenProvider
from walmart_client.errors import (
    WalmartAuthError,
    WalmartBadRequest,
    WalmartConnectionError,
    WalmartError,
    WalmartNotFound,
    WalmartPayloadTooLarge,
    WalmartRateLimited,
    WalmartResponseError,
    WalmartServerError,
    error_details_from_body,
)
from walmart_client.gc_pause import gc_paused
from walmart_client.ratelimit import RateLimits, rate_limit_from_headers, wait_from_headers
from walmart_client.transport import HttpCall, Retry, Transport

_MESSAGES = {
    400: "Walmart refused the request",
    401: "Walmart refused the access token",
    403: "The API key lacks the permission for this call",
    404: "Not found on Walmart",
    413: "The payload is larger than Walmart accepts",
    429: "Walmart's rate limit for this endpoint is exhausted",
}


def error_for_status(
    status: int, body: Any, *, endpoint: str, correlation_id: str | None, headers: Mapping[str, str]
) -> WalmartError:
    """The typed error for a non-2xx answer."""
    errors = error_details_from_body(body)
    kwargs: dict[str, Any] = {
        "status": status,
        "errors": errors,
        "endpoint": endpoint,
        "correlation_id": correlation_id,
    }
    message = _MESSAGES.get(status, f"Walmart answered HTTP {status}")
    if status in (401, 403):
        return WalmartAuthError(message, **kwargs)
    if status == 404:
        return WalmartNotFound(message, **kwargs)
    if status == 413:
        return WalmartPayloadTooLarge(message, **kwargs)
    if status == 429:
        wait = wait_from_headers(headers, now=datetime.now(tz=UTC))
        return WalmartRateLimited(message, retry_after=wait if wait is not None else 60.0, **kwargs)
    if status >= 500:
        return WalmartServerError(message, **kwargs)
    return WalmartBadRequest(message, **kwargs)


def decode_json(content: bytes) -> Any:
    """Walmart JSON with every non-integer number as an exact `Decimal` (money never passes through float)."""
    if not content or not content.strip():
        return None
    with gc_paused():
        return json.loads(content, parse_float=Decimal)


@dataclass(frozen=True, slots=True)
class ApiResponse:
    data: Any
    status: int
    correlation_id: str
    headers: Mapping[str, str]


class Requestor:
    def __init__(
        self,
        *,
        base_url: str,
        transport: Transport,
        tokens: TokenProvider,
        rate_limits: RateLimits,
        rate_limit_hook: Callable[[str], None] | None = None,
        consumer_channel_type: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.tokens = tokens
        self.rate_limits = rate_limits
        self.rate_limit_hook = rate_limit_hook
        self.consumer_channel_type = consumer_channel_type
        self.extra_headers = dict(extra_headers or {})
        self._clock = clock or (lambda: datetime.now(tz=UTC))
        self.last_correlation_id: str | None = None

    def __repr__(self) -> str:
        return f"<Requestor base_url={self.base_url!r}>"

    def _record(self, family: str, response: requests.Response) -> None:
        info = rate_limit_from_headers(family, response.headers, now=self._clock())
        if info is not None:
            self.rate_limits.record(info)

    def _headers_factory(self, token_box: list[str], multipart: bool) -> Callable[[], dict[str, str]]:
        def build() -> dict[str, str]:
            headers = {
                "WM_SEC.ACCESS_TOKEN": token_box[0],
                "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
                "WM_SVC.NAME": SERVICE_NAME,
                "Accept": "application/json",
            }
            if not multipart:
                headers["Content-Type"] = "application/json"
            if self.consumer_channel_type:
                headers["WM_CONSUMER.CHANNEL.TYPE"] = self.consumer_channel_type
            headers.update(self.extra_headers)
            return headers

        return build

    @staticmethod
    def _token(get: Callable[[], str]) -> str:
        """A token for the call about to be made. A connection failure while getting it means the call
        itself was never sent, whatever happened to the token request: say so (`request_sent=False`)."""
        try:
            return get()
        except WalmartConnectionError as error:
            raise WalmartConnectionError(
                error.message + " while getting an access token",
                request_sent=False,
                reason=error.reason,
                endpoint=error.endpoint,
                correlation_id=error.correlation_id,
            ) from None

    def request_full(
        self,
        method: str,
        path: str,
        *,
        family: str,
        retry: Retry,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        files: Any = None,
        timeout: float | None = None,
    ) -> ApiResponse:
        """Send one call; return the decoded 2xx answer. Raises the matching WalmartError otherwise."""
        endpoint = f"{method} {path.split('?', 1)[0]}"
        token_box = [self._token(self.tokens.token)]
        clean_params = {k: v for k, v in (params or {}).items() if v is not None} or None
        body = encode_json(json_body) if json_body is not None else None
        refreshed = False
        while True:
            call = HttpCall(
                method=method,
                url=self.base_url + path,
                endpoint=endpoint,
                family=family,
                retry=retry,
                headers=self._headers_factory(token_box, multipart=files is not None),
                params=clean_params,
                data=body,
                files=files,
                timeout=timeout,
                before_attempt=self.rate_limit_hook,
                after_response=self._record,
            )
            try:
                response = self.transport.send(call)
            finally:
                if call.correlation_ids:
                    self.last_correlation_id = call.correlation_ids[-1]
            correlation_id = call.correlation_ids[-1]
            if response.status_code == 401 and not refreshed:
                refreshed = True
                token_box[0] = self._token(functools.partial(self.tokens.refresh, token_box[0]))
                continue
            break
        try:
            data = decode_json(response.content)
        except ValueError:
            data = None
            if 200 <= response.status_code < 300:
                raise WalmartResponseError(
                    "Walmart's answer is not JSON",
                    status=response.status_code,
                    endpoint=endpoint,
                    correlation_id=correlation_id,
                ) from None
        if not 200 <= response.status_code < 300:
            raise error_for_status(
                response.status_code,
                data,
                endpoint=endpoint,
                correlation_id=correlation_id,
                headers=response.headers,
            )
        return ApiResponse(
            data=data, status=response.status_code, correlation_id=correlation_id, headers=response.headers
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request_full(method, path, **kwargs).data

    def get(self, path: str, *, family: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, family=family, retry=Retry.READ, params=params)

    def get_or_none(self, path: str, *, family: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET where a 404 means "nothing" (Walmart's empty order/return lists)."""
        try:
            return self.get(path, family=family, params=params)
        except WalmartNotFound:
            return None


def encode_json(value: Any) -> bytes:
    """Compact JSON bytes for a request body or feed file (Decimal money written as a JSON number)."""
    return json.dumps(value, default=_json_default, separators=(",", ":")).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Walmart's schemas type money as JSON numbers. Amounts are validated to two decimals before this
        # point, and float's shortest repr of such a value prints exactly those digits (19.99 -> 19.99).
        return float(value)
    raise TypeError(f"Cannot encode {type(value).__name__} as JSON")
