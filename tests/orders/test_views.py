"""The Orders tab, the detail page and Channel Settings pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderLine, OrderSettings
from orders.services import order_status_counts_rebuild
from tests.orders.factories import ORDER_DATE

pytestmark = pytest.mark.django_db


def make_orders(store, count: int, **overrides) -> list[Order]:
    orders = Order.objects.bulk_create(
        [
            Order(
                store=store,
                purchase_order_id=f"PO-{index:05d}",
                customer_order_id=f"C-{index:05d}",
                commerce_order_number=f"WM{index:08d}",
                customer_name="Grace Hopper" if index % 2 else "Ada Lovelace",
                order_date=ORDER_DATE + timedelta(minutes=index),
                ship_by=ORDER_DATE + timedelta(days=2),
                order_total=Decimal(index),
                items_summary=f"SKU-{index} x 1",
                **overrides,
            )
            for index in range(count)
        ]
    )
    OrderLine.objects.bulk_create(
        [OrderLine(order=order, line_number="1", sku=f"SKU-{index}", quantity=1) for index, order in enumerate(orders)]
    )
    order_status_counts_rebuild(store=store)  # rows made without the services: recount the status cards
    return orders


def list_url(store, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("orders:order_list", args=[store.pk]) + (f"?{query}" if query else "")


def test_list_shows_adobes_columns_newest_first(operator_client, store):
    make_orders(store, 3)
    response = operator_client.get(list_url(store))
    assert response.status_code == 200
    html = response.content.decode()
    for column in (
        "Walmart Order #",
        "Commerce Order #",
        "Items",
        "Order Value",
        "Ordered",
        "Ship By",
        "Deliver By",
        "Ship Method",
        "Last Update",
        "Status",
        "Status Details",
    ):
        assert f">{column}" in html
    assert [order.purchase_order_id for order, _ in response.context["rows"]] == ["PO-00002", "PO-00001", "PO-00000"]


def test_status_cards_count_and_filter(operator_client, store):
    make_orders(store, 3)
    Order.objects.filter(purchase_order_id="PO-00001").update(status=Order.Status.SHIPPED)
    order_status_counts_rebuild(store=store)
    response = operator_client.get(list_url(store, status="shipped"))
    assert response.context["counts"] == {
        "open": 2,
        "shipped": 1,
        "partially_shipped": 0,
        "canceled": 0,
        "error": 0,
    }
    assert [order.purchase_order_id for order, _ in response.context["rows"]] == ["PO-00001"]
    assert response.context["page"].total == 1


@pytest.mark.parametrize(
    ("search", "expected"),
    [("PO-00003", ["PO-00003"]), ("WM00000002", ["PO-00002"]), ("C-00001", ["PO-00001"]), ("SKU-4", ["PO-00004"])],
)
def test_search_by_order_number_customer_order_or_sku(operator_client, store, search, expected):
    make_orders(store, 5)
    response = operator_client.get(list_url(store, q=search))
    assert [order.purchase_order_id for order, _ in response.context["rows"]] == expected


def test_search_by_customer_name(operator_client, store):
    make_orders(store, 4)
    response = operator_client.get(list_url(store, q="grace"))
    assert [order.purchase_order_id for order, _ in response.context["rows"]] == ["PO-00003", "PO-00001"]


def test_a_name_search_sorted_by_value_both_ways_pages_as_the_plain_query(operator_client, store):
    # given: 60 orders of two names, then one renamed and one completed from a provisional order (no name yet)
    orders = make_orders(store, 60)
    Order.objects.filter(pk=orders[7].pk).update(customer_name="Grace Lovelace")
    provisional = Order.objects.create(
        store=store, purchase_order_id="PO-P", commerce_order_number="WM-P", order_date=ORDER_DATE, provisional=True
    )
    provisional.customer_name, provisional.provisional, provisional.order_total = "Ada Hopper", False, Decimal(30)
    provisional.save()
    for search in ("grace", "LOVELACE", "hopper"):
        named = Order.objects.filter(store=store, customer_name__icontains=search)
        for sort, fields in (("value", ("order_total", "id")), ("-value", ("-order_total", "-id"))):
            plain = list(named.order_by(*fields).values_list("purchase_order_id", flat=True))
            for page in (1, 2, 5):
                # when
                response = operator_client.get(list_url(store, q=search, sort=sort, per_page=25, page=page))
                # then: the plain query's page (past the end: its last page), its exact total
                shown = min(page, -(-len(plain) // 25))
                rows = [order.purchase_order_id for order, _ in response.context["rows"]]
                assert rows == plain[(shown - 1) * 25 : shown * 25], (search, sort, page)
                assert response.context["page"].total.display == str(len(plain))


def test_sort_by_order_value_ascending(operator_client, store):
    make_orders(store, 3)
    response = operator_client.get(list_url(store, sort="value"))
    assert [order.purchase_order_id for order, _ in response.context["rows"]] == ["PO-00000", "PO-00001", "PO-00002"]


def test_sort_by_status_keeps_the_newest_first_within_a_status_and_reverses_whole(operator_client, store):
    make_orders(store, 4)
    Order.objects.filter(purchase_order_id__in=["PO-00000", "PO-00002"]).update(status=Order.Status.SHIPPED)
    ascending = operator_client.get(list_url(store, sort="status")).context["rows"]
    assert [order.purchase_order_id for order, _ in ascending] == ["PO-00003", "PO-00001", "PO-00002", "PO-00000"]
    descending = operator_client.get(list_url(store, sort="-status")).context["rows"]
    assert [order.purchase_order_id for order, _ in descending] == ["PO-00000", "PO-00002", "PO-00001", "PO-00003"]


def test_pagination_and_query_count_do_not_depend_on_page_size(operator_client, store):
    make_orders(store, 230)
    counts = {}
    for per_page in (25, 50, 100, 200):
        with CaptureQueriesContext(connection) as queries:
            response = operator_client.get(list_url(store, per_page=per_page, page=2))
        counts[per_page] = len(queries)
        page = response.context["page"]
        assert len(page.rows) == min(per_page, 230 - per_page)
        assert (page.number, page.total) == (2, 230)
    assert len(set(counts.values())) == 1, counts


def test_times_are_shown_in_the_operators_time_zone(operator_client, store):
    make_orders(store, 1)
    operator_client.cookies["tz"] = "America/Chicago"
    html = operator_client.get(list_url(store)).content.decode()
    assert "2026-11-20 09:00" in html  # 15:00 UTC
    assert "Times in America/Chicago" in html


def test_flags_on_the_list(operator_client, store):
    make_orders(store, 1)
    Order.objects.update(intent_to_cancel=True, ship_by=timezone.now() - timedelta(days=3, hours=12))
    html = operator_client.get(list_url(store)).content.decode()
    assert "Intent to cancel" in html
    assert "Late" in html
    assert "Auto-cancel risk" in html


def test_carrier_mapping_saves_and_refuses_a_duplicate(operator_client, store):
    url = reverse("orders:carrier_mapping", args=[store.pk])
    form = operator_client.get(url).context["form"]
    ups = next(name for name, carrier in form.carrier_names.items() if carrier == "UPS")
    fedex = next(name for name, carrier in form.carrier_names.items() if carrier == "FedEx")
    assert operator_client.post(url, {ups: "UPS Ground"}).status_code == 302
    assert OrderSettings.objects.get(store=store).carrier_mapping == {"UPS": "UPS Ground"}
    response = operator_client.post(url, {ups: "Same", fedex: "same"})
    assert response.status_code == 200
    assert OrderSettings.objects.get(store=store).carrier_mapping == {"UPS": "UPS Ground"}


def test_order_settings_refuse_polling_faster_than_a_minute(operator_client, store):
    url = reverse("orders:order_settings", args=[store.pk])
    data = {
        "commerce_order_prefix": "SHOP",
        "auto_acknowledge": "on",
        "poll_interval_seconds": 30,
        "poll_overlap_seconds": 600,
        "webhook_auth_method": "HMAC",
        "webhook_auth_header": "X-Walmart-Signature",
    }
    response = operator_client.post(url, data)
    assert response.status_code == 200
    assert "Poll at most once a minute" in response.content.decode()
    assert operator_client.post(url, {**data, "poll_interval_seconds": 120}).status_code == 302
    saved = OrderSettings.objects.get(store=store)
    assert (saved.commerce_order_prefix, saved.poll_interval_seconds) == ("SHOP", 120)


def test_return_requested_link_once_a_return_exists(operator_client, store):
    # given: a return linked to the second order
    orders = make_orders(store, 2)
    from returns.models import Return

    Return.objects.bulk_create([Return(store=store, order=orders[1], return_order_id="RMA-1")])
    # when
    response = operator_client.get(list_url(store))
    # then
    flagged = {order.purchase_order_id: order.has_return for order, _ in response.context["rows"]}
    assert flagged == {"PO-00001": True, "PO-00000": False}
    assert response.content.decode().count(">Return requested</a>") == 1
