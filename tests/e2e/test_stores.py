"""In a real browser: log in, see the Stores page, open a store; a non-member gets 404; a wrong password
is refused."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(transactional_db):
    """An operator who is a member of one store; another store they are not a member of."""
    operator = UserFactory(username="shopkeeper")
    store = StoreFactory(name="Shopkeeper's Walmart", client_id="shop-client")
    StoreMembershipFactory(store=store, user=operator)
    other = StoreFactory(name="Not yours")
    return operator, store, other


def test_operator_logs_in_and_sees_their_store(page, log_in, live_server, shop):
    operator, store, other = shop
    # when
    log_in(operator.username, PASSWORD)
    # then
    expect(page).to_have_url(f"{live_server.url}/stores/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Channel Manager Marketplace Stores", use_inner_text=True)
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").first).to_have_text("Shopkeeper's Walmart", use_inner_text=True)
    expect(page.get_by_text("Not yours")).to_have_count(0)
    # when: the eye icon opens the store, then Channel Settings -> Walmart Connection
    page.get_by_label("View Shopkeeper's Walmart").click()
    page.get_by_role("link", name="Channel Settings").click()
    page.get_by_role("link", name=re.compile("Walmart Connection")).click()
    # then
    expect(page).to_have_url(f"{live_server.url}/stores/{store.pk}/settings/connection/")
    expect(page.locator("dl.facts code").first).to_have_text("shop-client", use_inner_text=True)
    assert "s3cret-value-never-shown" not in page.content()


def test_non_member_gets_404_on_another_stores_pages(page, log_in, live_server, shop):
    operator, store, other = shop
    log_in(operator.username, PASSWORD)
    for path in (f"/stores/{other.pk}/", f"/stores/{other.pk}/settings/", f"/stores/{other.pk}/settings/connection/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
        assert "Not yours" not in page.content()


def test_wrong_password_shows_the_error_and_stays_logged_out(page, log_in, live_server, shop):
    operator, store, other = shop
    log_in(operator.username, "not the password")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("alert")).to_have_text(
        "Your username and password didn't match. Please try again.", use_inner_text=True
    )
    response = page.goto(f"{live_server.url}/stores/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/stores/")
    assert response.status == 200


def test_operator_adds_a_store_and_the_secret_is_never_shown(page, log_in, live_server, shop):
    operator, store, other = shop
    log_in(operator.username, PASSWORD)
    # when
    page.get_by_role("link", name="Add store").click()
    page.get_by_label("Store name").fill("Second Walmart")
    page.locator("#id_environment").select_option("sandbox")
    page.get_by_label("Client ID").fill("second-client")
    page.get_by_label("Client Secret").fill("typed-secret-789")
    page.get_by_role("button", name="Save Store").click()
    # then: on the new store's Walmart Connection page, the secret masked
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/stores/\d+/settings/connection/$"))
    expect(page.get_by_role("status")).to_have_text(
        "Store Second Walmart added. Test its connection to Walmart.", use_inner_text=True
    )
    assert "typed-secret-789" not in page.content()
    page.get_by_role("link", name="Marketplace Stores").first.click()
    names = page.locator("table.grid tbody tr td:first-child").all_inner_texts()
    assert names == ["Second Walmart", "Shopkeeper's Walmart"]


def test_test_connection_against_the_emulator_then_wrong_credentials(page, log_in, live_server, shop):
    # given: a store whose credentials are those of a seller on the emulator (served by the live server)
    from walmart_emulator.services import seller_create

    operator, store, other = shop
    seller = seller_create(name="E2E seller")
    store.emulator_base_url = f"{live_server.url}/walmart-emulator"
    store.client_id = seller.client_id
    store.client_secret = seller.client_secret
    store.save()
    log_in(operator.username, PASSWORD)
    page.goto(f"{live_server.url}/stores/{store.pk}/settings/connection/")
    # when
    page.get_by_role("button", name="Test connection").click()
    # then
    expect(page.get_by_role("status")).to_have_text("Connected to Walmart.", use_inner_text=True)
    expect(page.locator("dl.facts .status")).to_have_text("Connected", use_inner_text=True)
    # when: credentials are changed to ones Walmart does not know, and tested again
    page.get_by_text("Change Credentials").click()
    page.locator("#id_environment").select_option("emulator")
    page.get_by_label("Client ID").fill("unknown-client-id")
    page.get_by_label("Client Secret").fill("wrong-secret")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.facts .status")).to_have_text("Not tested", use_inner_text=True)
    page.get_by_role("button", name="Test connection").click()
    # then
    assert (
        page.get_by_role("status")
        .inner_text()
        .startswith("Walmart did not accept the connection: Walmart rejected the Client ID / Client Secret")
    )
    expect(page.locator("dl.facts .status")).to_have_text("Error", use_inner_text=True)
    assert "wrong-secret" not in page.content()
