"""Published status by webhook, against the emulator: the store's endpoint is subscribed to Walmart's offer
events with its order events; Walmart unpublishing and publishing an offer reaches the listing (with a mapped
Walmart SKU) within the request, before any read-back."""

from decimal import Decimal

import pytest
from django.urls import reverse

from listings.models import Listing
from orders.models import WebhookEvent
from orders.services import order_settings_ensure, webhook_subscribe
from tests.factories import StoreFactory
from tests.orders.conftest import live_server_threads_finish  # noqa: F401 - a fixture
from tests.orders.factories import ProductFactory
from walmart_emulator import item_events
from walmart_emulator import services as emulator
from walmart_emulator.models import WebhookSubscription

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_server_threads_finish")]
SECRET = "emulator-secret-for-offer-events"


def test_offer_events_set_the_listings_published_status(live_server, settings):
    settings.WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS = 0
    store = StoreFactory(
        environment="emulator", emulator_base_url=live_server.url + "/walmart-emulator", client_secret=SECRET
    )
    seller = emulator.seller_create(name="Offer events", client_id=store.client_id, client_secret=SECRET)
    item = emulator.catalog_item_create(gtin="00036000291452", title="Acme Stoneware Mug")
    emulator.offer_create(seller=seller, sku="WM-MUG", catalog_item=item, price=Decimal("9.99"), quantity=5)
    product = ProductFactory(sku="CAT-MUG")
    listing = Listing.objects.create(
        store=store, product=product, walmart_sku="WM-MUG", status=Listing.Status.MATCH, published_status="PUBLISHED"
    )
    endpoint = live_server.url + reverse(
        "orders:webhook_receive", args=[order_settings_ensure(store=store).webhook_token]
    )
    # when: the store subscribes to its webhooks
    webhook_subscribe(store=store, event_url=endpoint)
    # then: the offer events are among the subscriptions
    assert set(
        WebhookSubscription.objects.filter(seller=seller, resource_name="ITEM").values_list("event_type", flat=True)
    ) == {"OFFER_PUBLISHED", "OFFER_UNPUBLISHED"}
    # when: Walmart unpublishes the offer
    item_events.offer_unpublish(seller=seller, sku="WM-MUG", reason="Reasonable Price Not Satisfied")
    # then: the listing says so, with Walmart's reason
    listing.refresh_from_db()
    assert (listing.published_status, listing.unpublished_reasons) == (
        "UNPUBLISHED",
        ["Reasonable Price Not Satisfied"],
    )
    assert (
        WebhookEvent.objects.filter(store=store, event_type="OFFER_UNPUBLISHED", processed_at__isnull=False).count()
        == 1
    )
    # when: Walmart publishes it again
    item_events.offer_publish(seller=seller, sku="WM-MUG")
    listing.refresh_from_db()
    assert (listing.published_status, listing.unpublished_reasons, listing.status) == ("PUBLISHED", [], "match")
