"""The operator's time zone comes from a cookie the browser sets: any value a client sends must give a page,
never a 500 (a directory name such as `Europe` and a 4,000-character name used to)."""

import pytest
from django.urls import reverse

from channel_manager.timezones import TIMEZONE_NAME_MAX_LENGTH, timezone_resolve
from returns.services import return_upsert_from_walmart
from tests.returns.factories import return_json, shipped_order
from walmart_client.models import WalmartReturn

BAD_NAMES = {
    "a directory": "Europe",
    "4,000 characters": "x" * 4000,
    "trailing slash": "America/",
    "outside the zone path": "../../etc/passwd",
    "absolute path": "/etc/localtime",
    "NUL byte": "UTC\x00",
    "unknown": "Not/AZone",
}


@pytest.mark.parametrize(
    "name",
    [*BAD_NAMES.values(), "", None, "E" * (TIMEZONE_NAME_MAX_LENGTH + 1)],
    ids=[*BAD_NAMES, "empty", "none", "long"],
)
def test_a_name_that_is_not_a_known_zone_resolves_to_none(name):
    assert timezone_resolve(name) is None


def test_a_known_zone_resolves_to_it():
    assert str(timezone_resolve("America/New_York")) == "America/New_York"
    assert str(timezone_resolve("UTC")) == "UTC"


@pytest.fixture
def order_pages(store):
    order = shipped_order(store)
    stored_return, _ = return_upsert_from_walmart(store=store, remote=WalmartReturn.from_api(return_json()))
    return {
        "orders": reverse("orders:order_list", args=[store.pk]),
        "order detail": reverse("orders:order_detail", args=[store.pk, order.pk]),
        "ship": reverse("orders:order_ship", args=[store.pk, order.pk]),
        "cancel": reverse("orders:order_cancel", args=[store.pk, order.pk]),
        "returns": reverse("returns:return_list", args=[store.pk]),
        "return detail": reverse("returns:return_detail", args=[store.pk, stored_return.pk]),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_every_page_in_the_operators_time_zone_falls_back_to_time_zone_for_a_bad_cookie(
    operator_client, order_pages, cookie, settings
):
    # given: a tz cookie that names no zone
    settings.TIME_ZONE = "UTC"
    operator_client.cookies["tz"] = cookie
    # when / then: every page answers, its times in TIME_ZONE
    statuses = {name: operator_client.get(url).status_code for name, url in order_pages.items()}
    assert statuses == dict.fromkeys(order_pages, 200)
    assert "Times in UTC" in operator_client.get(order_pages["orders"]).content.decode()


@pytest.mark.django_db
def test_a_known_zone_in_the_cookie_is_used(operator_client, order_pages):
    operator_client.cookies["tz"] = "Asia/Tokyo"
    assert "Times in Asia/Tokyo" in operator_client.get(order_pages["orders"]).content.decode()
