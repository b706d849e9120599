"""Intake of Walmart's returns: upsert on (store, return_order_id), linked to the order, overlapping
windows, and refunds Walmart made on its own pulled back without a second refund."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from django.urls import reverse
from django.utils import timezone

from returns.models import Refund, Return, ReturnLine, ReturnSettings
from returns.services import RefundLineRequest, refund_create, returns_poll, stores_poll_due
from tests.returns.conftest import calls_to, walmart_calls
from tests.returns.factories import REQUESTED, return_json, return_line_json, returns_page, shipped_order
from walmart_client.errors import WalmartConnectionError

pytestmark = pytest.mark.django_db


def test_first_intake_stores_the_return_linked_to_its_order_and_lines(store, walmart_api, api_base):
    # given: PO-1 is stored (2 units of SKU-1 shipped) and Walmart lists one return of both units
    order = shipped_order(store)
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    # when
    result = returns_poll(store=store)
    # then
    assert (result.created, result.updated) == (1, 0)
    stored = Return.objects.get()
    assert (stored.return_order_id, stored.customer_order_id, stored.purchase_order_id) == ("RMA-1", "C-PO-1", "PO-1")
    assert stored.order == order
    assert stored.requested_at == REQUESTED
    assert stored.return_by == REQUESTED + timedelta(days=30)
    assert stored.refund_deadline == REQUESTED + timedelta(hours=48)
    assert (stored.status, stored.charged_total, stored.items_summary) == ("received", Decimal("21.60"), "SKU-1 x 2")
    line = stored.lines.get()
    assert line.order_line == order.lines.get()
    assert (line.quantity, line.unit_price, line.unit_tax, line.item_price, line.tax) == (
        2,
        Decimal("10.00"),
        Decimal("0.80"),
        Decimal("20.00"),
        Decimal("1.60"),
    )
    assert list(order.returns.all()) == [stored]
    assert stored.events.get().message == "Return RMA-1 received from Walmart: SKU-1 x 2."


def test_second_intake_updates_instead_of_duplicating(store, walmart_api, api_base):
    # given: a first read stored RMA-1
    shipped_order(store)
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    returns_poll(store=store)
    # when: Walmart lists it again, now with a second line
    walmart_api.replace(
        responses.GET,
        f"{api_base}/v3/returns",
        json=returns_page(
            [return_json(lines=[return_line_json(), return_line_json(number=2, sku="SKU-2", quantity=1)])]
        ),
    )
    result = returns_poll(store=store)
    # then: still one return, now with two lines, no second "received" event
    assert (result.created, result.updated) == (0, 1)
    assert Return.objects.count() == 1
    assert list(ReturnLine.objects.values_list("return_order_line_number", "sku", "quantity")) == [
        (1, "SKU-1", 2),
        (2, "SKU-2", 1),
    ]
    assert Return.objects.get().items_summary == "SKU-1 x 2, SKU-2 x 1"
    assert Return.objects.get().events.count() == 1


def test_each_window_overlaps_the_previous_one(store, walmart_api, api_base):
    # given: a first read set the watermark
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([]))
    returns_poll(store=store)
    return_settings = ReturnSettings.objects.get(store=store)
    watermark = return_settings.polled_through
    # when
    result = returns_poll(store=store)
    # then: the second window starts the overlap (30 minutes) before the first read's start
    assert result.window_start == watermark - timedelta(seconds=1800)
    query = parse_qs(urlparse(calls_to(walmart_api, "GET", "/v3/returns")[1].request.url).query)
    assert query["returnLastModifiedStartDate"] == [result.window_start.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"]
    assert query["limit"] == ["200"]


def test_a_failed_read_keeps_the_watermark_and_records_the_error(store, walmart_api, api_base):
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([]))
    returns_poll(store=store)
    watermark = ReturnSettings.objects.get(store=store).polled_through
    walmart_api.replace(responses.GET, f"{api_base}/v3/returns", body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(WalmartConnectionError):
        returns_poll(store=store)
    return_settings = ReturnSettings.objects.get(store=store)
    assert return_settings.polled_through == watermark
    assert return_settings.last_poll_error == "No response from Walmart (ConnectionError)"


def test_a_return_before_its_order_links_once_the_order_arrives(store, walmart_api, api_base):
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    returns_poll(store=store)
    assert Return.objects.get().order is None
    order = shipped_order(store)
    returns_poll(store=store)
    stored = Return.objects.get()
    assert stored.order == order
    assert stored.lines.get().order_line == order.lines.get()


def test_auto_refund_on_walmarts_side_ends_as_refunded_and_cancels_the_pending_refund(store, walmart_api, api_base):
    # given: RMA-1 stored, and an operator's refund of 1 unit saved but not sent yet
    shipped_order(store)
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    returns_poll(store=store)
    stored = Return.objects.get()
    refund = refund_create(return_order=stored, lines=[RefundLineRequest(stored.lines.get().pk, 1)])[0]
    # when: the deadline passed and Walmart refunded both units itself
    walmart_api.replace(
        responses.GET,
        f"{api_base}/v3/returns",
        json=returns_page([return_json(lines=[return_line_json(refunded=2, refund_channel="AUTO")])]),
    )
    returns_poll(store=store)
    # then: Refunded by Walmart; our refund cancelled and never sent
    stored.refresh_from_db()
    assert (stored.status, stored.status_details) == ("refunded", "Refunded by Walmart on its own (auto-refund).")
    assert stored.refunded_total == Decimal("21.60")
    assert stored.refunded_by_walmart is True
    line = stored.lines.get()
    assert (line.refunded_quantity, line.refunded_by_walmart_quantity) == (2, 2)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.CANCELLED
    assert refund.error == "Walmart already refunded SKU-1 (line 1) on its own; this refund was not sent."
    # and pushing it now sends nothing
    from returns.services import refund_push

    refund_push(refund_id=refund.pk)
    assert calls_to(walmart_api, "POST", "/v3/returns/RMA-1/refund") == []
    assert [call.request.method for call in walmart_calls(walmart_api)] == ["GET", "GET"]
    assert (
        stored.events.filter(
            message="Walmart refunded 2 units of SKU-1 on its own (auto-refund or Seller Center)."
        ).count()
        == 1
    )


def test_order_detail_shows_return_requested(operator_client, store, walmart_api, api_base):
    order = shipped_order(store)
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    returns_poll(store=store)
    page = operator_client.get(reverse("orders:order_detail", args=[store.pk, order.pk])).content.decode()
    list_url = reverse("returns:return_list", args=[store.pk])
    assert f'<a href="{list_url}?q=PO-1" id="return-requested">Return requested</a> (1)' in page


def test_stores_are_due_at_their_own_interval(store, other_store):
    # given: store read 10 minutes ago with the default 15-minute interval, other_store never read
    ReturnSettings.objects.create(store=store, last_poll_started_at=timezone.now() - timedelta(minutes=10))
    assert stores_poll_due() == [other_store.pk]
    # when its interval is 5 minutes, it is due too
    ReturnSettings.objects.filter(store=store).update(poll_interval_seconds=300)
    assert sorted(stores_poll_due()) == sorted([store.pk, other_store.pk])
    # and a store with returns sync off is never due
    other_store.returns_enabled = False
    other_store.save()
    assert stores_poll_due() == [store.pk]


def test_the_every_minute_task_reads_only_the_stores_that_are_due(store, other_store, walmart_api, api_base):
    from returns.tasks import returns_poll_due_task

    # given: other_store has returns sync off; store was never read
    other_store.returns_enabled = False
    other_store.save()
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    # when: the beat task runs twice in a row
    assert returns_poll_due_task() == 1
    assert returns_poll_due_task() == 0
    # then: one read of Walmart, one return stored
    assert len(calls_to(walmart_api, "GET", "/v3/returns")) == 1
    assert list(Return.objects.values_list("store_id", "return_order_id")) == [(store.pk, "RMA-1")]
