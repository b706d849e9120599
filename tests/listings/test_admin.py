"""Admin for ops staff: actions call services and report a pluralised count; products save through the
catalog service."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from channel_manager.models import Feed
from inventory.models import StockMovement
from listings.models import Listing, Product, StoreAttributeMapping
from listings.services import match_feeds_poll_all
from tests.factories import UserFactory
from tests.listings.factories import ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def run_action(admin_client, action, listings):
    response = admin_client.post(
        reverse("admin:listings_listing_changelist"),
        {"action": action, "_selected_action": [listing.pk for listing in listings]},
        follow=True,
    )
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_reset_to_draft_action_reports_a_pluralised_count(admin_client, store):
    listings = [ListingFactory(store=store, status=Listing.Status.ERROR, error_description="x") for _ in range(2)]
    assert run_action(admin_client, "reset_selected", listings) == ["2 listings reset to Draft."]
    assert run_action(admin_client, "reset_selected", listings[:1]) == ["0 listings reset to Draft."]
    assert set(Listing.objects.values_list("status", flat=True)) == {"draft"}


def test_match_action_records_a_feed_per_store(admin_client, store):
    StoreAttributeMapping.objects.create(store=store, identifiers=["upc"])
    listing = ListingFactory(store=store)
    assert run_action(admin_client, "match_selected", [listing]) == ["1 listing sent for matching."]
    feed = Feed.objects.get()
    assert (feed.store, feed.status, feed.item_count) == (store, "PENDING", 1)
    listing.refresh_from_db()
    assert (listing.status, listing.match_feed) == ("processing", feed)


def test_match_action_without_mapping_says_so(admin_client, store):
    listing = ListingFactory(store=store)
    messages = run_action(admin_client, "match_selected", [listing])
    assert messages[0].startswith(f"Store {store.name} has no product identifier mapped.")
    assert messages[1] == "0 listings sent for matching."
    assert Feed.objects.count() == 0


def test_retire_and_reread_actions_queue_work_and_report_counts(admin_client, store):
    listings = [ListingFactory(store=store) for _ in range(3)]  # Draft: the tasks have nothing to send
    assert run_action(admin_client, "retire_selected", listings) == ["3 listings queued for retirement."]
    assert run_action(admin_client, "reread_selected", listings[:1]) == ["1 listing queued to be re-read."]


def test_product_admin_saves_through_the_catalog_service(admin_client):
    product = ProductFactory(sku="MUG-1", quantity=5, upc="036000291452")
    url = reverse("admin:listings_product_change", args=[product.pk])
    data = {
        "sku": "MUG-1",
        "name": "Mug",
        "brand": "",
        "description": "",
        "image_url": "",
        "upc": "0 36000 29145 2",
        "gtin": "",
        "ean": "",
        "isbn": "",
        "issn": "",
        "price": "7.50",
        "quantity": "8",
        "shipping_weight": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.price, product.quantity, product.shipping_weight) == ("Mug", Decimal("7.50"), 8, None)
    assert list(StockMovement.objects.values_list("delta", "actor")) == [(3, "ops")]
    # a wrong check digit is refused with the field named, nothing saved
    response = admin_client.post(url, {**data, "upc": "036000291453", "quantity": "1"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["upc"] == [
        "UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3."
    ]
    product.refresh_from_db()
    assert product.quantity == 8


def test_product_admin_add(admin_client):
    data = {"sku": "NEW-1", "name": "New", "price": "1.00", "quantity": "2", "gtin": "036000291452"}
    response = admin_client.post(reverse("admin:listings_product_add"), data)
    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-1")
    assert (product.gtin, product.quantity) == ("00036000291452", 2)


def test_poll_schedule_resends_feeds_nobody_sent(store):
    stale = Feed.objects.create(store=store, feed_type="MP_ITEM_MATCH", payload={})
    Feed.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    fresh = Feed.objects.create(store=store, feed_type="MP_ITEM_MATCH", payload={})
    sent = Feed.objects.create(store=store, feed_type="MP_ITEM_MATCH", walmart_feed_id="F1", status="RECEIVED")
    Feed.objects.create(store=store, feed_type="MP_ITEM_MATCH", walmart_feed_id="F2", completed_at=timezone.now())
    Feed.objects.create(store=store, feed_type="inventory", walmart_feed_id="F3", status="RECEIVED")
    expired = Feed.objects.create(store=store, feed_type="MP_ITEM_MATCH", payload={})
    Feed.objects.filter(pk=expired.pk).update(created_at=timezone.now() - timedelta(hours=25))
    listing = ListingFactory(store=store, status=Listing.Status.PROCESSING, match_feed=expired)
    assert match_feeds_poll_all() == ([sent.pk], [stale.pk])
    assert fresh.pk not in match_feeds_poll_all()[1]
    expired.refresh_from_db()
    listing.refresh_from_db()
    assert expired.status == "ERROR"
    assert (listing.status, listing.error_description) == (
        "error",
        "Could not send for matching within 24 hours. Re-match to try again.",
    )
    # a store whose listings sync is off is left alone
    store.listings_enabled = False
    store.save()
    assert match_feeds_poll_all() == ([], [])


def test_import_rerun_action(admin_client, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from listings.models import ImportJob
    from listings.services import import_job_create

    job = import_job_create(uploaded_file=SimpleUploadedFile("c.csv", b"sku,name,price\nA-1,Alpha,1.00\n"), run=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:listings_importjob_changelist"),
            {"action": "rerun_selected", "_selected_action": [job.pk]},
            follow=True,
        )
    assert [str(message) for message in get_messages(response.wsgi_request)] == ["1 import queued again."]
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 1)
    assert Product.objects.get().sku == "A-1"
