"""One exception class per kind of Walmart failure.

Every `WalmartError` carries the HTTP status (None when no response arrived), Walmart's own error list
(`errors`: `WalmartErrorDetail` items parsed from either error shape Walmart uses), the endpoint
(`"POST /v3/orders/123/shipping"`) and the `WM_QOS.CORRELATION_ID` sent with the failed attempt, which
Walmart support asks for. Exception text never contains credentials or tokens: it is built only from the
endpoint, status, correlation id and Walmart's error fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WalmartErrorDetail:
    """One entry of Walmart's error list (`{"code", "field", "description", "info", ...}`)."""

    code: str
    field: str | None = None
    description: str | None = None
    info: str | None = None
    severity: str | None = None
    category: str | None = None
    causes: tuple[dict[str, Any], ...] = dataclasses.field(default_factory=tuple)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> WalmartErrorDetail:
        # The 2026 simplified shape names the text `message` instead of `description`.
        description = data.get("description") or data.get("message")
        causes = data.get("causes") or ()
        return cls(
            code=str(data.get("code") or data.get("type") or ""),
            field=data.get("field"),
            description=str(description) if description is not None else None,
            info=data.get("info"),
            severity=data.get("severity"),
            category=data.get("category"),
            causes=tuple(dict(c) for c in causes if isinstance(c, Mapping)),
        )

    def __str__(self) -> str:
        text = self.code or "ERROR"
        if self.field:
            text += f" [{self.field}]"
        if self.description:
            text += f": {self.description}"
        return text


def error_details_from_body(body: Any) -> list[WalmartErrorDetail]:
    """Walmart's error list from a decoded response body, whichever shape it uses.

    Accepts `{"errors": {"error": [...]}}` (the specs' shape), `{"errors": [...]}` (the 2026 guide's
    shape), `{"errors": {"error": {...}}}` (a single error not wrapped in a list, as XML-to-JSON
    conversions produce) and `{"error": [...]}`. Anything else gives an empty list.
    """
    if not isinstance(body, Mapping):
        return []
    container = body.get("errors", body.get("error"))
    if isinstance(container, Mapping):
        container = container.get("error", [container] if "code" in container else [])
    if isinstance(container, Mapping):
        container = [container]
    if not isinstance(container, Iterable) or isinstance(container, str | bytes):
        return []
    return [WalmartErrorDetail.from_api(item) for item in container if isinstance(item, Mapping)]


class WalmartError(Exception):
    """Base class of every failure talking to Walmart."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[WalmartErrorDetail] | None = None,
        endpoint: str = "",
        correlation_id: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.errors: list[WalmartErrorDetail] = list(errors or [])
        self.endpoint = endpoint
        self.correlation_id = correlation_id
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [self.message]
        if self.endpoint:
            parts.append(f"endpoint={self.endpoint}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.errors:
            parts.append("errors=" + "; ".join(str(e) for e in self.errors))
        if self.correlation_id:
            parts.append(f"correlation_id={self.correlation_id}")
        return " | ".join(parts)

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._text()!r})"


class WalmartConnectionError(WalmartError):
    """No HTTP response arrived (DNS, refused connection, timeout, reset).

    `request_sent` is False only when the request provably never left (connection could not be opened),
    so it is safe to resend a write. When True, Walmart may have processed it: read the state back
    before resending a write.
    """

    def __init__(self, message: str, *, request_sent: bool, reason: str = "", **kwargs: Any) -> None:
        self.request_sent = request_sent
        self.reason = reason  # the network library's own text (host, path, socket error), shortened
        super().__init__(message, **kwargs)

    def _text(self) -> str:
        text = super()._text() + f" | request_sent={self.request_sent}"
        return text + (f" | reason={self.reason}" if self.reason else "")


class WalmartAuthError(WalmartError):
    """401/403: credentials rejected, token refused after one refresh, or the key lacks a permission."""


class WalmartNotFound(WalmartError):
    """404: the resource does not exist (list endpoints turn a 404 into an empty page instead)."""


class WalmartBadRequest(WalmartError):
    """Walmart refused the request content (400 and other 4xx that a retry cannot fix)."""


class WalmartPayloadTooLarge(WalmartBadRequest):
    """413: a feed file over Walmart's size limit."""


class WalmartRateLimited(WalmartError):
    """429: Walmart's token bucket for this endpoint is empty. `retry_after` is the wait Walmart asked for
    (seconds; from `x-next-replenish-time` or `Retry-After`, or the client's backoff when neither is sent)."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class WalmartServerError(WalmartError):
    """5xx: Walmart failed; safe to retry reads, and writes only after reading the state back."""


class WalmartResponseError(WalmartError):
    """A 2xx response whose body is not the JSON Walmart documents (cannot be parsed)."""


class WalmartReportFailed(WalmartError):
    """Walmart ended an on-request report in ERROR; request a new one."""


class WalmartReportNotReady(WalmartError):
    """The report is not READY yet (`request_status` says where it is): poll its status, then download."""

    def __init__(self, message: str, *, request_status: str | None, **kwargs: Any) -> None:
        self.request_status = request_status
        super().__init__(message, **kwargs)


class WalmartReportFileError(WalmartError):
    """The report file could not be fetched (link expired or refused, HTTP error) or is not the zipped CSV
    Walmart serves. Get a fresh download link and try again."""
