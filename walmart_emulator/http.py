"""The gateway in front of every emulated endpoint: headers, token, faults, rate limits, error shape.

`walmart_endpoint(family)` wraps a view `view(request, seller, **kwargs)`; the view returns a dict/list
(sent as JSON, 200) or an HttpResponse, and raises EmulatorError for anything Walmart would refuse.
Every answer carries `x-current-token-count` and `x-next-replenish-time` (epoch ms) for the family.
"""

import functools
import time
from collections.abc import Callable
from datetime import datetime

from django.contrib.auth.decorators import login_not_required
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from walmart_emulator import faults
from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError, error_body, error_response, unauthorized
from walmart_emulator.models import AccessToken, Seller
from walmart_emulator.ratelimits import rate_limit_consume

RAW_HEADERS_KEY = "walmart_emulator.raw_headers"
REQUIRED_HEADERS = ("WM_QOS.CORRELATION_ID", "WM_SVC.NAME")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class EmulatorRequest(WSGIRequest):
    """A call to an emulated endpoint: `emulator_now` is the emulator's clock, read once per call."""

    emulator_now: datetime


def wm_header(request: EmulatorRequest, name: str) -> str | None:
    """A request header whose name has underscores (`WM_SEC.ACCESS_TOKEN`), wherever the server put it.

    Django's runserver / live server drop such headers from the WSGI environ; walmart_emulator.apps
    keeps them under RAW_HEADERS_KEY. Django's test client passes them through META.
    """
    raw = request.environ.get(RAW_HEADERS_KEY)
    if raw:
        for key, value in raw.items():
            if key.lower() == name.lower():
                return value
    return request.headers.get(name)


def _rate_headers(response: HttpResponse, tokens: int, next_ms: int) -> HttpResponse:
    response["x-current-token-count"] = str(tokens)
    response["x-next-replenish-time"] = str(next_ms)
    return response


def _as_response(result) -> HttpResponse:
    if isinstance(result, HttpResponse):
        return result
    return JsonResponse(result, safe=False)


def _throttled(next_ms: int, now_ms: int) -> HttpResponse:
    error = EmulatorError(
        "The request was throttled: too many requests for this API in the time window.",
        status=429,
        code="REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API",
        info="Request threshold violated.",
        category="REQUEST",
    )
    response = error_response(error)
    response["Retry-After"] = str(max(1, -(-(next_ms - now_ms) // 1000)))
    return response


def seller_from_token(request: EmulatorRequest, now) -> Seller:
    """The seller owning the request's WM_SEC.ACCESS_TOKEN. Raises EmulatorError(401): missing, unknown or
    expired (on the emulator clock). One raw query (it runs on every API call)."""
    token = wm_header(request, "WM_SEC.ACCESS_TOKEN")
    if not token:
        raise unauthorized("WM_SEC.ACCESS_TOKEN header is missing.")
    quote = connection.ops.quote_name
    sql = (
        f"SELECT s.*, CASE WHEN t.expires_at > %s THEN 1 ELSE 0 END AS token_valid "  # noqa: S608
        f"FROM {quote(AccessToken._meta.db_table)} t JOIN {quote(Seller._meta.db_table)} s ON s.id = t.seller_id "
        f"WHERE t.token = %s"
    )
    sellers = list(Seller.objects.raw(sql, [connection.ops.adapt_datetimefield_value(now), token]))
    if not sellers:
        raise unauthorized("Access token is invalid.")
    if not sellers[0].__dict__["token_valid"]:  # a column of the query above, not a field
        raise unauthorized("Access token has expired.")
    return sellers[0]


def required_headers_check(request: EmulatorRequest) -> None:
    for name in REQUIRED_HEADERS:
        if not wm_header(request, name):
            raise EmulatorError(
                f"{name} header is missing.",
                code="MISSING_REQUEST_HEADER.GMP_GATEWAY_API",
                field=name,
                info="Required header is missing.",
                category="REQUEST",
            )


def walmart_endpoint(family: str | Callable[[EmulatorRequest], str], *, methods: tuple[str, ...] = ("GET",)):
    """Decorate an emulated Walmart endpoint (csrf-exempt, login-not-required machine endpoint) answering
    `methods` (others: 405 in Walmart's error shape, nothing counted)."""

    def decorator(view):
        @csrf_exempt
        @login_not_required
        @functools.wraps(view)
        def wrapper(request: EmulatorRequest, *args, **kwargs):
            response: HttpResponse
            if request.method not in methods:
                response = error_response(
                    EmulatorError(
                        f"Method {request.method} is not allowed here.",
                        status=405,
                        code="METHOD_NOT_ALLOWED.GMP_GATEWAY_API",
                        category="REQUEST",
                        info="Method not allowed.",
                    )
                )
                response["Allow"] = ", ".join(methods)
                return response
            now = emulator_now()
            request.emulator_now = now
            try:
                required_headers_check(request)
                seller = seller_from_token(request, now)
            except EmulatorError as error:
                return error_response(error)
            bucket_family = family(request) if callable(family) else family
            fault_response = _inject_fault(request, seller)
            if fault_response is not None:
                return fault_response
            bucket = rate_limit_consume(seller=seller, family=bucket_family, now=now)
            if not bucket.allowed:
                return _rate_headers(
                    _throttled(bucket.next_replenish_ms, int(now.timestamp() * 1000)), 0, bucket.next_replenish_ms
                )
            lose_answer = (
                request.method in WRITE_METHODS
                and faults.fault_draw(seller.fault_lost_answer_share)
                and faults.fault_consume(seller)
            )
            try:
                response = _as_response(view(request, seller, *args, **kwargs))
            except EmulatorError as error:
                response = error_response(error)
            if lose_answer:
                # The change (if any) is committed: views do their writes in their own transactions.
                return StreamingHttpResponse(faults.lost_answer_body(request.environ))
            return _rate_headers(response, bucket.tokens, bucket.next_replenish_ms)

        return wrapper

    return decorator


def _inject_fault(request: EmulatorRequest, seller) -> HttpResponse | None:
    """The response of an injected fault, or None to go on (latency only delays)."""
    if not faults.fault_any_active(seller):
        return None
    if seller.fault_hang_seconds and faults.fault_consume(seller):
        time.sleep(seller.fault_hang_seconds)
        return HttpResponse(status=504)
    if seller.fault_latency_ms:
        time.sleep(seller.fault_latency_ms / 1000)
    if seller.fault_throttle_storm and faults.fault_consume(seller):
        next_ms = int(time.time() * 1000) + 60_000
        return _rate_headers(_throttled(next_ms, int(time.time() * 1000)), 0, next_ms)
    if faults.fault_draw(seller.fault_error_share) and faults.fault_consume(seller):
        if seller.fault_error_status == 503:
            return HttpResponse(status=503)
        error = EmulatorError(
            "Internal system error.",
            status=500,
            code="SYSTEM_ERROR.GMP_GATEWAY_API",
            info="System encountered some internal error.",
            category="SYSTEM",
        )
        return JsonResponse(error_body(error), status=500)
    return None


def json_body(request: EmulatorRequest, *, api: str = "GMP_ORDER_API") -> dict:
    import json

    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise EmulatorError(
            "Request body is not valid JSON.", code=f"MALFORMED_REQUEST_CONTENT.{api}", field="body"
        ) from error
    if not isinstance(data, dict):
        raise EmulatorError(
            "Request body must be a JSON object.", code=f"MALFORMED_REQUEST_CONTENT.{api}", field="body"
        )
    return data
