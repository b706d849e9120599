"""Rate limits (token buckets per seller and family) and faults on demand, as set."""

import json
import time

import pytest
import requests

from tests.walmart_emulator.factories import published_offer
from walmart_emulator import services
from walmart_emulator.models import Feed, Offer, Seller

pytestmark = pytest.mark.django_db

INVENTORY = {
    "InventoryHeader": {"version": "1.4"},
    "Inventory": [{"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 1}}],
}


def put_quantity(wm, amount: int):
    return wm.put("/v3/inventory", {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": amount}}, query="?sku=SKU-1")


def test_bucket_runs_out_answers_429_and_refills_with_time(wm, seller, settings):
    settings.WALMART_EMULATOR_RATE_LIMITS = {"inventory_update": {"count": 2, "seconds": 60}}
    published_offer(seller, "SKU-1", quantity=0)
    first, second = put_quantity(wm, 1), put_quantity(wm, 2)
    assert (first["x-current-token-count"], second["x-current-token-count"]) == ("1", "0")
    # when the bucket is empty
    third = put_quantity(wm, 3)
    # then
    assert third.status_code == 429
    error = third.json()["errors"]["error"][0]
    assert (error["code"], error["category"]) == ("REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API", "REQUEST")
    assert third["x-current-token-count"] == "0"
    assert third["Retry-After"] == "30"
    assert int(third["x-next-replenish-time"]) > int(second["x-next-replenish-time"]) - 1
    assert Offer.objects.get().quantity == 2
    # one token comes back every 30 s of emulator time
    services.clock_advance(seconds=30)
    assert put_quantity(wm, 4).status_code == 200
    assert Offer.objects.get().quantity == 4


def test_families_and_sellers_have_separate_buckets(wm, client, seller, settings):
    settings.WALMART_EMULATOR_RATE_LIMITS = {"inventory_update": {"count": 1, "seconds": 60}}
    published_offer(seller, "SKU-1", quantity=0)
    assert put_quantity(wm, 1).status_code == 200
    assert put_quantity(wm, 2).status_code == 429
    assert wm.get("/v3/inventory", {"sku": "SKU-1"}).status_code == 200
    other = services.seller_create(name="Other seller")
    from tests.walmart_emulator.conftest import WalmartTestClient

    other_wm = WalmartTestClient(client, None, other)
    other_wm.token = services.token_issue(client_id=other.client_id, client_secret=other.client_secret).token
    published_offer(other, "SKU-1", index=5, quantity=0)
    assert put_quantity(other_wm, 9).status_code == 200


def test_feeds_are_limited_per_type(wm, seller, settings):
    settings.WALMART_EMULATOR_RATE_LIMITS = {"feeds:inventory": {"count": 1, "seconds": 3600}}
    published_offer(seller, "SKU-1")
    assert wm.post_feed("inventory", json.dumps(INVENTORY)).status_code == 200
    refused = wm.post_feed("inventory", json.dumps(INVENTORY))
    assert refused.status_code == 429
    assert Feed.objects.count() == 1
    price = {
        "PriceHeader": {"version": "1.7"},
        "Price": [{"sku": "SKU-1", "pricing": [{"currentPrice": {"currency": "USD", "amount": 5}}]}],
    }
    assert wm.post_feed("price", json.dumps(price)).status_code == 200


def test_default_limits_match_walmarts_figures(wm, seller):
    published_offer(seller, "SKU-1")
    body = {"sku": "SKU-1", "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 3}}]}
    assert wm.put("/v3/price", body)["x-current-token-count"] == "99"
    assert put_quantity(wm, 1)["x-current-token-count"] == "199"
    assert wm.post_feed("inventory", json.dumps(INVENTORY))["x-current-token-count"] == "9"


@pytest.mark.parametrize(("status", "has_body"), [(500, True), (503, False)])
def test_error_share_answers_500_or_503_and_applies_nothing(wm, seller, status, has_body):
    published_offer(seller, "SKU-1", quantity=5)
    services.fault_set(seller=seller, error_share=1.0, error_status=status)
    response = put_quantity(wm, 9)
    assert response.status_code == status
    if has_body:
        assert response.json()["errors"]["error"][0]["code"] == "SYSTEM_ERROR.GMP_GATEWAY_API"
    else:
        assert response.content == b""
    assert Offer.objects.get().quantity == 5


def test_fault_budget_then_normal_service(wm, seller):
    published_offer(seller, "SKU-1", quantity=5)
    services.fault_set(seller=seller, error_share=1.0, remaining=2)
    assert [put_quantity(wm, 6).status_code for _ in range(3)] == [500, 500, 200]
    assert Offer.objects.get().quantity == 6
    assert Seller.objects.get().fault_remaining == 0


def test_throttle_storm(wm, seller):
    services.fault_set(seller=seller, throttle_storm=True)
    responses = [wm.get("/v3/items") for _ in range(3)]
    assert [response.status_code for response in responses] == [429, 429, 429]
    assert responses[0]["x-current-token-count"] == "0"
    services.fault_clear(seller=seller)
    assert wm.get("/v3/items").status_code == 200


def test_added_latency_delays_but_answers(wm, seller):
    services.fault_set(seller=seller, latency_ms=200)
    started = time.monotonic()
    response = wm.get("/v3/items")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_fault_set_refuses_bad_values(seller):
    with pytest.raises(ValueError, match="error_share must be between 0 and 1"):
        services.fault_set(seller=seller, error_share=2)
    with pytest.raises(ValueError, match="error_status must be 500 or 503"):
        services.fault_set(seller=seller, error_status=502)
    with pytest.raises(ValueError, match="Unknown fault kinds: wobble"):
        services.fault_set(seller=seller, wobble=1)
    seller.refresh_from_db()
    assert (seller.fault_error_share, seller.fault_error_status) == (0.0, 500)


# --- over real HTTP (Django's live server) ----------------------------------------------------------


def http_token(base: str, seller: Seller) -> str:
    response = requests.post(
        f"{base}/v3/token",
        data={"grant_type": "client_credentials"},
        auth=(seller.client_id, seller.client_secret),
        headers={"WM_QOS.CORRELATION_ID": "c-1", "WM_SVC.NAME": "Walmart Marketplace", "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def http_headers(token: str) -> dict:
    return {
        "WM_SEC.ACCESS_TOKEN": token,
        "WM_QOS.CORRELATION_ID": "c-2",
        "WM_SVC.NAME": "Walmart Marketplace",
        "Accept": "application/json",
    }


@pytest.fixture
def http_seller(transactional_db):
    seller = services.seller_create(name="HTTP seller")
    published_offer(seller, "SKU-1", quantity=5)
    return seller


def test_walmart_headers_reach_the_emulator_over_http(live_server, http_seller):
    base = live_server.url + "/walmart-emulator"
    token = http_token(base, http_seller)
    response = requests.get(f"{base}/v3/inventory", params={"sku": "SKU-1"}, headers=http_headers(token), timeout=10)
    assert response.status_code == 200
    assert response.json() == {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 5}}


def test_lost_answer_applies_the_change_then_drops_the_connection(live_server, http_seller):
    base = live_server.url + "/walmart-emulator"
    token = http_token(base, http_seller)
    services.fault_set(seller=http_seller, lost_answer_share=1.0, remaining=1)
    # when
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.put(
            f"{base}/v3/inventory",
            params={"sku": "SKU-1"},
            headers=http_headers(token),
            json={"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 42}},
            timeout=10,
        )
    # then the change was made
    assert Offer.objects.get(seller=http_seller).quantity == 42
    # and reads are never "lost" (only writes), the next write answers normally
    read = requests.get(f"{base}/v3/inventory", params={"sku": "SKU-1"}, headers=http_headers(token), timeout=10)
    assert read.json()["quantity"]["amount"] == 42


def test_hang_past_the_client_timeout_applies_nothing(live_server, http_seller):
    base = live_server.url + "/walmart-emulator"
    token = http_token(base, http_seller)
    services.fault_set(seller=http_seller, hang_seconds=1.0, remaining=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.put(
            f"{base}/v3/inventory",
            params={"sku": "SKU-1"},
            headers=http_headers(token),
            json={"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 7}},
            timeout=0.3,
        )
    time.sleep(1.0)  # let the hung request finish before the database is flushed
    assert Offer.objects.get(seller=http_seller).quantity == 5
