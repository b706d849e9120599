"""The Django-side client factory: base URL per environment, token and rate-limit state shared through
the cache by every client (every worker) of a store."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.core.cache import cache
from django.test import override_settings

import walmart_client.auth
from channel_manager.models import Store
from channel_manager.walmart import (
    DjangoRateLimitStore,
    DjangoTokenCache,
    rate_limit_pacer,
    store_cache_key,
    store_rate_limits,
    walmart_client_for_store,
)
from tests.factories import StoreFactory
from walmart_client.errors import WalmartRateLimited
from walmart_client.ratelimit import RateLimitInfo

pytestmark = pytest.mark.django_db

INVENTORY_BODY = {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 4}}


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_client_uses_the_store_base_url_and_credentials(store, settings):
    # given
    settings.WALMART_HTTP_TIMEOUT_SECONDS = 7.5
    # when
    client = walmart_client_for_store(store)
    # then
    assert client.base_url == settings.WALMART_EMULATOR_BASE_URL.rstrip("/")
    assert client.client_id == store.client_id
    assert client.transport.timeout == 7.5
    assert store.client_secret not in repr(client)


@pytest.mark.parametrize(
    ("environment", "setting"),
    [
        (Store.Environment.PRODUCTION, "WALMART_PRODUCTION_BASE_URL"),
        (Store.Environment.SANDBOX, "WALMART_SANDBOX_BASE_URL"),
    ],
)
def test_client_base_url_follows_the_environment(environment, setting, settings):
    store = StoreFactory(environment=environment)
    assert walmart_client_for_store(store).base_url == getattr(settings, setting)


def test_token_is_shared_by_two_clients_through_the_cache(store, api):
    # given two clients of the same store (as two workers would build them)
    base = store.api_base_url
    api.add(
        responses.POST,
        base + "/v3/token",
        json={"access_token": "shared-tok", "token_type": "Bearer", "expires_in": 900},
    )
    api.add(responses.GET, base + "/v3/inventory", json=INVENTORY_BODY)
    first = walmart_client_for_store(store)
    second = walmart_client_for_store(store)
    # when
    first.inventory.get("SKU-1")
    second.inventory.get("SKU-1")
    # then
    token_calls = [c for c in api.calls if c.request.url == base + "/v3/token"]
    inventory_calls = [c for c in api.calls if c.request.url.startswith(base + "/v3/inventory")]
    assert len(token_calls) == 1
    assert [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in inventory_calls] == ["shared-tok", "shared-tok"]
    cached = DjangoTokenCache(store_cache_key(store)).get(first.tokens.cache_key)
    assert cached["access_token"] == "shared-tok"


@pytest.fixture
def separate_processes(monkeypatch):
    """Each client gets its own in-process refresh lock, as clients in separate worker processes would
    (in one process they share one), so only the cache can keep them from refreshing together."""
    monkeypatch.setattr(walmart_client.auth, "_lock_for", lambda key: threading.Lock())


def _slow_token(token: str, delay: float = 0.3):
    def callback(request):
        time.sleep(delay)  # the token call is in flight while the other workers arrive
        return 200, {}, f'{{"access_token": "{token}", "token_type": "Bearer", "expires_in": 900}}'

    return callback


def test_token_refresh_is_single_flight_across_worker_processes(store, api, separate_processes):
    # given six workers with their own clients and no token cached yet
    base = store.api_base_url
    api.add_callback(responses.POST, base + "/v3/token", callback=_slow_token("tok-1"))
    api.add(responses.GET, base + "/v3/inventory", json=INVENTORY_BODY)
    clients = [walmart_client_for_store(store) for _ in range(6)]
    start = threading.Barrier(len(clients))
    failures = []

    def work(client):
        start.wait()
        try:
            client.inventory.get("SKU-1")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    # when they all need a token at once
    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then Walmart was asked for one token, and every worker used it
    assert failures == []
    token_calls = [c for c in api.calls if c.request.url == base + "/v3/token"]
    inventory_calls = [c for c in api.calls if c.request.url.startswith(base + "/v3/inventory")]
    assert len(token_calls) == 1
    assert [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in inventory_calls] == ["tok-1"] * 6
    assert sum(client.tokens.fetch_count for client in clients) == 1
    # and the refresh lock was released
    assert cache.get(DjangoTokenCache(store_cache_key(store))._lock_key(clients[0].tokens.cache_key)) is None


def test_a_waiting_worker_takes_the_token_the_lock_holder_writes(store, api):
    # given another worker holds the refresh lock and writes its token 0.2 s later
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "own-tok", "expires_in": 900})
    api.add(responses.GET, base + "/v3/inventory", json=INVENTORY_BODY)
    client = walmart_client_for_store(store)
    tokens = DjangoTokenCache(store_cache_key(store))
    owner = tokens.acquire_refresh_lock(client.tokens.cache_key, 20)
    assert owner is not None
    assert tokens.acquire_refresh_lock(client.tokens.cache_key, 20) is None

    def holder_finishes():
        tokens.set(client.tokens.cache_key, {"access_token": "holder-tok", "expires_at": time.time() + 900}, 780)
        tokens.release_refresh_lock(client.tokens.cache_key, owner)

    timer = threading.Timer(0.2, holder_finishes)
    timer.start()
    # when this worker needs a token
    client.inventory.get("SKU-1")
    timer.join()
    # then it used the holder's token and made no token call of its own
    assert [c.request.url for c in api.calls] == [base + "/v3/inventory?sku=SKU-1"]
    assert api.calls[0].request.headers["WM_SEC.ACCESS_TOKEN"] == "holder-tok"
    assert client.tokens.fetch_count == 0


def test_a_worker_fetches_by_itself_when_the_lock_holder_died(store, api):
    # given a lock left by a worker that died mid-refresh (no token will ever be written)
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "own-tok", "expires_in": 900})
    api.add(responses.GET, base + "/v3/inventory", json=INVENTORY_BODY)
    client = walmart_client_for_store(store)
    client.tokens.lock_wait = 0.2
    tokens = DjangoTokenCache(store_cache_key(store))
    dead_owner = tokens.acquire_refresh_lock(client.tokens.cache_key, 20)
    # when this worker needs a token
    client.inventory.get("SKU-1")
    # then after the bounded wait it fetched one itself and used it
    token_calls = [c for c in api.calls if c.request.url == base + "/v3/token"]
    assert len(token_calls) == 1
    assert api.calls[-1].request.headers["WM_SEC.ACCESS_TOKEN"] == "own-tok"
    assert tokens.get(client.tokens.cache_key)["access_token"] == "own-tok"
    # and it did not release a lock it does not own
    assert cache.get(tokens._lock_key(client.tokens.cache_key)) == dead_owner


def test_release_leaves_a_lock_taken_by_another_owner(store):
    # given
    tokens = DjangoTokenCache(store_cache_key(store))
    owner = tokens.acquire_refresh_lock("k", 20)
    # when someone else tries to release it
    tokens.release_refresh_lock("k", "not-the-owner")
    # then it is still held; the owner's release frees it for the next one
    assert tokens.acquire_refresh_lock("k", 20) is None
    tokens.release_refresh_lock("k", owner)
    assert tokens.acquire_refresh_lock("k", 20) is not None


def test_tokens_of_two_stores_are_not_shared(store, other_store, api):
    # given
    for target, token in ((store, "tok-a"), (other_store, "tok-b")):
        api.add(responses.POST, target.api_base_url + "/v3/token", json={"access_token": token, "expires_in": 900})
    api.add(responses.GET, store.api_base_url + "/v3/inventory", json=INVENTORY_BODY)
    # when
    walmart_client_for_store(store).inventory.get("SKU-1")
    walmart_client_for_store(other_store).inventory.get("SKU-1")
    # then
    sent = [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in api.calls if "/v3/inventory" in c.request.url]
    assert sent == ["tok-a", "tok-b"]


def test_rate_limit_state_is_shared_between_clients(store, api):
    # given one client sees Walmart's bucket headers
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "tok", "expires_in": 900})
    api.add(
        responses.GET,
        base + "/v3/inventory",
        json=INVENTORY_BODY,
        headers={"x-current-token-count": "41", "x-next-replenish-time": "1714564800000"},
    )
    walmart_client_for_store(store).inventory.get("SKU-1")
    # when another client of the store reads the state
    info = walmart_client_for_store(store).rate_limits.get("inventory.get")
    # then
    assert info.tokens_left == 41
    assert info.next_replenish_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert {family: state.tokens_left for family, state in store_rate_limits(store).items()} == {"inventory.get": 41}


def test_pacer_waits_for_replenish_when_the_shared_bucket_is_empty(store):
    # given Walmart said the bucket is empty and refills in 4 s
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    state = DjangoRateLimitStore(store_cache_key(store), store.client_id)
    state.set(RateLimitInfo("orders.ship", 0, now + timedelta(seconds=4), now))
    waits = []
    hook = rate_limit_pacer(state, sleep=waits.append, now=lambda: now, max_wait=30)
    # when
    hook("orders.ship")
    hook("orders.cancel")  # no state: no wait
    # then
    assert waits == [4.0]


def test_pacer_refuses_locally_when_the_wait_is_too_long(store, api):
    # given the bucket refills in 10 minutes
    now = datetime.now(tz=UTC)
    state = DjangoRateLimitStore(store_cache_key(store), store.client_id)
    state.set(RateLimitInfo("inventory.get", 0, now + timedelta(minutes=10), now))
    api.add(responses.POST, store.api_base_url + "/v3/token", json={"access_token": "tok", "expires_in": 900})
    waits = []
    # when
    with override_settings(WALMART_RATE_LIMIT_MAX_WAIT_SECONDS=30):
        client = walmart_client_for_store(store, sleep=waits.append)
        with pytest.raises(WalmartRateLimited) as caught:
            client.inventory.get("SKU-1")
    # then nothing was sent to the inventory endpoint and the wait is reported
    assert [c for c in api.calls if "/v3/inventory" in c.request.url] == []
    assert 590 < caught.value.retry_after <= 600
    assert waits == []


def test_a_new_store_reusing_an_id_does_not_inherit_cached_state(store, api):
    # given a store whose token and bucket state are cached
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "old-store-token", "expires_in": 900})
    api.add(responses.GET, base + "/v3/inventory", json=INVENTORY_BODY, headers={"x-current-token-count": "0"})
    walmart_client_for_store(store).inventory.get("SKU-1")
    old_key = store_cache_key(store)
    # when the row is replaced by a new store with the same id and credentials (SQLite reuses ids)
    pk, client_id, secret = store.pk, store.client_id, store.client_secret
    store.delete()
    reborn = StoreFactory(pk=pk, client_id=client_id, client_secret=secret)
    # then it starts clean
    assert store_cache_key(reborn) != old_key
    assert store_rate_limits(reborn) == {}
    assert DjangoTokenCache(store_cache_key(reborn)).get(walmart_client_for_store(reborn).tokens.cache_key) is None


def test_a_changed_secret_does_not_reuse_the_token_of_the_old_one(store, api):
    # given a token cached for the current secret
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "tok-old-secret", "expires_in": 900})
    api.add(responses.POST, base + "/v3/token", json={"access_token": "tok-new-secret", "expires_in": 900})
    api.add(responses.GET, base + "/v3/inventory", json=INVENTORY_BODY)
    walmart_client_for_store(store).inventory.get("SKU-1")
    # when the secret changes (same client id)
    store.client_secret = "a-rotated-secret"
    store.save()
    walmart_client_for_store(store).inventory.get("SKU-1")
    # then the new secret got its own token
    sent = [c.request.headers["WM_SEC.ACCESS_TOKEN"] for c in api.calls if "/v3/inventory" in c.request.url]
    assert sent == ["tok-old-secret", "tok-new-secret"]
