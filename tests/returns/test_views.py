"""The Returns tab, the return detail with its Refund form, Channel Settings > Returns, and the admin."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockMovement
from returns.admin import RefundAdmin, ReturnAdmin
from returns.models import Refund, Return, ReturnSettings
from returns.services import RefundLineRequest, refund_create, return_upsert_from_walmart
from tests.returns.conftest import after_commit, calls_to, walmart_calls
from tests.returns.factories import return_json, return_line_json, returns_page, shipped_order
from walmart_client.models import WalmartReturn

pytestmark = pytest.mark.django_db


def store_return(store, rma="RMA-1", requested=None, lines=None, customer_order_id="C-PO-1") -> Return:
    data = return_json(rma=rma, lines=lines, customer_order_id=customer_order_id)
    if requested is not None:
        data = return_json(rma=rma, lines=lines, requested=requested, customer_order_id=customer_order_id)
    stored, _ = return_upsert_from_walmart(store=store, remote=WalmartReturn.from_api(data))
    return stored


def list_url(store, **query) -> str:
    url = reverse("returns:return_list", args=[store.pk])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def rmas(response) -> list[str]:
    return re.findall(r'<tr data-rma="([^"]+)">', response.content.decode())


def test_list_shows_adobes_columns_for_a_member(operator_client, store):
    order = shipped_order(store)
    store_return(store, requested=timezone.now() - timedelta(hours=2))
    response = operator_client.get(list_url(store))
    page = response.content.decode()
    assert response.status_code == 200
    headers = re.findall(r"<th>(?:<a [^>]*>)?([^<▲▼]+)", page.split('id="returns"')[1])
    assert [header.strip() for header in headers] == [
        "RMA #",
        "Commerce Order #",
        "Requested",
        "Return By",
        "Items",
        "Refund amount",
        "Auto-refund in",
        "Status",
        "Status Details",
    ]
    row = page.split('<tr data-rma="RMA-1">')[1].split("</tr>")[0]
    assert f">{order.commerce_order_number}</a>" in row
    assert '<td class="items">SKU-1 x 2</td>' in row
    assert "21.60 USD" in row
    assert '<span class="status status-received">Received</span>' in row
    assert "<span>1d 21h</span>" in row or "<span>1d 22h</span>" in row
    assert 'aria-current="page">Returns</a>' in page


def test_status_details_are_shown_whole_up_to_160_characters_then_cut(operator_client, store):
    store_return(store, rma="RMA-SHORT")
    store_return(store, rma="RMA-LONG", customer_order_id="C-PO-2")
    Return.objects.filter(return_order_id="RMA-SHORT").update(status="error", status_details="Refund 1 failed")
    Return.objects.filter(return_order_id="RMA-LONG").update(status="error", status_details="Walmart said " + "x" * 200)
    page = operator_client.get(list_url(store)).content.decode()
    short = page.split('<tr data-rma="RMA-SHORT">')[1].split("</tr>")[0]
    long = page.split('<tr data-rma="RMA-LONG">')[1].split("</tr>")[0]
    assert '<span class="status status-error">Error</span>' in short
    assert '<span class="error">Refund 1 failed</span>' in short
    assert '<span class="error">Walmart said ' + "x" * 146 + "…</span>" in long


def test_a_non_member_gets_404_everywhere(operator_client, other_store):
    stored = store_return(other_store)
    assert operator_client.get(list_url(other_store)).status_code == 404
    detail = reverse("returns:return_detail", args=[other_store.pk, stored.pk])
    assert operator_client.get(detail).status_code == 404
    assert operator_client.post(detail, {"reason": "Customer returned item"}).status_code == 404
    assert operator_client.post(reverse("returns:returns_poll", args=[other_store.pk])).status_code == 404
    assert Refund.objects.count() == 0


def test_a_return_of_another_store_is_404_under_my_store(operator_client, store, other_store):
    stored = store_return(other_store)
    assert operator_client.get(reverse("returns:return_detail", args=[store.pk, stored.pk])).status_code == 404


def test_status_cards_filter_and_count(operator_client, store):
    store_return(store, rma="RMA-1")
    refunded = store_return(store, rma="RMA-2", lines=[return_line_json(refunded=2)])
    assert refunded.status == "refunded"
    page = operator_client.get(list_url(store)).content.decode()
    cards = dict(re.findall(r'data-status="(\w+)"><span class="count">(\d+)</span>', page))
    assert cards == {"received": "1", "refunded": "1", "error": "0"}
    assert rmas(operator_client.get(list_url(store, status="refunded"))) == ["RMA-2"]
    assert rmas(operator_client.get(list_url(store, status="received"))) == ["RMA-1"]


def test_search_by_rma_order_number_and_sku(operator_client, store):
    store_return(store, rma="RMA-1")
    store_return(
        store,
        rma="RMA-2",
        customer_order_id="C-PO-2",
        lines=[return_line_json(sku="HOSE-9", po="PO-2")],
    )
    assert rmas(operator_client.get(list_url(store, q="RMA-2"))) == ["RMA-2"]
    assert rmas(operator_client.get(list_url(store, q="PO-1"))) == ["RMA-1"]
    assert rmas(operator_client.get(list_url(store, q="HOSE-9"))) == ["RMA-2"]
    assert rmas(operator_client.get(list_url(store, q="C-PO-2"))) == ["RMA-2"]


def test_search_by_part_of_the_customer_name_from_three_characters(operator_client, store):
    store_return(store, rma="RMA-1")
    assert rmas(operator_client.get(list_url(store, q="lovel"))) == ["RMA-1"]
    assert rmas(operator_client.get(list_url(store, q="Grace"))) == []
    # two characters: no name search (a trigram index serves three and more), only exact identifiers
    assert rmas(operator_client.get(list_url(store, q="Lo"))) == []


def test_a_name_search_sorted_by_amount_both_ways_pages_as_the_plain_query(operator_client, store):
    # given: 60 returns of three names, one renamed since, amounts repeating (ties broken by the id)
    for index in range(60):
        stored = store_return(store, rma=f"RMA-{index:02d}", customer_order_id=f"C-{index}")
        name = ["Ada Lovelace", "Grace Hopper", "Ada Hopper"][index % 3]
        Return.objects.filter(pk=stored.pk).update(customer_name=name, charged_total=Decimal(index % 4))
    Return.objects.filter(return_order_id="RMA-04").update(customer_name="Ken Thompson")
    for search in ("hopper", "ada", "thomp"):
        named = Return.objects.filter(store=store, customer_name__icontains=search)
        for sort, fields in (("amount", ("charged_total", "id")), ("-amount", ("-charged_total", "-id"))):
            plain = list(named.order_by(*fields).values_list("return_order_id", flat=True))
            for page in (1, 2, 5):
                # when
                response = operator_client.get(list_url(store, q=search, sort=sort, page=page))
                # then
                shown = min(page, -(-len(plain) // 25))
                assert rmas(response) == plain[(shown - 1) * 25 : shown * 25], (search, sort, page)


def test_sort_by_requested_both_ways(operator_client, store):
    now = timezone.now()
    store_return(store, rma="OLD", requested=now - timedelta(hours=30))
    store_return(store, rma="NEW", requested=now - timedelta(hours=1))
    assert rmas(operator_client.get(list_url(store))) == ["NEW", "OLD"]
    assert rmas(operator_client.get(list_url(store, sort="requested"))) == ["OLD", "NEW"]
    assert rmas(operator_client.get(list_url(store, sort="deadline"))) == ["OLD", "NEW"]


def test_sort_by_status_and_by_commerce_order(operator_client, store):
    now = timezone.now()
    store_return(store, rma="A", requested=now - timedelta(hours=3))
    store_return(store, rma="B", requested=now - timedelta(hours=2), lines=[return_line_json(refunded=2)])
    store_return(store, rma="C", requested=now - timedelta(hours=1))
    # received before refunded; within a status the newest first; descending reverses the whole order
    assert rmas(operator_client.get(list_url(store, sort="status"))) == ["C", "A", "B"]
    assert rmas(operator_client.get(list_url(store, sort="-status"))) == ["B", "A", "C"]
    # by commerce order: the orders' creation order (their numbers' sequence); a return without an order
    # (B) goes where the database puts NULLs
    first, second = shipped_order(store, po="PO-A"), shipped_order(store, po="PO-B")
    Return.objects.filter(return_order_id="C").update(order=first)
    Return.objects.filter(return_order_id="A").update(order=second)
    assert first.commerce_order_number < second.commerce_order_number
    assert [rma for rma in rmas(operator_client.get(list_url(store, sort="commerce_order"))) if rma != "B"] == [
        "C",
        "A",
    ]


def test_pagination_costs_the_same_queries_whatever_the_page_size(operator_client, store):
    for number in range(30):
        store_return(store, rma=f"RMA-{number:02d}")
    with CaptureQueriesContext(connection) as small:
        first = operator_client.get(list_url(store, per_page=25))
    with CaptureQueriesContext(connection) as large:
        operator_client.get(list_url(store, per_page=100))
    assert len(rmas(first)) == 25
    assert "1–25 of 30 · page 1 of 2" in first.content.decode()
    assert len(rmas(operator_client.get(list_url(store, per_page=25, page=2)))) == 5
    assert len(small.captured_queries) == len(large.captured_queries)


def test_returns_close_to_the_auto_refund_are_flagged(operator_client, store):
    now = timezone.now()
    store_return(store, rma="CLOSE", requested=now - timedelta(hours=40))
    store_return(store, rma="LATE", requested=now - timedelta(hours=49))
    store_return(store, rma="CALM", requested=now - timedelta(hours=1))
    page = operator_client.get(list_url(store)).content.decode()
    flags = dict(re.findall(r'<tr data-rma="(\w+)">.*?<td class="deadline">(.*?)</td>', page, re.S))
    assert flags["CLOSE"] in (
        '<span class="status status-error" data-flag="close">7h 59m</span>',
        '<span class="status status-error" data-flag="close">8h 0m</span>',
    )
    assert flags["LATE"] == '<span class="status status-error" data-flag="overdue">overdue</span>'
    assert flags["CALM"].startswith("<span>1d 2")
    assert "<strong>2 returns</strong> not refunded yet are less than 12 hours from Walmart's automatic refund" in page


def test_operator_refunds_through_the_form(operator_client, store, listed_product, walmart_api, api_base):
    # given
    shipped_order(store)
    stored = store_return(store)
    line = stored.lines.get()
    walmart_api.add(responses.POST, f"{api_base}/v3/returns/RMA-1/refund", json={})
    detail = reverse("returns:return_detail", args=[store.pk, stored.pk])
    form_page = operator_client.get(detail).content.decode()
    assert f'name="quantity_{line.pk}"' in form_page
    assert 'name="csrfmiddlewaretoken"' in form_page
    # when: 1 unit, back to stock
    with after_commit():
        response = operator_client.post(
            detail, {"reason": "Customer returned item", f"quantity_{line.pk}": "1", f"stock_{line.pk}": "on"}
        )
    # then
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.status, refund.total, refund.created_by.username) == ("sent", Decimal("10.80"), "operator")
    listed_product.refresh_from_db()
    assert listed_product.quantity == 9
    page = operator_client.get(detail).content.decode()
    assert f"Refund {refund.pk} of 10.80 USD: Pending." in page  # the push runs after commit, in a worker
    row = page.split(f'<tr data-refund="{refund.pk}">')[1].split("</tr>")[0]
    assert '<span class="status status-sent">Sent</span>' in row
    assert "SKU-1 × 1 (to stock)" in row
    assert "Partially refunded: 1 of 2 units." in page


def test_a_refused_refund_shows_the_message_and_writes_nothing(operator_client, store, listed_product, walmart_api):
    shipped_order(store)
    stored = store_return(store)
    line = stored.lines.get()
    detail = reverse("returns:return_detail", args=[store.pk, stored.pk])
    with after_commit():
        response = operator_client.post(
            detail, {"reason": "Customer returned item", f"quantity_{line.pk}": "5", f"stock_{line.pk}": "on"}
        )
    assert response.status_code == 200
    assert (
        "Line 1 (SKU-1): cannot refund 5; only 2 of the 2 returned units can still be refunded "
        "(0 refunded, 0 in progress)." in response.content.decode()
    )
    assert Refund.objects.count() == 0
    assert StockMovement.objects.filter(reason=StockMovement.Reason.RETURN_TO_STOCK).count() == 0
    assert walmart_calls(walmart_api) == []


def test_read_now_and_reread_buttons(operator_client, store, walmart_api, api_base):
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    response = operator_client.post(reverse("returns:returns_poll", args=[store.pk]), follow=True)
    assert "Returns read from Walmart: 1 new, 0 updated." in response.content.decode()
    stored = Return.objects.get()
    response = operator_client.post(reverse("returns:return_refresh", args=[store.pk, stored.pk]), follow=True)
    assert "Return RMA-1 re-read from Walmart." in response.content.decode()
    assert calls_to(walmart_api, "GET", "/v3/returns")[1].request.url.endswith("returnOrderId=RMA-1")


def test_settings_change_the_interval_and_refuse_less_than_a_minute(operator_client, store):
    url = reverse("returns:return_settings", args=[store.pk])
    response = operator_client.post(url, {"poll_interval_seconds": 300, "poll_overlap_seconds": 600})
    assert response.status_code == 302
    assert ReturnSettings.objects.values_list("poll_interval_seconds", "poll_overlap_seconds").get() == (300, 600)
    response = operator_client.post(url, {"poll_interval_seconds": 10, "poll_overlap_seconds": 600})
    assert "Read returns at most once a minute (60 seconds or more)." in response.content.decode()
    assert ReturnSettings.objects.get().poll_interval_seconds == 300
    settings_page = operator_client.get(reverse("store_settings", args=[store.pk])).content.decode()
    assert url in settings_page


def test_admin_retries_failed_refunds_and_rereads_returns(rf, superuser, store, walmart_api, api_base):
    # given: one failed refund and one sent refund
    stored = store_return(store, lines=[return_line_json(quantity=3)])
    line = stored.lines.get()
    failed = refund_create(return_order=stored, lines=[RefundLineRequest(line.pk, 1)])[0]
    sent = refund_create(return_order=stored, lines=[RefundLineRequest(line.pk, 1)])[0]
    Refund.objects.filter(pk=failed.pk).update(status="error", error="boom")
    Refund.objects.filter(pk=sent.pk).update(status="sent")
    walmart_api.add(responses.POST, f"{api_base}/v3/returns/RMA-1/refund", json={})
    walmart_api.add(responses.GET, f"{api_base}/v3/returns", json=returns_page([return_json()]))
    request = rf.post("/admin/")
    request.user = superuser
    sent_messages = []
    refund_admin = RefundAdmin(Refund, site)
    refund_admin.message_user = lambda request, message, level=None: sent_messages.append(message)
    # when
    with after_commit():
        refund_admin.retry_selected(request, Refund.objects.all())
    return_admin = ReturnAdmin(Return, site)
    return_admin.message_user = lambda request, message, level=None: sent_messages.append(message)
    return_admin.reread_selected(request, Return.objects.all())
    # then
    assert sent_messages == ["1 refund queued again.", "1 return re-read."]
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert len(calls_to(walmart_api, "POST", "/v3/returns/RMA-1/refund")) == 1


def test_operator_returns_units_to_stock_without_a_refund(operator_client, store, listed_product):
    # given: Walmart refunded the return itself
    shipped_order(store)
    stored = store_return(store, lines=[return_line_json(refunded=2, refund_channel="AUTO")])
    detail = reverse("returns:return_detail", args=[store.pk, stored.pk])
    page = operator_client.get(detail).content.decode()
    assert 'id="nothing-to-refund"' in page
    assert '<details class="card" id="restock" open>' in page
    # when
    line = stored.lines.get()
    response = operator_client.post(
        reverse("returns:return_restock", args=[store.pk, stored.pk]), {f"restock_{line.pk}": "2"}, follow=True
    )
    # then
    assert "2 units returned to stock." in response.content.decode()
    listed_product.refresh_from_db()
    assert listed_product.quantity == 10
    response = operator_client.post(
        reverse("returns:return_restock", args=[store.pk, stored.pk]), {f"restock_{line.pk}": "1"}, follow=True
    )
    assert "Line 1 (SKU-1): only 0 of the 2 returned units are not back in stock yet; 1 asked." in (
        response.content.decode()
    )
    listed_product.refresh_from_db()
    assert listed_product.quantity == 10


def test_an_amount_above_what_was_paid_is_refused_on_the_page(operator_client, store, walmart_api):
    # given: a FREIGHT item (outside Walmart's returns program), so the form offers an amount
    stored = store_return(store, lines=[return_line_json(exception_type="FREIGHT")])
    line = stored.lines.get()
    detail = reverse("returns:return_detail", args=[store.pk, stored.pk])
    assert f'name="amount_{line.pk}"' in operator_client.get(detail).content.decode()
    # when
    response = operator_client.post(
        detail, {"reason": "Customer returned item", f"quantity_{line.pk}": "1", f"amount_{line.pk}": "10.81"}
    )
    # then
    assert response.status_code == 200
    assert (
        "Line 1 (SKU-1): 10.81 is more than was paid for 1 unit (10.80 = item price 10.00 + tax 0.80); "
        "a refund can never exceed what was charged." in response.content.decode()
    )
    assert Refund.objects.count() == 0
    assert walmart_calls(walmart_api) == []
