"""End to end against the Walmart emulator through Django's live server: import -> add -> match -> Match,
a bad identifier -> Error with Walmart's message, a store not live -> Match - Match in Stage, then the
listing's life on Walmart read back and retired."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from channel_manager.models import Feed
from listings.catalog_import import catalog_import_run
from listings.models import Listing, Product, StoreAttributeMapping
from listings.services import (
    import_job_create,
    listings_add,
    listings_match,
    listings_reread,
    listings_retire,
    store_listings_reconcile,
)
from listings.tasks import match_feeds_poll_task
from tests.factories import StoreFactory
from walmart_emulator import services as emulator
from walmart_emulator.models import Offer

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cret-value-never-shown"
KNOWN_UPC = "036000291452"
KNOWN_GTIN = "00012345600012"
UNKNOWN_UPC = "012345678905"  # a valid check digit, but no Walmart item has it


@pytest.fixture
def emulated(live_server, settings):
    """A seller in the emulator with two catalog items, and a Store pointed at it."""
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0

    def make(*, is_live: bool = True):
        store = StoreFactory(
            environment="emulator",
            emulator_base_url=live_server.url + "/walmart-emulator",
            client_secret=SECRET,
            is_live=is_live,
        )
        seller = emulator.seller_create(
            name=f"seller of {store.name}", client_id=store.client_id, client_secret=SECRET, is_live=is_live
        )
        emulator.catalog_item_create(gtin="00" + KNOWN_UPC, title="Acme Stoneware Mug")
        emulator.catalog_item_create(gtin=KNOWN_GTIN, title="Globex Garden Hose")
        StoreAttributeMapping.objects.create(store=store, identifiers=["upc", "gtin"])
        return store, seller

    return make


def import_catalog(rows: str):
    content = ("sku,name,upc,gtin,price,quantity,shipping_weight\n" + rows).encode()
    job = import_job_create(uploaded_file=SimpleUploadedFile("catalog.csv", content), run=False)
    return catalog_import_run(job=job)


def test_import_add_match_gives_match_with_walmart_item_id(emulated):
    store, seller = emulated()
    # given a catalog imported from CSV and added to the store
    job = import_catalog(f"MUG-1,Mug,{KNOWN_UPC},,9.99,10,1.25\nHOSE-1,Hose,,{KNOWN_GTIN},24.50,3,4.00\n")
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 0)
    assert listings_add(store=store, products=Product.objects.all()) == 2
    # when matched, and the every-minute poll runs
    result = listings_match(store=store, listings=Listing.objects.filter(store=store))
    assert (result.submitted, result.feeds, result.refused) == (2, 1, 0)
    feed = Feed.objects.get()
    assert feed.walmart_feed_id  # sent after commit, Walmart's id saved
    match_feeds_poll_task()
    # then both listings are matched with the emulator's item ids
    listings = {listing.product.sku: listing for listing in Listing.objects.select_related("product")}
    offers = dict(Offer.objects.filter(seller=seller).values_list("sku", "wpid"))
    assert {sku: listing.status for sku, listing in listings.items()} == {"MUG-1": "match", "HOSE-1": "match"}
    assert {sku: listing.walmart_item_id for sku, listing in listings.items()} == offers
    assert sorted(offers) == ["HOSE-1", "MUG-1"]
    feed.refresh_from_db()
    assert (feed.status, feed.items_succeeded, feed.items_failed) == ("PROCESSED", 2, 0)
    # and the scheduled reconciliation reads their life on Walmart back
    assert store_listings_reconcile(store=store).updated == 2
    mug = Listing.objects.get(product__sku="MUG-1")
    assert (mug.published_status, mug.lifecycle_status) == ("PUBLISHED", "ACTIVE")


def test_bad_identifier_gives_error_with_walmarts_message(emulated):
    store, _seller = emulated()
    import_catalog(f"MUG-1,Mug,{UNKNOWN_UPC},,9.99,10,1.25\n")
    listings_add(store=store, products=Product.objects.all())
    listings_match(store=store, listings=Listing.objects.all())
    match_feeds_poll_task()
    listing = Listing.objects.get()
    assert listing.status == "error"
    assert listing.error_description == (
        f"No item in the Walmart catalog matches UPC '{UNKNOWN_UPC}'. — No Walmart item has UPC {UNKNOWN_UPC}. "
        "Walmart adds your offer only to an item that already exists in its catalog: check the identifier on the "
        "product (a typo, or the code of another size or pack), or create the item in Seller Center (Add Items > "
        "Full item setup), then Re-match."
    )
    assert Offer.objects.count() == 0
    # when the identifier is fixed and the listing re-matched from Error
    from listings.services import product_update

    product_update(product=listing.product, upc=KNOWN_UPC)
    listings_match(store=store, listings=Listing.objects.filter(status="error"))
    match_feeds_poll_task()
    listing.refresh_from_db()
    assert (listing.status, listing.error_description) == ("match", "")
    assert Feed.objects.count() == 2


def test_store_not_live_gives_match_in_stage(emulated):
    store, _seller = emulated(is_live=False)
    import_catalog(f"MUG-1,Mug,{KNOWN_UPC},,9.99,10,1.25\n")
    listings_add(store=store, products=Product.objects.all())
    listings_match(store=store, listings=Listing.objects.all())
    match_feeds_poll_task()
    listing = Listing.objects.get()
    assert (listing.status, listing.get_status_display()) == ("match_in_stage", "Match - Match in Stage")
    listings_reread(listings=Listing.objects.all())
    listing.refresh_from_db()
    assert listing.published_status == "STAGE"
    assert listing.status == "match_in_stage"


def test_retire_on_the_emulator(emulated):
    store, seller = emulated()
    import_catalog(f"MUG-1,Mug,{KNOWN_UPC},,9.99,10,1.25\n")
    listings_add(store=store, products=Product.objects.all())
    listings_match(store=store, listings=Listing.objects.all())
    match_feeds_poll_task()
    assert listings_retire(listings=Listing.objects.all()) == (1, 0)
    listing = Listing.objects.get()
    assert (listing.status, listing.lifecycle_status) == ("draft", "RETIRED")
    assert Offer.objects.get(seller=seller, sku="MUG-1").lifecycle_status == "RETIRED"
