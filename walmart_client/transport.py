"""HTTP and retries. Knows nothing about tokens, orders or feeds.

Retry rules (one logical call = up to `max_retries + 1` attempts):

* reads (`Retry.READ`): a connection error, a 5xx or a 429 is retried with exponential backoff, jitter
  and a cap (a 503 carrying `Retry-After` waits that long instead, capped too);
* writes (`Retry.WRITE`): retried only when the request provably never left (the connection could not
  be opened) or Walmart refused it with 429 (a refused request was not processed). A read timeout, a
  reset connection or a 5xx after sending goes to the caller, who must read the state back.

A 429 waits what Walmart says (`x-next-replenish-time` / `Retry-After`) when that is no longer than
`max_rate_limit_wait`; a longer wait is handed back to the caller as the response (the requestor turns
it into `WalmartRateLimited(retry_after=...)`) instead of blocking a worker. `sleep` and `jitter` are
injected so tests never sleep and are deterministic.
"""

from __future__ import annotations

import enum
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ProxyError

from walmart_client.errors import WalmartConnectionError
from walmart_client.ratelimit import wait_from_headers

logger = logging.getLogger("walmart_client")

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


class Retry(enum.Enum):
    READ = "read"
    WRITE = "write"


@dataclass(slots=True)
class HttpCall:
    """One logical request. `headers` is called before every attempt (fresh correlation id, current token)."""

    method: str
    url: str
    endpoint: str
    family: str
    retry: Retry
    headers: Callable[[], dict[str, str]]
    params: Mapping[str, Any] | None = None
    data: Any = None
    json_body: Any = None
    files: Any = None
    timeout: float | None = None
    before_attempt: Callable[[str], None] | None = None
    after_response: Callable[[str, requests.Response], None] | None = None
    correlation_ids: list[str] = field(default_factory=list)


def _request_was_sent(exc: requests.RequestException) -> bool:
    """False only when the connection was never opened, so nothing reached Walmart."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, NewConnectionError | ConnectTimeoutError | ProxyError):
            return False
    return True


def _reason(exc: BaseException, limit: int = 300) -> str:
    """The exception's own text, shortened. requests/urllib3 put only the host, URL path and socket error
    there (credentials travel in headers and bodies, which exception texts never include)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Transport:
    """Sends `HttpCall`s over one `requests.Session` with a timeout on every attempt."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_rate_limit_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_rate_limit_wait = max_rate_limit_wait
        self.sleep = sleep
        self.jitter = jitter
        self.clock = clock or (lambda: datetime.now(tz=UTC))

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: half fixed, half random, capped at `backoff_cap`."""
        delay = min(self.backoff_cap, self.backoff_base * 2.0**attempt)
        return delay / 2 + self.jitter() * delay / 2

    def send(self, call: HttpCall) -> requests.Response:
        """The final response (any status) once retries are spent or not allowed.

        Raises WalmartConnectionError when no response arrived on the last allowed attempt.
        """
        attempt = 0
        while True:
            if call.before_attempt is not None:
                call.before_attempt(call.family)
            headers = call.headers()
            correlation_id = headers.get("WM_QOS.CORRELATION_ID", "")
            call.correlation_ids.append(correlation_id)
            started = time.monotonic()
            try:
                response = self.session.request(
                    call.method,
                    call.url,
                    params=call.params,
                    data=call.data,
                    json=call.json_body,
                    files=call.files,
                    headers=headers,
                    timeout=call.timeout or self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                sent = _request_was_sent(exc)
                logger.warning(
                    "walmart %s failed without a response (%s, request_sent=%s) correlation_id=%s attempt=%d",
                    call.endpoint,
                    type(exc).__name__,
                    sent,
                    correlation_id,
                    attempt + 1,
                )
                if attempt < self.max_retries and (call.retry is Retry.READ or not sent):
                    self.sleep(self.backoff(attempt))
                    attempt += 1
                    continue
                raise WalmartConnectionError(
                    f"No response from Walmart ({type(exc).__name__})",
                    request_sent=sent,
                    reason=_reason(exc),
                    endpoint=call.endpoint,
                    correlation_id=correlation_id,
                ) from None
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.info(
                "walmart %s -> %s in %.0f ms correlation_id=%s attempt=%d",
                call.endpoint,
                response.status_code,
                elapsed_ms,
                correlation_id,
                attempt + 1,
            )
            if call.after_response is not None:
                call.after_response(call.family, response)
            if attempt >= self.max_retries:
                return response
            status = response.status_code
            if status == 429:
                wait = wait_from_headers(response.headers, now=self.clock())
                if wait is None:
                    wait = self.backoff(attempt)
                if wait > self.max_rate_limit_wait:
                    return response
                self.sleep(wait)
                attempt += 1
                continue
            if status in RETRYABLE_STATUSES and call.retry is Retry.READ:
                # A 503 may say when to come back (Retry-After); otherwise back off. Both capped.
                asked = wait_from_headers(response.headers, now=self.clock()) if status == 503 else None
                wait = min(asked, self.backoff_cap) if asked is not None else self.backoff(attempt)
                self.sleep(wait)
                attempt += 1
                continue
            return response

    def download(self, url: str, dest: IO[bytes], *, endpoint: str, chunk_size: int = 1 << 20) -> tuple[int, int]:
        """GET a file link (Walmart's pre-signed report URLs: no Walmart headers, never the access token) and
        stream a 2xx body into `dest`, `chunk_size` bytes at a time. Returns (HTTP status, bytes written);
        nothing is written for another status. Retried like a read: a connection error (also one in the
        middle of the body: `dest` is emptied first) or a 5xx, with backoff and the same cap.

        Raises WalmartConnectionError when no complete answer arrived on the last attempt.
        """
        attempt = 0
        while True:
            try:
                with self.session.get(url, stream=True, timeout=self.timeout) as response:
                    status = response.status_code
                    if 200 <= status < 300:
                        dest.seek(0)
                        dest.truncate()
                        written = 0
                        for chunk in response.iter_content(chunk_size=chunk_size):
                            dest.write(chunk)
                            written += len(chunk)
                        logger.info("walmart %s -> %s, %d bytes attempt=%d", endpoint, status, written, attempt + 1)
                        return status, written
            except requests.RequestException as exc:
                logger.warning(
                    "walmart %s failed without a complete answer (%s) attempt=%d",
                    endpoint,
                    type(exc).__name__,
                    attempt + 1,
                )
                if attempt < self.max_retries:
                    self.sleep(self.backoff(attempt))
                    attempt += 1
                    continue
                raise WalmartConnectionError(
                    f"No complete answer from Walmart's file link ({type(exc).__name__})",
                    request_sent=True,
                    reason=re.sub(r"\?[^\s)'\"]*", "?<query>", _reason(exc)),  # the link's signature stays out
                    endpoint=endpoint,
                ) from None
            logger.info("walmart %s -> %s attempt=%d", endpoint, status, attempt + 1)
            if status in RETRYABLE_STATUSES and attempt < self.max_retries:
                self.sleep(self.backoff(attempt))
                attempt += 1
                continue
            return status, 0
