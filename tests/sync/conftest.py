"""Fixtures of the inventory and price sync tests: a Walmart API mocked at the HTTP boundary (`responses`),
a client for the test store that never sleeps, and a clean slate of the sync's Redis keys."""

from decimal import Decimal

import pytest
import responses
from django.core.cache import cache

from listings.models import Listing, Product
from tests.factories import StoreFactory
from walmart_client import WalmartClient
from walmart_emulator import services as emulator

TOKEN_BODY = {"access_token": "test-token", "token_type": "Bearer", "expires_in": 900}


@pytest.fixture(autouse=True)
def _sync_cache_keys_cleared():
    """Locks, debounce keys and cached partner profiles must not leak between tests (ids are reused)."""

    def clear() -> None:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=cache.make_key("sync:*")))
        if keys:
            client.delete(*keys)

    clear()
    yield
    clear()


@pytest.fixture
def walmart_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def base_url(store):
    return store.api_base_url


@pytest.fixture
def walmart(walmart_api, store, base_url):
    """The mocked API with a token endpoint and an empty partner profile (no seller tier)."""
    walmart_api.add(responses.POST, f"{base_url}/v3/token", json=TOKEN_BODY)
    walmart_api.add(responses.GET, f"{base_url}/v3/settings/partnerprofile", json={})
    return walmart_api


@pytest.fixture
def api_client(store, base_url):
    return WalmartClient(
        base_url=base_url,
        client_id=store.client_id,
        client_secret=store.client_secret,
        max_retries=0,
        max_rate_limit_wait=0,
        sleep=lambda seconds: None,
    )


SECRET = "s3cret-value-never-shown"


@pytest.fixture
def emulated(live_server, settings):
    """A store pointed at an emulator seller holding offers SKU-0..SKU-(n-1) at quantity 5 and price 10.00,
    with matched listings already in sync (catalog = confirmed = Walmart)."""
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0

    def make(count: int = 4):
        store = StoreFactory(
            environment="emulator",
            emulator_base_url=live_server.url + "/walmart-emulator",
            client_secret=SECRET,
        )
        seller = emulator.seller_create(name=f"seller of {store.name}", client_id=store.client_id, client_secret=SECRET)
        item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
        for number in range(count):
            emulator.offer_create(
                seller=seller, sku=f"SKU-{number}", catalog_item=item, price=Decimal("10.00"), quantity=5
            )
            product = Product.objects.create(sku=f"SKU-{number}", name=f"Mug {number}", price="10.00", quantity=5)
            Listing.objects.create(
                store=store,
                product=product,
                status=Listing.Status.MATCH,
                confirmed_quantity=5,
                confirmed_price=Decimal("10.00"),
            )
        return store, seller

    return make
