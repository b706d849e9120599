"""In a real browser, as an operator would: read the customer's return from Walmart (the emulator), open
it from the Returns tab, refund one unit back to stock, and see it Sent; a refund of more than was
returned is refused on the page."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.models import StockMovement
from returns.models import Refund
from tests.conftest import PASSWORD
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory
from tests.returns.factories import emulated_return
from walmart_emulator import services as emulator
from walmart_emulator.models import LineRefund
from walmart_emulator.models import ReturnLine as EmulatorReturnLine

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "s3cret-value-never-shown"


@pytest.fixture
def shop(live_server):
    emulator.clock_reset()
    operator = UserFactory(username="shopkeeper")
    store = StoreFactory(
        name="Shopkeeper's Walmart",
        environment="emulator",
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_secret=SECRET,
    )
    StoreMembershipFactory(store=store, user=operator)
    _, seller, placed, rma, product = emulated_return(store, secret=SECRET)
    return operator, store, placed, rma, product


def test_operator_refunds_a_return_partly_and_back_to_stock(page, log_in, live_server, shop):
    operator, store, placed, rma, product = shop
    log_in(operator.username, PASSWORD)

    # The Returns tab of the store; the return is read from Walmart
    page.goto(f"{live_server.url}/stores/{store.pk}/orders/")
    page.get_by_role("link", name="Returns", exact=True).click()
    page.get_by_role("button", name="Read returns from Walmart now").click()
    expect(page.get_by_text("Returns read from Walmart: 1 new, 0 updated.")).to_be_visible()
    row = page.locator(f'tr[data-rma="{rma.return_order_id}"]')
    expect(row.locator("td.items")).to_have_text("MUG-1 x 2", use_inner_text=True)
    expect(row.get_by_text("Received")).to_be_visible()
    expect(row.locator("td.deadline")).to_have_text(re.compile(r"^(1d 23h|2d 0h)$"), use_inner_text=True)

    # The Received card filters; the RMA opens the return
    page.locator('#status-cards a[data-status="received"]').click()
    page.get_by_role("link", name=rma.return_order_id).click()
    expect(page.locator("#return-status")).to_have_text("Received", use_inner_text=True)

    # Asking for more than was returned is refused on the page, nothing written
    page.get_by_label("Quantity to refund of line 1 (MUG-1)").fill("3")
    page.evaluate("document.querySelector('#refund-form input[type=number]').removeAttribute('max')")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.locator("#refund-errors")).to_have_text(
        "Line 1 (MUG-1): cannot refund 3; only 2 of the 2 returned units can still be refunded "
        "(0 refunded, 0 in progress).",
        use_inner_text=True,
    )
    assert Refund.objects.count() == 0

    # Refund 1 of the 2 mugs and put it back in stock
    page.get_by_label("Quantity to refund of line 1 (MUG-1)").fill("1")
    page.get_by_label("Return line 1 (MUG-1) to stock").check()
    page.get_by_role("button", name="Refund", exact=True).click()
    refund = Refund.objects.get()
    expect(page.locator(f'tr[data-refund="{refund.pk}"] .status')).to_have_text("Sent", use_inner_text=True)
    expect(page.locator(f'tr[data-refund="{refund.pk}"] td.total')).to_have_text("12.99", use_inner_text=True)
    expect(page.locator("#status-details")).to_have_text(
        "Status details\nPartially refunded: 1 of 2 units.", use_inner_text=True
    )
    expect(page.locator('#lines tr[data-line="1"] td.restocked')).to_have_text("1", use_inner_text=True)

    # Walmart has exactly that refund; our stock has exactly that unit back
    remote_line = EmulatorReturnLine.objects.get(return_order__return_order_id=rma.return_order_id)
    assert remote_line.refunded_quantity == 1
    assert list(LineRefund.objects.values_list("amount", "tax_amount")) == [(Decimal("-12.00"), Decimal("-0.99"))]
    product.refresh_from_db()
    assert product.quantity == 6
    assert StockMovement.objects.get(reason="return_to_stock").delta == 1
