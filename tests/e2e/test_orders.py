"""In a real browser, as an operator would: an order placed on Walmart (the emulator) shows on the Orders
tab; the operator ships one unit with tracking, then cancels the rest with a reason, and sees each
operation's status, the order's status and Walmart's quantities."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from channel_manager.models import Store
from orders.models import Order
from orders.services import order_poll
from tests.conftest import PASSWORD
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory
from tests.orders.factories import ListingFactory, ProductFactory
from walmart_emulator import models as emulated
from walmart_emulator import services as emulator
from walmart_emulator.orders import order_simulate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "browser-orders-secret"


@pytest.fixture
def shop(live_server):
    operator = UserFactory(username="packer")
    store = StoreFactory(
        name="Mugs on Walmart",
        environment=Store.Environment.EMULATOR,
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_secret=SECRET,
    )
    StoreMembershipFactory(store=store, user=operator)
    seller = emulator.seller_create(name="Mugs", client_id=store.client_id, client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="MUG-1", catalog_item=item, price=Decimal("9.99"), quantity=10)
    product = ProductFactory(sku="MUG-1", quantity=10)
    ListingFactory(store=store, product=product)
    placed = order_simulate(seller=seller, lines=[("MUG-1", 3)], method_code="Standard")
    order_poll(store=store)
    return operator, store, placed, product


def emulated_quantities(purchase_order_id: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for status in emulated.LineStatus.objects.filter(line__order__purchase_order_id=purchase_order_id):
        totals[status.status] = totals.get(status.status, 0) + status.quantity
    return totals


def test_operator_ships_one_unit_then_cancels_the_rest(page, log_in, live_server, shop):
    operator, store, placed, product = shop
    order = Order.objects.get(store=store)
    log_in(operator.username, PASSWORD)

    # the order is on the Orders tab, Open, with its commerce order number
    page.goto(f"{live_server.url}/stores/{store.pk}/orders/")
    row = page.locator(f"tr[data-po='{placed.purchase_order_id}']")
    expect(row.locator("td").nth(1)).to_have_text(order.commerce_order_number, use_inner_text=True)
    expect(row.locator(".status").first).to_have_text("Open", use_inner_text=True)

    # ship 1 of 3 with UPS tracking
    row.get_by_role("link", name=order.commerce_order_number).click()
    page.locator("#ship-button").click()
    page.get_by_label("Line 1 MUG-1").fill("1")
    page.get_by_label("Carrier", exact=True).select_option("UPS")
    page.get_by_label("Tracking number").fill("1Z999AA10123456784")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit shipment").click()
    expect(page.locator(".message.success")).to_have_text("Shipment 1Z999AA10123456784: Sent.", use_inner_text=True)
    expect(page.locator("#order-status")).to_have_text("Partially Shipped", use_inner_text=True)
    expect(page.locator("tr[data-line='1'] td.shipped")).to_have_text("1", use_inner_text=True)
    expect(page.locator("tr[data-line='1'] td.left")).to_have_text("2", use_inner_text=True)
    assert emulated_quantities(placed.purchase_order_id) == {"Acknowledged": 2, "Shipped": 1}

    # a bad cancel (no reason) is refused with a clear error and sends nothing
    page.locator("#cancel-button").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel Order").click()
    expect(page.locator("#cancel-form")).to_contain_text("This field is required.", use_inner_text=True)
    assert emulated_quantities(placed.purchase_order_id) == {"Acknowledged": 2, "Shipped": 1}

    # cancel the remaining 2 as out of stock
    page.get_by_label("Cancellation reason").select_option(label="The item is out of stock.")
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel Order").click()
    expect(page.locator(".message.success")).to_have_text(
        re.compile(r"^Cancellation \d+: Sent\.$"), use_inner_text=True
    )
    expect(page.locator("#order-status")).to_have_text("Shipped", use_inner_text=True)
    expect(page.locator("tr[data-line='1'] td.cancelled")).to_have_text("2", use_inner_text=True)
    assert emulated_quantities(placed.purchase_order_id) == {"Shipped": 1, "Cancelled": 2}
    product.refresh_from_db()
    assert product.quantity == 9  # 3 reserved, 2 given back

    # the Orders tab filters by the Shipped card
    page.goto(f"{live_server.url}/stores/{store.pk}/orders/")
    page.locator("a.status-card[data-status='shipped']").click()
    expect(page.locator(f"tr[data-po='{placed.purchase_order_id}'] .status").first).to_have_text(
        "Shipped", use_inner_text=True
    )
