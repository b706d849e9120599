"""In a real browser, as an operator would: map attributes, import a catalog file, add the products to a
store, match them on Walmart (the emulator) and see the result after Refresh."""

import re

import pytest
from playwright.sync_api import expect

from listings.tasks import match_feeds_poll_task
from tests.conftest import PASSWORD
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory, catalog_group_join
from walmart_emulator import services as emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "s3cret-value-never-shown"
CATALOG = (
    "sku,name,brand,upc,price,quantity,shipping_weight\n"
    "MUG-1,Stoneware mug,Acme,036000291452,9.99,10,1.25\n"
    "MUG-2,Travel mug,Acme,012345678905,12.00,4,0.80\n"
    "MUG-3,Broken mug,Acme,036000291453,5.00,1,1.00\n"
)


@pytest.fixture
def shop(live_server, settings):
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0
    operator = catalog_group_join(UserFactory(username="shopkeeper"))  # imports the catalog
    store = StoreFactory(
        name="Shopkeeper's Walmart",
        environment="emulator",
        emulator_base_url=live_server.url + "/walmart-emulator",
        client_secret=SECRET,
    )
    StoreMembershipFactory(store=store, user=operator)
    emulator.seller_create(name="Shopkeeper", client_id=store.client_id, client_secret=SECRET)
    emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    return operator, store


def test_operator_imports_adds_and_matches(page, log_in, live_server, shop, tmp_path):
    operator, store = shop
    log_in(operator.username, PASSWORD)

    # Channel Settings -> Map Attributes: match on UPC
    page.goto(f"{live_server.url}/stores/{store.pk}/listings/")
    page.get_by_role("link", name="Channel Settings").click()
    page.get_by_role("link", name=re.compile("Map Attributes")).click()
    page.get_by_label("First choice").select_option("upc")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Attribute mapping saved.")).to_be_visible()

    # Import a CSV with two good rows and one with a wrong check digit
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG)
    page.goto(f"{live_server.url}/catalog/import/")
    page.get_by_label("Catalog file").set_input_files(str(catalog))
    page.get_by_role("button", name="Import").click()
    page.get_by_test_id("import-status").filter(has_text="Done").wait_for()
    expect(page.get_by_test_id("created-count")).to_have_text("2", use_inner_text=True)
    expect(page.get_by_test_id("error-count")).to_have_text("1", use_inner_text=True)
    error_cells = page.locator("#import-errors tbody tr").first.locator("td").all_inner_texts()
    assert error_cells == [
        "4",
        "MUG-3",
        "upc",
        "UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3.",
    ]

    # Add every product that matches the filter to the store
    page.get_by_role("link", name="Go to the catalog").click()
    page.get_by_label("Add to store").select_option(str(store.pk))
    page.get_by_label(re.compile("All 2 products that match this filter")).check()
    page.get_by_role("button", name="Add products").click()
    expect(page).to_have_url(f"{live_server.url}/stores/{store.pk}/listings/")
    expect(page.get_by_text("2 products added to Shopkeeper's Walmart in Draft.")).to_be_visible()
    expect(page.locator('.cards a[data-status="draft"] .count')).to_have_text("2", use_inner_text=True)

    # Select both Draft listings and match them on Walmart
    page.locator('.cards a[data-status="draft"]').click()
    for checkbox in page.locator('#listings input[name="listing"]').all():
        checkbox.check()
    page.get_by_label("Action").select_option("match")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("2 products sent for matching.")).to_be_visible()
    expect(page.locator('.cards a[data-status="processing"] .count')).to_have_text("2", use_inner_text=True)

    # The every-minute poll reads Walmart's results; Refresh products shows them
    match_feeds_poll_task()
    page.get_by_role("link", name="Refresh products").click()
    expect(page.locator('.cards a[data-status="match"] .count')).to_have_text("1", use_inner_text=True)
    expect(page.locator('.cards a[data-status="error"] .count')).to_have_text("1", use_inner_text=True)
    matched_row = page.locator('#listings tr[data-sku="MUG-1"]')
    expect(matched_row.get_by_test_id("status")).to_have_text("Match", use_inner_text=True)
    error_row = page.locator('#listings tr[data-sku="MUG-2"]')
    expect(error_row.get_by_test_id("status")).to_have_text("Error", use_inner_text=True)
    expect(error_row).to_contain_text("No item in the Walmart catalog matches UPC '012345678905'.", use_inner_text=True)
    expect(error_row).to_contain_text("No Walmart item has UPC 012345678905.", use_inner_text=True)
