"""The Sync page, the dry-run preview (which must match what is then sent) and the sync settings page."""

import json
from decimal import Decimal
from urllib.parse import urlparse

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channel_manager.models import Feed
from listings.models import Product
from pricing.models import PriceRule
from sync.models import StoreSyncSettings
from sync.services import sync_run
from tests.inventory.factories import listings_create

pytestmark = pytest.mark.django_db


def writes(walmart):
    return [c for c in walmart.calls if c.request.method in {"PUT", "POST"} and "/v3/token" not in c.request.url]


def test_the_preview_matches_what_is_then_sent(walmart, base_url, store, operator_client):
    # given: the inventory stream is still off; three changes, one to zero; one single call per run
    store.inventory_enabled = False
    store.save()
    StoreSyncSettings.objects.create(store=store, single_calls_per_tick=1)
    listings_create(store, 3, quantity=4, confirmed_quantity=5)
    Product.objects.filter(sku="SKU-000002").update(quantity=0)
    walmart.add(responses.PUT, f"{base_url}/v3/inventory", json={"sku": "SKU-000002"})
    walmart.add(responses.POST, f"{base_url}/v3/feeds", json={"feedId": "F-1"})
    # when
    response = operator_client.get(reverse("sync:sync_preview_json", args=[store.pk, "inventory"]))
    page = operator_client.get(reverse("sync:sync_preview", args=[store.pk]))
    # then: the preview, and nothing was sent
    preview = response.json()
    assert preview["enabled"] is False
    assert preview["singles"] == [{"sku": "SKU-000002", "value": "0"}]
    assert preview["feeds"] == [
        {
            "InventoryHeader": {"version": "1.4"},
            "Inventory": [
                {"sku": "SKU-000000", "quantity": {"unit": "EACH", "amount": 4}},
                {"sku": "SKU-000001", "quantity": {"unit": "EACH", "amount": 4}},
            ],
        }
    ]
    assert page.status_code == 200
    assert "to zero: urgent" in page.content.decode()
    assert writes(walmart) == []
    assert not Feed.objects.exists()
    # when: the operator switches the stream on and the next run comes
    store.inventory_enabled = True
    store.save()
    sync_run(store=store, stream="inventory")
    # then: exactly what the preview showed, in the same order
    sent = writes(walmart)
    assert [c.request.method for c in sent] == ["PUT", "POST"]
    body = json.loads(sent[0].request.body)
    assert [{"sku": body["sku"], "value": str(body["quantity"]["amount"])}] == preview["singles"]
    file_part = sent[1].request.body
    assert json.loads(file_part[file_part.index(b"{") : file_part.rindex(b"}") + 1]) == preview["feeds"][0]
    assert Feed.objects.get().payload == preview["feeds"][0]


def test_the_sync_page_shows_catalog_vs_walmart_values_feeds_and_budget(walmart, store, operator_client):
    # given: one listing pending (catalog 3, Walmart 5) with a price error, one in sync
    pending, in_sync = listings_create(store, 2, quantity=3, confirmed_quantity=3)
    pending.confirmed_quantity = 5
    pending.price_error = "ERR_PDI_0034: Price too high"
    pending.save()
    Feed.objects.create(store=store, feed_type="inventory", walmart_feed_id="F-77", status="PROCESSED", item_count=12)
    # when
    response = operator_client.get(reverse("sync:sync_dashboard", args=[store.pk]))
    # then
    assert response.status_code == 200
    rows = {row.listing.pk: row for row in response.context["rows"]}
    assert (rows[pending.pk].desired_quantity, rows[pending.pk].quantity_pending) == (3, True)
    assert (rows[in_sync.pk].desired_quantity, rows[in_sync.pk].quantity_pending) == (3, False)
    inventory = response.context["streams"][0]
    assert inventory["planned"].plan.summary()["changes"] == 1
    html = response.content.decode()
    assert "ERR_PDI_0034: Price too high" in html
    assert "F-77" in html
    assert "Single inventory updates" in html
    assert writes(walmart) == []


def test_the_errors_filter_keeps_only_listings_with_an_error(walmart, store, operator_client):
    first, second = listings_create(store, 2)
    second.inventory_error = "boom"
    second.save()
    response = operator_client.get(reverse("sync:sync_dashboard", args=[store.pk]) + "?only=errors")
    assert [row.listing.pk for row in response.context["rows"]] == [second.pk]


def dashboard_queries(operator_client, url):
    with CaptureQueriesContext(connection) as queries:
        response = operator_client.get(url)
    assert response.status_code == 200
    return response, len(queries)


def test_the_sync_page_pages_by_id_and_costs_the_same_queries_at_any_size(walmart, store, operator_client):
    # given: 60 matched listings, a few changed (due)
    url = reverse("sync:sync_dashboard", args=[store.pk])
    listings = listings_create(store, 60, quantity=3, confirmed_quantity=4)
    # when: the first page, then the next
    first, small = dashboard_queries(operator_client, url)
    ids = [row.listing.pk for row in first.context["rows"]]
    assert ids == [listing.pk for listing in listings[:50]]
    assert f"after={ids[-1]}" in first.content.decode()
    second, _ = dashboard_queries(operator_client, f"{url}?after={ids[-1]}")
    assert [row.listing.pk for row in second.context["rows"]] == [listing.pk for listing in listings[50:]]
    assert f"before={listings[50].pk}" in second.content.decode()
    back, _ = dashboard_queries(operator_client, f"{url}?before={listings[50].pk}")
    assert [row.listing.pk for row in back.context["rows"]] == ids
    # then: ten times the catalog, the same number of queries (no count, no scan of the catalog)
    listings_create(store, 600, quantity=3, confirmed_quantity=3, prefix="MORE")
    _, large = dashboard_queries(operator_client, url)
    assert large == small
    # and a bad cursor is the first page
    bad, _ = dashboard_queries(operator_client, f"{url}?after=x&before=-3")
    assert [row.listing.pk for row in bad.context["rows"]] == ids


@pytest.mark.parametrize("url_name", ["sync:sync_dashboard", "sync:sync_preview", "sync:sync_settings"])
def test_a_non_member_gets_404(operator_client, other_store, url_name):
    assert operator_client.get(reverse(url_name, args=[other_store.pk])).status_code == 404


def test_a_non_member_cannot_queue_runs(operator_client, other_store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator_client.post(reverse("sync:sync_run", args=[other_store.pk]))
    assert response.status_code == 404
    assert callbacks == []


def test_sync_settings_are_saved_through_the_form(store, operator_client):
    # when
    response = operator_client.post(
        reverse("sync:sync_settings", args=[store.pk]),
        {
            "sync-safety_buffer": "2",
            "sync-max_quantity": "40",
            "sync-feeds_per_hour": "6",
            "sync-inventory_feed_max_bytes": "5242880",
            "sync-price_feed_max_bytes": "10000000",
            "sync-inventory_feed_max_items": "100000",
            "sync-price_feed_max_items": "10000",
            "sync-single_calls_per_tick": "20",
            "price-markup_type": "percent",
            "price-markup_value": "12.5",
            "price-price_ending": "0.99",
        },
    )
    # then
    assert response.status_code == 302
    saved = StoreSyncSettings.objects.get(store=store)
    assert (saved.safety_buffer, saved.max_quantity, saved.single_calls_per_tick) == (2, 40, 20)
    rule = PriceRule.objects.get(store=store)
    assert (rule.markup_type, rule.markup_value, rule.price_ending) == ("percent", Decimal("12.50"), Decimal("0.99"))


def test_invalid_sync_settings_save_nothing(store, operator_client):
    response = operator_client.post(
        reverse("sync:sync_settings", args=[store.pk]),
        {
            "sync-safety_buffer": "-1",
            "sync-feeds_per_hour": "6",
            "sync-inventory_feed_max_bytes": "5242880",
            "sync-price_feed_max_bytes": "10000000",
            "sync-inventory_feed_max_items": "100000",
            "sync-price_feed_max_items": "20000",
            "sync-single_calls_per_tick": "20",
            "price-markup_type": "percent",
            "price-markup_value": "-150",
            "price-price_ending": "1.50",
        },
    )
    assert response.status_code == 200
    assert set(response.context["settings_form"].errors) == {"safety_buffer", "price_feed_max_items"}
    assert set(response.context["rule_form"].errors) == {"markup_value", "price_ending"}
    assert not StoreSyncSettings.objects.exists()
    assert not PriceRule.objects.exists()


def test_preview_json_of_an_unknown_stream_is_404(store, operator_client):
    response = operator_client.get(reverse("sync:sync_preview_json", args=[store.pk, "lagtime"]))
    assert response.status_code == 404
    assert urlparse(response.request["PATH_INFO"]).path.endswith("lagtime.json")


def test_reconcile_now_queues_the_chosen_stream(store, operator_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator_client.post(reverse("sync:sync_reconcile", args=[store.pk]), {"stream": "price"})
    assert response.status_code == 302
    assert len(callbacks) == 1


def test_sync_now_is_post_only(store, operator_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator_client.get(reverse("sync:sync_run", args=[store.pk]))
    assert response.status_code == 405
    assert callbacks == []


def test_the_store_tabs_lead_to_the_sync_page_and_mark_it_active(store, operator_client):
    response = operator_client.get(reverse("sync:sync_dashboard", args=[store.pk]))
    html = response.content.decode()
    tab = f'<a href="/stores/{store.pk}/sync/" class="active" aria-current="page">Inventory &amp; Price Sync</a>'
    assert tab in html
