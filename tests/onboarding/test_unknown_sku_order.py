"""An order for a Walmart SKU the store does not list (against the emulator): a clear Error status with
nothing reserved; once the SKU is linked, the order is processed again and its stock reserved once."""

from decimal import Decimal

import pytest

from onboarding.services import order_relink, walmart_item_for_sku, walmart_item_link
from orders.models import Order, OrderLine
from orders.services import order_poll
from tests.factories import StoreFactory
from tests.orders.conftest import live_server_threads_finish  # noqa: F401 - a fixture
from tests.orders.factories import ProductFactory
from walmart_emulator import services as emulator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_server_threads_finish")]
SECRET = "emulator-secret-for-unknown-skus"


def test_an_order_for_an_unknown_sku_is_processed_again_once_linked(live_server):
    # given: the seller sells LEGACY-1 on Walmart; our catalog has it as CAT-1 (10 units), not linked
    store = StoreFactory(
        environment="emulator", emulator_base_url=live_server.url + "/walmart-emulator", client_secret=SECRET
    )
    seller = emulator.seller_create(name="Legacy seller", client_id=store.client_id, client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="LEGACY-1", catalog_item=item, price=Decimal("9.99"), quantity=10)
    product = ProductFactory(sku="CAT-1", quantity=10)
    # when: a customer orders 2 and our poll reads the order
    emulator.order_simulate(seller=seller, lines=[("LEGACY-1", 2)], method_code="Standard")
    order_poll(store=store)
    # then: a clear status, nothing reserved
    order = Order.objects.get(store=store)
    line = OrderLine.objects.get(order=order)
    assert (order.status, line.status, line.listing_id, line.stock_reserved) == ("error", "Error", None, 0)
    assert line.status_details == (
        "Line 1: Walmart SKU LEGACY-1 is not linked to a catalog product in this store (nothing reserved). "
        "Link this SKU and the order is processed again."
    )
    product.refresh_from_db()
    assert product.quantity == 10
    # when: the operator links the SKU to CAT-1 (the order is re-processed after commit)
    walmart_item = walmart_item_for_sku(store=store, sku="LEGACY-1", product_name=line.product_name)
    listing = walmart_item_link(item=walmart_item, product=product)
    # then: the line has its listing, 2 units are reserved, the order is out of Error
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.listing_id, line.stock_reserved) == (listing.pk, 2)
    assert line.status in ("Created", "Acknowledged")
    assert order.status != "error"
    product.refresh_from_db()
    assert product.quantity == 8
    assert order.events.filter(message="Line 1: Walmart SKU LEGACY-1 is now linked; 2 unit(s) reserved.").count() == 1
    # and processing it again reserves nothing more
    order_relink(order_pk=order.pk)
    order_poll(store=store)
    product.refresh_from_db()
    line.refresh_from_db()
    assert (product.quantity, line.stock_reserved) == (8, 2)
