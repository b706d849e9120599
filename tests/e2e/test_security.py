"""In a real browser, under the Content-Security-Policy (the `page` fixture fails a test on any violation
in the console): admin pages work, the Orders page sets the operator's time-zone cookie from its static
script, and a locked-out log-in shows why."""

import pytest
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_pages_raise_no_policy_violation(page, live_server):
    # given: ops staff logging in through the admin's own form
    UserFactory(username="ops", is_staff=True, is_superuser=True)
    store = StoreFactory(name="Admin store")
    task = PeriodicTask.objects.order_by("pk").first()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    # when / then: each page loads its scripts and works (the fixture checks the console)
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto(f"{live_server.url}/admin/channel_manager/store/{store.pk}/change/")
    expect(page.locator("#id_name")).to_have_value("Admin store")
    page.goto(f"{live_server.url}/admin/channel_manager/store/")
    expect(page.get_by_role("link", name="Admin store")).to_be_visible()
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/{task.pk}/change/")
    expect(page.locator("#id_name")).to_have_value(task.name)


def test_orders_page_sets_the_time_zone_cookie_from_its_static_script(page, log_in, live_server):
    operator = UserFactory(username="shopkeeper")
    store = StoreFactory(name="Shop")
    StoreMembershipFactory(store=store, user=operator)
    page.context.clear_cookies()
    log_in(operator.username, PASSWORD)
    page.goto(f"{live_server.url}/stores/{store.pk}/orders/")
    expect(page.locator("main")).to_contain_text("Times in")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies["tz"] != ""


def test_a_locked_out_log_in_says_so(page, log_in, live_server):
    UserFactory(username="shopkeeper")
    for _ in range(5):
        log_in("shopkeeper", "wrong")
    log_in("shopkeeper", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed log-in attempts for shopkeeper: log-in is locked for 15 minutes, even with the right password."
    )
    expect(page.get_by_role("link", name="Back to log in")).to_be_visible()
