"""Changed credentials take effect at once: the next connection test uses them, not a token cached for the
old ones. Runs against the Walmart emulator on the live server."""

import pytest

from channel_manager.connection import store_connection_test
from channel_manager.models import Store
from channel_manager.services import store_credentials_change
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def emulator_store(live_server):
    from walmart_emulator.services import seller_create

    seller = seller_create(name="Credentials seller")
    store = StoreFactory(
        name="Credentials store",
        emulator_base_url=f"{live_server.url}/walmart-emulator",
        client_id=seller.client_id,
        client_secret=seller.client_secret,
    )
    return store, seller


def test_a_new_client_id_with_a_wrong_secret_fails_the_next_test(emulator_store):
    store, seller = emulator_store
    assert store_connection_test(store=store).connected is True
    # when
    store_credentials_change(store=store, client_id="unknown-id", client_secret="wrong", environment="emulator")
    result = store_connection_test(store=Store.objects.get(pk=store.pk))
    # then
    assert result.connected is False
    assert Store.objects.get(pk=store.pk).connection_status == Store.ConnectionStatus.ERROR


def test_a_wrong_secret_for_the_same_client_id_fails_the_next_test(emulator_store):
    store, seller = emulator_store
    assert store_connection_test(store=store).connected is True
    # when: only the secret changes
    store_credentials_change(store=store, client_id=seller.client_id, client_secret="wrong", environment="emulator")
    result = store_connection_test(store=Store.objects.get(pk=store.pk))
    # then
    assert result.connected is False
