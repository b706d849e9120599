"""In a real browser against the emulator: set a price rule through the Sync settings form while the price
stream is off, check the dry-run preview, switch the stream on, press "Sync now", and see Walmart's
confirmation on the Sync page (and the emulator holding the price)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from listings.models import Listing, Product
from tests.conftest import PASSWORD
from tests.e2e.conftest import browser, log_in, page  # noqa: F401 - the shared browser fixtures
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory
from walmart_emulator import services as emulator
from walmart_emulator.models import Offer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "s3cret-value-never-shown"


@pytest.fixture
def shop(live_server, settings):
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0
    operator = UserFactory(username="pricer")
    store = StoreFactory(
        name="Pricer's Walmart",
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_secret=SECRET,
        price_enabled=False,
    )
    StoreMembershipFactory(store=store, user=operator)
    seller = emulator.seller_create(name="pricer seller", client_id=store.client_id, client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="MUG-1", catalog_item=item, price=Decimal("10.00"), quantity=4)
    product = Product.objects.create(sku="MUG-1", name="Stoneware mug", price=Decimal("11.00"), quantity=4)
    Listing.objects.create(
        store=store, product=product, status="match", confirmed_quantity=4, confirmed_price=Decimal("10.00")
    )
    return operator, store, seller


def test_price_rule_preview_then_go_live_and_sync_now(page, log_in, live_server, shop):  # noqa: F811
    operator, store, seller = shop
    log_in(operator.username, PASSWORD)
    # when: the operator sets +10 % with .99 endings while the price stream is off
    page.goto(f"{live_server.url}/stores/{store.pk}/settings/sync/")
    page.get_by_label("Markup type").select_option("percent")
    page.get_by_label("Markup value").fill("10")
    page.get_by_label("Price ending").fill("0.99")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    # then: saved, and nothing went to Walmart
    expect(page.locator("main")).to_contain_text("Sync settings saved")
    assert Offer.objects.get(sku="MUG-1").price == Decimal("10.00")
    # when: the preview is opened
    page.goto(f"{live_server.url}/stores/{store.pk}/sync/preview/")
    price_section = page.locator("#preview-price")
    # then: 11.00 + 10 % = 12.10 -> 12.99, as one single update
    expect(price_section).to_contain_text("Off (preview only)", use_inner_text=True)
    expect(price_section.locator("table tbody tr").first.locator("td")).to_have_text(["MUG-1", "10.00", "12.99", ""])
    # when: the stream is switched on and the operator presses Sync now
    type(store).objects.filter(pk=store.pk).update(price_enabled=True)
    page.goto(f"{live_server.url}/stores/{store.pk}/sync/")
    with page.expect_navigation():
        page.get_by_role("button", name="Sync now").click()
    # then: Walmart holds the price and the page shows it confirmed
    expect(page.locator("main")).to_contain_text("2 sync runs queued.")
    assert Offer.objects.get(sku="MUG-1").price == Decimal("12.99")
    row = page.locator("section.card", has_text="Listings").locator("tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert cells[:8] == ["MUG-1", "Stoneware mug", "4", "4", "4", "11.00", "12.99", "12.99"]
    expect(row).not_to_contain_text("pending", use_inner_text=True)
