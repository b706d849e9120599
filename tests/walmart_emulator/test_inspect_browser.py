"""The inspection page in a real browser: a staff user places customer orders with the button and sees them."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import browser, log_in, page  # noqa: F401
from tests.walmart_emulator.factories import inspector_user, published_offer
from walmart_emulator import services
from walmart_emulator.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_places_orders_and_sets_faults_from_the_page(page, log_in, live_server):  # noqa: F811
    # given a staff user and a seller with one published offer in stock
    inspector_user("ops")
    seller = services.seller_create(name="Browser seller")
    published_offer(seller, "SKU-B", quantity=20)
    log_in("ops", PASSWORD)
    # when the user opens the seller and places two customer orders
    page.goto(f"{live_server.url}/walmart-emulator/inspect/")
    page.get_by_role("link", name="Browser seller").click()
    page.get_by_label("Orders").fill("2")
    page.get_by_role("button", name="Place customer orders").click()
    # then the orders exist and are listed with their line statuses
    page.get_by_text("2 orders placed.").wait_for()
    assert Order.objects.filter(seller=seller).count() == 2
    for order in Order.objects.filter(seller=seller):
        expect(page.get_by_text(order.purchase_order_id)).to_have_count(1)
    # and a fault set through the form is stored
    page.get_by_label("Share of 500/503 answers (0..1)").fill("0.25")
    page.get_by_role("button", name="Save faults").click()
    page.get_by_text("Fault settings saved.").wait_for()
    seller.refresh_from_db()
    assert seller.fault_error_share == 0.25
