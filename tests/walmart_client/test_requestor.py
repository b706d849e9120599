"""Auth, retries, errors, rate limits and secrecy: the behaviour every resource inherits."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from tests.walmart_client.conftest import BASE_URL, CLIENT_ID, CLIENT_SECRET, TOKEN, add_token, calls_to
from walmart_client import (
    MemoryTokenCache,
    ShipLine,
    WalmartAuthError,
    WalmartBadRequest,
    WalmartConnectionError,
    WalmartNotFound,
    WalmartRateLimited,
    WalmartServerError,
)

INVENTORY_URL = BASE_URL + "/v3/inventory"
SHIP_URL = BASE_URL + "/v3/orders/PO-1/shipping"
INVENTORY_BODY = {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 7}}
WALMART_400 = {
    "errors": {
        "error": [
            {
                "code": "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                "field": "methodCode",
                "description": "Method code is not supported in line number 1",
                "info": "Request content is invalid.",
                "severity": "ERROR",
                "category": "DATA",
                "causes": [],
                "errorIdentifiers": {"entry": []},
            }
        ]
    }
}


def ship_line(**overrides) -> ShipLine:
    values = {
        "line_number": "1",
        "quantity": 1,
        "carrier": "UPS",
        "tracking_number": "1Z999",
        "method_code": "Standard",
        "ship_datetime": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return ShipLine(**values)


# ------------------------------------------------------------------------------------------- tokens


def test_token_is_fetched_once_and_reused(api, client):
    # given
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    # when
    client.inventory.get("SKU-1")
    client.inventory.get("SKU-1")
    # then
    token_calls = calls_to(api, "/v3/token")
    assert len(token_calls) == 1
    assert token_calls[0].request.body == "grant_type=client_credentials"
    assert (
        token_calls[0].request.headers["Authorization"] == "Basic Y2xpZW50LWlkLTEyMzpzM2NyM3QtVkFMVUUtbmV2ZXItbG9nZ2Vk"
    )
    assert token_calls[0].request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in calls_to(api, "/v3/inventory")] == [TOKEN, TOKEN]


def test_token_is_refreshed_shortly_before_expiry(api, make_client):
    # given a clock we control and a token valid for 900 s
    now = [1_000_000.0]
    add_token(api, "token-1")
    add_token(api, "token-2")
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client(clock=lambda: now[0], token_cache=MemoryTokenCache(clock=lambda: now[0]))
    client.inventory.get("SKU-1")
    # when 770 s later (inside the refresh margin? no: 900 - 120 = 780) and then 790 s later
    now[0] += 770
    client.inventory.get("SKU-1")
    now[0] += 20
    client.inventory.get("SKU-1")
    # then
    assert [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in calls_to(api, "/v3/inventory")] == [
        "token-1",
        "token-1",
        "token-2",
    ]
    assert len(calls_to(api, "/v3/token")) == 2


def test_401_refreshes_the_token_once_and_retries_once(api, make_client):
    # given
    add_token(api, "old-token")
    add_token(api, "new-token")
    api.add(responses.GET, INVENTORY_URL, status=401, json={"errors": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API"}]})
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client()
    # when
    inventory = client.inventory.get("SKU-1")
    # then
    assert inventory.quantity == 7
    assert [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in calls_to(api, "/v3/inventory")] == [
        "old-token",
        "new-token",
    ]
    assert len(calls_to(api, "/v3/token")) == 2


def test_second_401_raises_auth_error_without_a_third_attempt(api, make_client):
    # given
    add_token(api, "old-token")
    add_token(api, "new-token")
    api.add(responses.GET, INVENTORY_URL, status=401, json={"errors": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API"}]})
    client = make_client()
    # when
    with pytest.raises(WalmartAuthError) as caught:
        client.inventory.get("SKU-1")
    # then
    assert caught.value.status == 401
    assert caught.value.codes == ["UNAUTHORIZED.GMP_GATEWAY_API"]
    assert len(calls_to(api, "/v3/inventory")) == 2
    assert len(calls_to(api, "/v3/token")) == 2


def test_rejected_credentials_raise_auth_error_and_call_nothing_else(api, make_client):
    # given
    api.add(
        responses.POST,
        BASE_URL + "/v3/token",
        status=401,
        json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "description": "Unauthorized"}]},
    )
    client = make_client()
    # when
    with pytest.raises(WalmartAuthError) as caught:
        client.inventory.get("SKU-1")
    # then
    assert caught.value.status == 401
    assert caught.value.endpoint == "POST /v3/token"
    assert caught.value.errors[0].description == "Unauthorized"
    assert CLIENT_SECRET not in str(caught.value)
    assert calls_to(api, "/v3/inventory") == []


def test_token_cache_is_shared_between_clients(api, make_client):
    # given two clients on one cache
    cache = MemoryTokenCache()
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    add_token(api)
    first, second = make_client(token_cache=cache), make_client(token_cache=cache)
    # when
    first.inventory.get("SKU-1")
    second.inventory.get("SKU-1")
    # then
    assert len(calls_to(api, "/v3/token")) == 1


def test_concurrent_callers_share_one_token_fetch(api, make_client):
    # given a slow token endpoint and eight threads
    def slow_token(request):
        time.sleep(0.05)
        return 200, {}, '{"access_token": "tok", "token_type": "Bearer", "expires_in": 900}'

    api.add_callback(responses.POST, BASE_URL + "/v3/token", callback=slow_token)
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client()
    # when
    threads = [threading.Thread(target=client.inventory.get, args=("SKU-1",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert len(calls_to(api, "/v3/token")) == 1
    assert len(calls_to(api, "/v3/inventory")) == 8


class LockingTokenCache(MemoryTokenCache):
    """A shared cache offering `TokenRefreshLock`, as the Django side's does, with every lock call recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.holder: str | None = None
        self.lock_calls: list[tuple[str, str]] = []

    def acquire_refresh_lock(self, key: str, ttl: float) -> str | None:
        self.lock_calls.append(("acquire", key))
        if self.holder is not None:
            return None
        self.holder = "me"
        return "me"

    def release_refresh_lock(self, key: str, owner: str) -> None:
        self.lock_calls.append(("release", key))
        if self.holder == owner:
            self.holder = None


def test_a_401_refresh_waits_for_the_replacement_another_process_is_fetching(api, make_client):
    # given a cached token Walmart now rejects, and another process holding the refresh lock
    cache = LockingTokenCache()
    client = make_client(token_cache=cache)
    cache.set(client.tokens.cache_key, {"access_token": "old-token", "expires_at": time.time() + 600}, 480)
    cache.holder = "other-process"
    api.add(responses.GET, INVENTORY_URL, status=401, json={"errors": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API"}]})
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    add_token(api, "never-fetched")

    def other_process_finishes():
        cache.set(client.tokens.cache_key, {"access_token": "their-token", "expires_at": time.time() + 900}, 780)
        cache.holder = None

    timer = threading.Timer(0.15, other_process_finishes)
    timer.start()
    # when
    inventory = client.inventory.get("SKU-1")
    timer.join()
    # then the retry used the other process's token, and this one fetched none
    assert inventory.quantity == 7
    assert [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in calls_to(api, "/v3/inventory")] == [
        "old-token",
        "their-token",
    ]
    assert calls_to(api, "/v3/token") == []
    assert cache.holder is None


def test_the_lock_holder_fetches_once_and_releases(api, make_client):
    # given a shared cache with no token and a free refresh lock
    cache = LockingTokenCache()
    add_token(api, "fresh-token")
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client(token_cache=cache)
    # when
    client.inventory.get("SKU-1")
    # then
    assert len(calls_to(api, "/v3/token")) == 1
    key = client.tokens.cache_key
    assert cache.lock_calls == [("acquire", key), ("release", key)]
    assert cache.holder is None
    assert cache.get(key)["access_token"] == "fresh-token"


# ----------------------------------------------------------------------------------------- headers


def test_every_call_has_walmart_headers_and_a_fresh_correlation_id(api, client):
    # given
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    # when
    client.inventory.get("SKU-1")
    client.inventory.get("SKU-1")
    # then
    first, second = (c.request.headers for c in calls_to(api, "/v3/inventory"))
    assert first["WM_SVC.NAME"] == "Walmart Marketplace"
    assert first["Accept"] == "application/json"
    assert first["Content-Type"] == "application/json"
    assert first["WM_SEC.ACCESS_TOKEN"] == TOKEN
    assert len(first["WM_QOS.CORRELATION_ID"]) == 36
    assert first["WM_QOS.CORRELATION_ID"] != second["WM_QOS.CORRELATION_ID"]


def test_every_attempt_has_a_timeout(api, make_client, token):
    # given
    seen = []

    class Session(requests.Session):
        def request(self, *args, **kwargs):
            seen.append(kwargs["timeout"])
            return super().request(*args, **kwargs)

    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client(session=Session(), timeout=12.5)
    # when
    client.inventory.get("SKU-1")
    # then
    assert seen == [12.5, 12.5]  # the token call and the inventory call


# ----------------------------------------------------------------------------------------- retries


def test_read_503_then_200_makes_exactly_two_calls(api, client, sleeps):
    # given
    api.add(responses.GET, INVENTORY_URL, status=503)
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    # when
    inventory = client.inventory.get("SKU-1")
    # then
    assert inventory.quantity == 7
    assert len(calls_to(api, "/v3/inventory")) == 2
    assert sleeps.waits == [0.25]  # backoff 0.5 s, half fixed + jitter 0


def test_read_5xx_retries_stop_at_the_cap_with_growing_capped_backoff(api, make_client, token, sleeps):
    # given
    api.add(responses.GET, INVENTORY_URL, status=500, json={"errors": [{"code": "SYSTEM_ERROR.GMP_GATEWAY_API"}]})
    client = make_client(max_retries=5, backoff_base=1.0, backoff_cap=4.0, jitter=lambda: 1.0)
    # when
    with pytest.raises(WalmartServerError) as caught:
        client.inventory.get("SKU-1")
    # then
    assert len(calls_to(api, "/v3/inventory")) == 6
    assert sleeps.waits == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert caught.value.status == 500
    assert caught.value.codes == ["SYSTEM_ERROR.GMP_GATEWAY_API"]


def test_read_connection_errors_are_retried(api, client):
    # given
    api.add(responses.GET, INVENTORY_URL, body=requests.exceptions.ReadTimeout("slow"))
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    # when
    inventory = client.inventory.get("SKU-1")
    # then
    assert inventory.quantity == 7
    assert len(calls_to(api, "/v3/inventory")) == 2


def test_400_makes_one_call_and_raises_bad_request_with_walmart_fields(api, client):
    # given
    api.add(responses.POST, SHIP_URL, status=400, json=WALMART_400)
    # when
    with pytest.raises(WalmartBadRequest) as caught:
        client.orders.ship("PO-1", lines=[ship_line()], seller_order_id="SO-1")
    # then
    error = caught.value
    assert len(calls_to(api, "/v3/orders/PO-1/shipping")) == 1
    assert error.status == 400
    assert error.endpoint == "POST /v3/orders/PO-1/shipping"
    assert error.correlation_id == calls_to(api, "/v3/orders/PO-1/shipping")[0].request.headers["WM_QOS.CORRELATION_ID"]
    assert len(error.errors) == 1
    detail = error.errors[0]
    assert detail.code == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    assert detail.field == "methodCode"
    assert detail.description == "Method code is not supported in line number 1"
    assert detail.info == "Request content is invalid."
    assert detail.severity == "ERROR"
    assert detail.category == "DATA"


def test_the_simplified_error_shape_is_parsed_too(api, client):
    # given the 2026 guide's shape: errors as a list with `message`
    api.add(
        responses.GET,
        INVENTORY_URL,
        status=400,
        json={"errors": [{"code": "INVALID_REQUEST", "message": "sku is invalid", "field": "sku"}]},
    )
    # when
    with pytest.raises(WalmartBadRequest) as caught:
        client.inventory.get("SKU-1")
    # then
    assert [(e.code, e.field, e.description) for e in caught.value.errors] == [
        ("INVALID_REQUEST", "sku", "sku is invalid")
    ]
    assert len(calls_to(api, "/v3/inventory")) == 1


def test_429_waits_what_x_next_replenish_time_says(api, make_client, token, sleeps):
    # given Walmart says the bucket refills 3.5 s from "now"
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    replenish_ms = int(now.timestamp() * 1000) + 3500
    api.add(
        responses.GET,
        INVENTORY_URL,
        status=429,
        headers={"x-current-token-count": "0", "x-next-replenish-time": str(replenish_ms)},
        json={"errors": {"error": [{"code": "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"}]}},
    )
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client(now=lambda: now)
    # when
    inventory = client.inventory.get("SKU-1")
    # then
    assert inventory.quantity == 7
    assert sleeps.waits == [3.5]
    assert len(calls_to(api, "/v3/inventory")) == 2


def test_429_honours_retry_after_on_a_write(api, client, sleeps):
    # given
    api.add(responses.POST, SHIP_URL, status=429, headers={"Retry-After": "2"})
    api.add(responses.POST, SHIP_URL, json={"order": {"purchaseOrderId": "PO-1", "orderLines": {"orderLine": []}}})
    # when
    order = client.orders.ship("PO-1", lines=[ship_line()], seller_order_id="SO-1")
    # then
    assert order.purchase_order_id == "PO-1"
    assert sleeps.waits == [2.0]
    assert len(calls_to(api, "/v3/orders/PO-1/shipping")) == 2


def test_429_with_a_long_wait_is_handed_to_the_caller_without_sleeping(api, make_client, token, sleeps):
    # given
    api.add(responses.GET, INVENTORY_URL, status=429, headers={"Retry-After": "600"})
    client = make_client(max_rate_limit_wait=60)
    # when
    with pytest.raises(WalmartRateLimited) as caught:
        client.inventory.get("SKU-1")
    # then
    assert caught.value.retry_after == 600.0
    assert caught.value.status == 429
    assert sleeps.waits == []
    assert len(calls_to(api, "/v3/inventory")) == 1


def test_ship_after_a_read_timeout_is_not_resent(api, client, sleeps):
    # given
    api.add(responses.POST, SHIP_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    # when
    with pytest.raises(WalmartConnectionError) as caught:
        client.orders.ship("PO-1", lines=[ship_line()], seller_order_id="SO-1")
    # then
    assert len(calls_to(api, "/v3/orders/PO-1/shipping")) == 1
    assert caught.value.request_sent is True
    assert caught.value.status is None
    assert caught.value.endpoint == "POST /v3/orders/PO-1/shipping"
    assert (
        caught.value.correlation_id
        == calls_to(api, "/v3/orders/PO-1/shipping")[0].request.headers["WM_QOS.CORRELATION_ID"]
    )
    assert sleeps.waits == []


def test_write_after_a_5xx_is_not_resent(api, client):
    # given
    api.add(responses.POST, SHIP_URL, status=503)
    # when
    with pytest.raises(WalmartServerError):
        client.orders.ship("PO-1", lines=[ship_line()], seller_order_id="SO-1")
    # then
    assert len(calls_to(api, "/v3/orders/PO-1/shipping")) == 1


def test_write_is_retried_when_the_connection_never_opened(api, client):
    # given the first attempt could not connect (nothing was sent)
    refused = requests.exceptions.ConnectionError(
        MaxRetryError(None, "/v3/orders/PO-1/acknowledge", NewConnectionError(None, "refused"))
    )
    api.add(responses.POST, BASE_URL + "/v3/orders/PO-1/acknowledge", body=refused)
    api.add(
        responses.POST,
        BASE_URL + "/v3/orders/PO-1/acknowledge",
        json={"order": {"purchaseOrderId": "PO-1", "orderLines": {"orderLine": []}}},
    )
    # when
    order = client.orders.acknowledge("PO-1")
    # then
    assert order.purchase_order_id == "PO-1"
    assert len(calls_to(api, "/v3/orders/PO-1/acknowledge")) == 2


def test_connect_timeout_on_every_attempt_says_nothing_was_sent(api, make_client, token):
    # given
    api.add(responses.PUT, INVENTORY_URL, body=requests.exceptions.ConnectTimeout("no route"))
    client = make_client(max_retries=2)
    # when
    with pytest.raises(WalmartConnectionError) as caught:
        client.inventory.update("SKU-1", 3)
    # then
    assert caught.value.request_sent is False
    assert len(calls_to(api, "/v3/inventory", "PUT")) == 3


def test_404_raises_not_found_with_correlation_id(api, client):
    # given
    api.add(
        responses.GET,
        BASE_URL + "/v3/orders/PO-404",
        status=404,
        json={"errors": {"error": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API"}]}},
    )
    # when
    with pytest.raises(WalmartNotFound) as caught:
        client.orders.get("PO-404")
    # then
    sent = calls_to(api, "/v3/orders/PO-404")[0].request.headers["WM_QOS.CORRELATION_ID"]
    assert caught.value.correlation_id == sent
    assert sent in str(caught.value)
    assert caught.value.codes == ["CONTENT_NOT_FOUND.GMP_ORDER_API"]


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, WalmartBadRequest),
        (401, WalmartAuthError),
        (403, WalmartAuthError),
        (404, WalmartNotFound),
        (413, WalmartBadRequest),
        (429, WalmartRateLimited),
        (500, WalmartServerError),
        (503, WalmartServerError),
    ],
)
def test_every_error_carries_status_endpoint_and_correlation_id(api, make_client, token, status, error_class):
    # given no retries so each status surfaces as it is
    add_token(api)
    api.add(responses.PUT, BASE_URL + "/v3/price", status=status, json={"errors": [{"code": f"E{status}"}]})
    client = make_client(max_retries=0)
    # when
    with pytest.raises(error_class) as caught:
        client.prices.update("SKU-1", Decimal("9.99"))
    # then
    sent = calls_to(api, "/v3/price")[-1].request.headers["WM_QOS.CORRELATION_ID"]
    assert caught.value.status == status
    assert caught.value.endpoint == "PUT /v3/price"
    assert caught.value.correlation_id == sent
    assert caught.value.codes == [f"E{status}"]


# ------------------------------------------------------------------------------------- rate limits


def test_rate_limit_headers_are_captured_per_family_in_any_case_and_spelling(api, client):
    # given
    api.add(
        responses.GET,
        INVENTORY_URL,
        json=INVENTORY_BODY,
        headers={"X-Current-Token-Count": "17", "X-Next-Replenishment-Time": "1714564800000"},
    )
    api.add(
        responses.PUT,
        BASE_URL + "/v3/price",
        json={"sku": "SKU-1", "message": "ok"},
        headers={"x-current-token-count": "3", "x-next-replenish-time": "1714564860000"},
    )
    # when
    client.inventory.get("SKU-1")
    client.prices.update("SKU-1", Decimal("5.00"))
    # then
    assert sorted(client.rate_limits) == ["inventory.get", "prices.update"]
    assert client.rate_limits["inventory.get"].tokens_left == 17
    assert client.rate_limits["inventory.get"].next_replenish_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert client.rate_limits["prices.update"].tokens_left == 3
    assert client.rate_limits["prices.update"].next_replenish_at == datetime(2024, 5, 1, 12, 1, tzinfo=UTC)


def test_rate_limit_hook_is_called_before_each_attempt_with_the_family(api, make_client, token):
    # given
    families = []
    api.add(responses.GET, INVENTORY_URL, status=503)
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client(rate_limit_hook=families.append)
    # when
    client.inventory.get("SKU-1")
    # then
    assert families == ["inventory.get", "inventory.get"]


# ----------------------------------------------------------------------------------------- secrecy


def test_secret_and_token_never_appear_in_logs_reprs_or_errors(api, make_client, caplog):
    # given every log line at DEBUG, a token fetch, a 401 refresh, a 400 and a timeout
    caplog.set_level(logging.DEBUG)
    add_token(api, "token-one")
    add_token(api, "token-two")
    api.add(responses.GET, INVENTORY_URL, status=401)
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    api.add(responses.POST, SHIP_URL, status=400, json=WALMART_400)
    api.add(responses.PUT, INVENTORY_URL, body=requests.exceptions.ReadTimeout("timeout"))
    client = make_client(max_retries=0)
    errors = []
    # when
    client.inventory.get("SKU-1")
    for action in (
        lambda: client.orders.ship("PO-1", lines=[ship_line()], seller_order_id="SO-1"),
        lambda: client.inventory.update("SKU-1", 1),
    ):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is asserted below
            action()
        errors.append(caught.value)
    # then
    assert [type(e) for e in errors] == [WalmartBadRequest, WalmartConnectionError]
    assert caplog.records, "the client logs each call"
    texts = [r.getMessage() for r in caplog.records]
    texts += [repr(client), repr(client.tokens), repr(client.requestor), repr(client.tokens._secret)]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    for text in texts:
        assert CLIENT_SECRET not in text
        assert "token-one" not in text
        assert "token-two" not in text
        assert "Basic " not in text
    assert any("POST /v3/orders/PO-1/shipping -> 400" in t for t in texts)
    assert CLIENT_ID in repr(client)


def test_connection_error_keeps_the_network_reason_in_its_text(api, make_client, token):
    api.add(responses.GET, INVENTORY_URL, body=requests.exceptions.ConnectionError("Connection refused by peer"))
    client = make_client(max_retries=0)
    with pytest.raises(WalmartConnectionError) as caught:
        client.inventory.get("SKU-1")
    assert caught.value.message == "No response from Walmart (ConnectionError)"
    assert caught.value.reason == "Connection refused by peer"
    assert str(caught.value).endswith("| request_sent=True | reason=Connection refused by peer")


# ------------------------------------------------------------------ real sockets (local, no Walmart)


def test_refused_connection_is_reported_as_not_sent_and_retried(make_client, sleeps):
    # given a local port nothing listens on
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}", max_retries=2)
    # when
    with pytest.raises(WalmartConnectionError) as caught:
        client.orders.acknowledge("PO-1")
    # then: the token call could not connect; retried (nothing was sent), then reported as not sent
    assert caught.value.request_sent is False
    assert caught.value.endpoint == "POST /v3/token"
    assert sleeps.waits == [0.25, 0.5]


def test_read_timeout_after_sending_is_reported_as_sent_and_not_retried(make_client, sleeps):
    # given a local server that accepts the connection, reads the request and never answers
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    received = []

    def accept_and_stall():
        connection, _ = server.accept()
        received.append(connection.recv(65536))
        time.sleep(0.5)
        connection.close()

    thread = threading.Thread(target=accept_and_stall, daemon=True)
    thread.start()
    cache = MemoryTokenCache()
    client = make_client(base_url=f"http://127.0.0.1:{port}", timeout=0.2, token_cache=cache)
    cache.set(client.tokens.cache_key, {"access_token": TOKEN, "expires_at": time.time() + 900}, 900)
    # when
    try:
        with pytest.raises(WalmartConnectionError) as caught:
            client.orders.acknowledge("PO-1")
    finally:
        thread.join(timeout=2)
        server.close()
    # then exactly one request reached the server, and the error says it was sent
    assert len(received) == 1
    assert received[0].startswith(b"POST /v3/orders/PO-1/acknowledge HTTP/1.1")
    assert caught.value.request_sent is True
    assert sleeps.waits == []


def test_read_503_with_retry_after_waits_that_long_capped(api, make_client, token, sleeps):
    api.add(responses.GET, INVENTORY_URL, status=503, headers={"Retry-After": "7"})
    api.add(responses.GET, INVENTORY_URL, status=503, headers={"Retry-After": "3600"})
    api.add(responses.GET, INVENTORY_URL, json=INVENTORY_BODY)
    client = make_client(backoff_cap=20.0)
    assert client.inventory.get("SKU-1").quantity == 7
    assert sleeps.waits == [7.0, 20.0]
    assert len(calls_to(api, "/v3/inventory")) == 3


def test_a_write_whose_token_request_timed_out_was_not_sent(api, make_client):
    # given the token endpoint times out after the token request was sent
    api.add(responses.POST, BASE_URL + "/v3/token", body=requests.exceptions.ReadTimeout("slow"))
    client = make_client(max_retries=0)
    # when
    with pytest.raises(WalmartConnectionError) as caught:
        client.orders.ship("PO-1", lines=[ship_line()], seller_order_id="SO-1")
    # then the ship never left: the caller may resend it without reading the order back
    assert caught.value.request_sent is False
    assert caught.value.endpoint == "POST /v3/token"
    assert caught.value.message == "No response from Walmart (ReadTimeout) while getting an access token"
    assert calls_to(api, "/v3/orders/PO-1/shipping") == []
