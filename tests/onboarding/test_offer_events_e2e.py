"""Published status by webhook, against the emulator: the store's endpoint is subscribed to Walmart's offer
and buy box events with its order events; Walmart unpublishing and publishing an offer, or a competitor taking
the buy box, reaches the listing (with a mapped Walmart SKU) and the store's Walmart items (the Walmart items
tab and the Unmanaged list) through the emulator's webhook delivery, before any read-back."""

from decimal import Decimal

import pytest
from django.urls import reverse

from listings.models import Listing
from onboarding.models import WalmartItem
from orders.models import WebhookEvent
from orders.services import order_settings_ensure, webhook_subscribe
from tests.factories import StoreFactory, StoreMembershipFactory
from tests.onboarding.factories import walmart_item
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


def test_item_events_update_the_walmart_items_tab_and_the_unmanaged_list(live_server, settings, client, operator):
    settings.WALMART_EMULATOR_WEBHOOK_RETRY_SECONDS = 0
    store = StoreFactory(
        environment="emulator", emulator_base_url=live_server.url + "/walmart-emulator", client_secret=SECRET
    )
    StoreMembershipFactory(store=store, user=operator)
    seller = emulator.seller_create(name="Item events", client_id=store.client_id, client_secret=SECRET)
    for index, sku in enumerate(("WM-MUG", "WM-LEGACY")):
        item = emulator.catalog_item_create(gtin=f"0003600029145{2 + index * 7}", title=f"Item {sku}")
        emulator.offer_create(seller=seller, sku=sku, catalog_item=item, price=Decimal("9.99"), quantity=5)
    # given: an imported store, WM-MUG linked to a listing, WM-LEGACY Unmanaged (no product)
    listing = Listing.objects.create(
        store=store,
        product=ProductFactory(sku="CAT-MUG"),
        walmart_sku="WM-MUG",
        status=Listing.Status.MATCH,
        published_status="PUBLISHED",
    )
    walmart_item(store, "WM-MUG", link_status="linked", link_method="sku", listing=listing)
    walmart_item(store, "WM-LEGACY", link_status="unmanaged")
    endpoint = live_server.url + reverse(
        "orders:webhook_receive", args=[order_settings_ensure(store=store).webhook_token]
    )
    webhook_subscribe(store=store, event_url=endpoint)
    assert WebhookSubscription.objects.filter(seller=seller, event_type="BUY_BOX_CHANGED").exists()
    # when: Walmart unpublishes the Unmanaged item, and a competitor takes the buy box of the linked one
    item_events.offer_unpublish(seller=seller, sku="WM-LEGACY", reason="Trust and Safety")
    item_events.buy_box_change(seller=seller, sku="WM-MUG", winning_price=Decimal("8.49"), total_offers=4)
    # then: the Walmart items show it
    legacy = WalmartItem.objects.get(store=store, sku="WM-LEGACY")
    assert (legacy.published_status, legacy.status_change_reason, legacy.link_status) == (
        "UNPUBLISHED",
        "Trust and Safety",
        "unmanaged",
    )
    mug = WalmartItem.objects.get(store=store, sku="WM-MUG")
    assert (mug.buy_box_won, mug.buy_box_price, mug.buy_box_offers) == (False, Decimal("8.49"), 4)
    # and the listing too
    listing.refresh_from_db()
    assert (listing.buy_box_won, listing.buy_box_price) == (False, Decimal("8.49"))
    assert WebhookEvent.objects.filter(store=store, processed_at__isnull=False).count() == 2
    # and the Unmanaged list and the Walmart items tab say so
    client.force_login(operator)
    unmanaged = client.get(reverse("onboarding:item_list", args=[store.pk])).content.decode()
    assert "Unpublished · Active" in unmanaged
    assert "Trust and Safety" in unmanaged
    linked = client.get(reverse("onboarding:item_list", args=[store.pk]), {"view": "linked"}).content.decode()
    assert "Buy box: lost (winning price 8.49), 4 offers" in linked
    listings_tab = client.get(reverse("listings:listing_list", args=[store.pk])).content.decode()
    assert "Buy box: lost (winning price 8.49)" in listings_tab
    # when: Walmart publishes the item again
    item_events.offer_publish(seller=seller, sku="WM-LEGACY")
    legacy.refresh_from_db()
    assert (legacy.published_status, legacy.status_change_reason) == ("PUBLISHED", "")
