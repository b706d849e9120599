"""Onboarding reads end to end: the real client against the emulator over HTTP (Django's live server): a seller
with pre-existing items listed by cursor, the ITEM report requested, followed and streamed, inventories with
Walmart's three quantities, store live from the partner profile, item event types."""

import pytest

from tests.walmart_emulator.live import live_server_threads_wait, make_client
from walmart_client import WalmartRateLimited, WalmartReportNotReady
from walmart_emulator import services
from walmart_emulator.models import Offer
from walmart_emulator.seeding import seed_plan, seller_items_seed

pytestmark = pytest.mark.django_db(transaction=True)


def test_items_and_the_item_report_give_the_same_catalog(live_client, http_seller):
    client = live_client
    seller_items_seed(seller=http_seller, count=700, seed=9)
    plan = list(seed_plan(count=700, seed=9))
    # when
    listed = list(client.items.iter_all(page_size=200))
    requested = client.reports.request_item_report()
    status = client.reports.status(requested.request_id)
    rows = list(client.reports.download(requested.request_id))
    # then
    assert [item.sku for item in listed] == [item.sku for item in plan]
    assert [row.sku for row in rows] == [item.sku for item in plan]
    assert status.is_ready
    by_sku = {row.sku: row for row in rows}
    for item in plan:
        row = by_sku[item.sku]
        assert (row.item_id, row.gtin, row.price, row.published_status, row.lifecycle_status) == (
            item.item_id,
            item.gtin,
            item.price,
            item.published_status,
            item.lifecycle_status,
        )
        assert row.status_change_reason == (item.unpublished_reason or None)
    listed_item = next(entry for entry in listed if entry.sku == plan[0].sku)
    assert (listed_item.gtin, listed_item.price) == (plan[0].gtin, plan[0].price)


def test_a_report_is_not_downloadable_before_it_is_ready(live_server, http_seller, settings):
    settings.WALMART_EMULATOR_REPORT_DELAY_SECONDS = 600
    client = make_client(live_server, http_seller)
    requested = client.reports.request_item_report()
    with pytest.raises(WalmartReportNotReady) as raised:
        list(client.reports.download(requested.request_id))
    assert raised.value.request_status == "RECEIVED"
    with pytest.raises(WalmartRateLimited):  # once an hour per report type
        client.reports.request_item_report()
    assert [entry.request_id for entry in client.reports.iter_requests("ITEM")] == [requested.request_id]
    client.close()
    live_server_threads_wait()


def test_inventories_report_input_reserved_and_available(live_client, http_seller):
    client = live_client
    seller_items_seed(seller=http_seller, count=60, seed=6)
    sku = Offer.objects.filter(seller=http_seller, published_status="PUBLISHED", quantity__gte=3).order_by("pk")[0].sku
    input_qty = Offer.objects.get(seller=http_seller, sku=sku).quantity
    services.order_simulate(seller=http_seller, lines=[(sku, 2)])
    # when
    inventories = {row.sku: row for row in client.inventory.iter_all(page_size=7)}
    # then
    assert len(inventories) == 60
    row = inventories[sku]
    assert (row.quantity, row.reserved, row.available_to_sell, row.ship_node) == (
        input_qty,
        2,
        input_qty - 2,
        http_seller.ship_node,
    )
    assert client.inventory.get(sku).quantity == input_qty


def test_store_live_and_item_event_types(live_client, http_seller):
    client = live_client
    assert client.settings.partner_profile().is_store_live is True
    http_seller.is_live = False
    http_seller.save()
    assert client.settings.partner_profile().is_store_live is False
    assert [(event.resource_name, event.event_type) for event in client.notifications.item_event_types()] == [
        ("ITEM", "OFFER_PUBLISHED"),
        ("ITEM", "OFFER_UNPUBLISHED"),
        ("PRICE", "BUY_BOX_CHANGED"),
    ]
