"""The order poll's watermark: exact values, not just "it moved"."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from orders.models import OrderSettings
from orders.services import order_poll
from tests.orders.conftest import after_commit, calls_to
from tests.orders.factories import orders_page

pytestmark = pytest.mark.django_db


def query(call) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(call.request.url).query).items()}


def test_the_watermark_is_the_polls_start_and_the_next_window_starts_exactly_overlap_before_it(
    store, walmart_api, api_base, order_settings
):
    # given: Walmart lists no order; a watermark with milliseconds, and a 120 s overlap
    walmart_api.add(responses.GET, f"{api_base}/v3/orders", json=orders_page([]))
    walmart_api.add(responses.GET, f"{api_base}/v3/orders/released", status=404, json={})
    watermark = datetime(2026, 12, 1, 10, 0, 0, 250_000, tzinfo=UTC)
    OrderSettings.objects.filter(pk=order_settings.pk).update(polled_through=watermark, poll_overlap_seconds=120)
    # when: polled twice
    with after_commit():
        first = order_poll(store=store)
    order_settings.refresh_from_db()
    first_started, first_watermark = order_settings.last_poll_started_at, order_settings.polled_through
    with after_commit():
        second = order_poll(store=store)
    order_settings.refresh_from_db()
    # then: the first window starts exactly `overlap` before the stored watermark, and Walmart is asked from
    # exactly there
    assert first.window_start == datetime(2026, 12, 1, 9, 58, 0, 250_000, tzinfo=UTC)
    first_list, second_list = calls_to(walmart_api, "GET", "/v3/orders")
    assert query(first_list)["lastModifiedStartDate"] == "2026-12-01T09:58:00.250Z"
    # and: the watermark becomes exactly the poll's start (not its end, not the window's start)
    assert first_watermark == first_started
    # and: the second window starts exactly `overlap` before that
    assert second.window_start == first_started - timedelta(seconds=120)
    expected = (first_started - timedelta(seconds=120)).astimezone(UTC)
    assert query(second_list)["lastModifiedStartDate"] == (
        expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expected.microsecond // 1000:03d}Z"
    )
    # and: the released queue covers exactly the orders created before the window
    first_released = calls_to(walmart_api, "GET", "/v3/orders/released")[0]
    assert query(first_released)["createdEndDate"] == "2026-12-01T09:58:00.250Z"
    assert order_settings.polled_through == order_settings.last_poll_started_at
