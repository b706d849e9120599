"""In a real browser, as an operator onboarding a seller who already sells on Walmart (the emulator): import
from the Listings tab with its progress, link one Unmanaged item with the search box, and see an order for
that item arrive with its stock reserved."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from channel_manager.models import Store
from onboarding.models import WalmartItem
from orders.models import Order
from orders.services import order_poll
from tests.conftest import PASSWORD
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory, catalog_group_join
from tests.orders.factories import ProductFactory
from walmart_emulator import services as emulator
from walmart_emulator.orders import order_simulate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "browser-onboarding-secret"


@pytest.fixture
def seller_shop(live_server):
    """A seller selling MUG-1 (our catalog's SKU too) and LEGACY-KETTLE (ours is CAT-KETTLE) on Walmart."""
    operator = catalog_group_join(UserFactory(username="onboarder"))
    store = StoreFactory(
        name="Kettles on Walmart",
        environment=Store.Environment.EMULATOR,
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_secret=SECRET,
    )
    StoreMembershipFactory(store=store, user=operator)
    seller = emulator.seller_create(name="Kettles", client_id=store.client_id, client_secret=SECRET)
    mug = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    kettle = emulator.catalog_item_create(gtin="00012345600012", title="Acme Blue Kettle")
    emulator.offer_create(seller=seller, sku="MUG-1", catalog_item=mug, price=Decimal("9.99"), quantity=4)
    emulator.offer_create(seller=seller, sku="LEGACY-KETTLE", catalog_item=kettle, price=Decimal("29.00"), quantity=6)
    ProductFactory(sku="MUG-1", quantity=10)
    kettle_product = ProductFactory(sku="CAT-KETTLE", name="Blue kettle", quantity=10)
    return operator, store, seller, kettle_product


def test_import_link_one_unmanaged_item_and_see_its_order_arrive(page, log_in, live_server, seller_shop):
    operator, store, seller, kettle = seller_shop
    log_in(operator.username, PASSWORD)

    # the Listings tab offers the import; it runs and its progress ends Done with what it linked
    page.goto(f"{live_server.url}/stores/{store.pk}/listings/")
    with page.expect_navigation():
        page.get_by_role("button", name="Import from Walmart").click()
    expect(page.get_by_test_id("walmart-import-status")).to_have_text("Done", use_inner_text=True)
    expect(page.get_by_test_id("linked-count")).to_have_text("1", use_inner_text=True)
    expect(page.get_by_test_id("count-unmanaged")).to_have_text("1", use_inner_text=True)

    # the unmanaged item is linked through the search box
    row = page.locator("tr[data-sku='LEGACY-KETTLE']")
    row.get_by_label("Product for LEGACY-KETTLE").fill("kettle")
    expect(row.get_by_label("CAT-KETTLE · Blue kettle")).to_be_checked()
    with page.expect_navigation():
        row.get_by_role("button", name="Link").click()
    expect(page.locator(".message.success")).to_have_text(
        "Walmart SKU LEGACY-KETTLE linked to product CAT-KETTLE.", use_inner_text=True
    )
    expect(page.get_by_test_id("count-unmanaged")).to_have_text("0", use_inner_text=True)
    expect(page.get_by_test_id("count-linked")).to_have_text("2", use_inner_text=True)
    assert WalmartItem.objects.get(sku="LEGACY-KETTLE").listing.product_id == kettle.pk

    # a customer orders 2 kettles on Walmart: the order arrives, Open, with the kettle's stock reserved
    placed = order_simulate(seller=seller, lines=[("LEGACY-KETTLE", 2)], method_code="Standard")
    order_poll(store=store)
    order = Order.objects.get(store=store)
    page.goto(f"{live_server.url}/stores/{store.pk}/orders/")
    order_row = page.locator(f"tr[data-po='{placed.purchase_order_id}']")
    expect(order_row.locator(".status").first).to_have_text("Open", use_inner_text=True)
    order_row.get_by_role("link", name=order.commerce_order_number).click()
    expect(page.locator("tr[data-line='1']")).to_contain_text("LEGACY-KETTLE", use_inner_text=True)
    expect(page.get_by_test_id("link-sku")).to_have_count(0)
    kettle.refresh_from_db()
    assert kettle.quantity == 8
