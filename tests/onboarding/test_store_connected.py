"""A store's first successful connection (against the emulator): whether the Walmart store is live comes from
Walmart's partner profile (the sandbox keeps its manual switch), and its first import from Walmart runs."""

from decimal import Decimal

import pytest

from channel_manager.connection import store_connection_test
from channel_manager.models import Store
from onboarding.models import WalmartImport, WalmartItem
from onboarding.services import store_live_refresh
from tests.factories import StoreFactory
from tests.orders.conftest import live_server_threads_finish  # noqa: F401 - a fixture
from walmart_emulator import services as emulator
from walmart_emulator.models import Seller

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_server_threads_finish")]
SECRET = "emulator-secret-for-connections"


@pytest.fixture
def emulated(live_server):
    store = StoreFactory(
        environment="emulator",
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_secret=SECRET,
        is_live=True,
    )
    seller = emulator.seller_create(name="Not live yet", client_id=store.client_id, client_secret=SECRET)
    Seller.objects.filter(pk=seller.pk).update(is_live=False)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="MUG-1", catalog_item=item, price=Decimal("9.99"), quantity=5)
    return store, seller


def test_the_first_connection_reads_live_from_walmart_and_imports(emulated):
    store, seller = emulated
    # when
    result = store_connection_test(store=store)
    # then: connected; Walmart says the store is not live; the items were imported once
    assert result.connected is True
    store.refresh_from_db()
    assert store.is_live is False
    walmart_import = WalmartImport.objects.get(store=store)
    assert (walmart_import.status, walmart_import.reason, walmart_import.items_read) == ("done", "first connection", 1)
    assert list(WalmartItem.objects.filter(store=store).values_list("sku", flat=True)) == ["MUG-1"]
    # when: Walmart takes the store live and the connection is tested again
    Seller.objects.filter(pk=seller.pk).update(is_live=True)
    store_connection_test(store=store)
    # then: live, and no second import
    store.refresh_from_db()
    assert store.is_live is True
    assert WalmartImport.objects.filter(store=store).count() == 1


def test_a_sandbox_keeps_its_manual_switch(emulated):
    store, _seller = emulated
    Store.objects.filter(pk=store.pk).update(environment=Store.Environment.SANDBOX)
    store.refresh_from_db()
    assert store_live_refresh(store=store) is None
    store.refresh_from_db()
    assert store.is_live is True
