"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory, catalog_group_join
from tests.specs_required import specs_require

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def cache_keys_of_this_test_only():
    """Each test starts without the cache keys the tests before it left (sync debounce keys, locks, tokens):
    on SQLite ids are reused after a rollback, so an earlier test's key for store 1 would be this test's.
    Only this run's keys go (its KEY_PREFIX), so other runs sharing the Redis keep theirs."""
    yield
    from django.conf import settings
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
    if keys:
        client.delete(*keys)


STORE_SECRET = "s3cret-value-never-shown"


@pytest.fixture
def operator(db):
    """A user (not staff) who manages `store` and may view, edit, import and export the catalog."""
    return catalog_group_join(UserFactory(username="operator"))


@pytest.fixture
def store(operator):
    store = StoreFactory(name="Main Walmart store")
    StoreMembershipFactory(store=store, user=operator)
    return store


@pytest.fixture
def other_store(db):
    """A store `operator` is not a member of."""
    return StoreFactory(name="Someone else's store")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def superuser(db):
    """Ops staff: a superuser, who sees every store without being a member."""
    return UserFactory(username="ops", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def walmart_openapi_specs(settings) -> Path:
    """Walmart's OpenAPI specs: the test is skipped without them, and fails under CI."""
    path = Path(settings.WALMART_API_SPECS_DIR) / "us-mp-openapi-2024-12"
    specs_require(path)
    return path


@pytest.fixture
def walmart_feed_schemas(settings) -> Path:
    """Walmart's feed JSON schemas: the test is skipped without them, and fails under CI."""
    path = Path(settings.WALMART_API_SPECS_DIR) / "feed-json-schemas"
    specs_require(path / "InventoryFeed.json", "Walmart's feed JSON schemas")
    return path
