"""The hourly read-back (`GET /v3/items`, cursor pages of 200) over a whole seller catalog, against the emulator:
it updates the listings and the store's Walmart items (the Unmanaged list) page by page, adds and links items
that appeared on Walmart, drops unlinked items Walmart no longer has, and goes on from its cursor after a rate
limit instead of starting over."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from channel_manager.models import Store
from channel_manager.walmart import DjangoRateLimitStore, store_cache_key
from listings.models import Listing, Product
from listings.services import store_listings_reconcile, stores_to_reconcile
from listings.tasks import store_listings_reconcile_task
from onboarding.models import StoreOnboarding, WalmartItem
from onboarding.services import ImportWaiting, walmart_import_run, walmart_import_start
from tests.emulator_bridge import emulator_bridge
from tests.factories import StoreFactory
from walmart_emulator import services as emulator
from walmart_emulator.models import CatalogItem, Offer
from walmart_emulator.seeding import seed_plan, seller_items_seed

pytestmark = pytest.mark.django_db
BASE_URL = "http://walmart.readback.test/walmart-emulator"
SECRET = "emulator-secret-for-read-back"
COUNT = 450  # three cursor pages of 200


@pytest.fixture
def walmart():
    with emulator_bridge(BASE_URL) as bridge:
        yield bridge


@pytest.fixture
def onboarded(walmart, settings):
    """A store whose 450 Walmart items were imported (items API) and linked: SKU, identifier, ambiguous, unknown."""
    settings.ONBOARDING_ITEMS_API_MAX = 10_000
    settings.ONBOARDING_QUANTITIES_IN_PARALLEL = False  # one connection: the test's transaction
    store = StoreFactory(environment=Store.Environment.EMULATOR, emulator_base_url=BASE_URL, client_secret=SECRET)
    seller = emulator.seller_create(name="Read-back seller", client_id=store.client_id, client_secret=SECRET)
    seller_items_seed(seller=seller, count=COUNT, seed=9)
    plan = list(seed_plan(count=COUNT, seed=9))
    for item in plan:
        for sku in item.catalog_skus:
            identifier = {} if item.kind == "sku" else {item.id_type.lower(): item.product_id}
            Product.objects.create(sku=sku, name=item.title, price=Decimal("9.99"), quantity=3, **identifier)
    walmart_import = walmart_import_start(store=store, reason="test")[0]
    for _ in range(5):
        try:
            walmart_import = walmart_import_run(walmart_import=walmart_import)
        except ImportWaiting:
            continue
        if walmart_import.is_finished:
            break
    assert walmart_import.status == "done", walmart_import.failure
    return store, seller, plan


def test_read_back_pages_the_whole_catalog_and_updates_listings_and_walmart_items(onboarded, walmart, settings):
    store, seller, plan = onboarded
    linked = next(item.sku for item in plan if item.kind == "sku" and item.published_status == "PUBLISHED")
    unknown = [item.sku for item in plan if item.kind == "unknown"]
    # given: on Walmart, since the import, one linked offer was unpublished (no event reached us), one unknown
    # item was deleted, and two items appeared: one under a catalog SKU, one under a SKU the catalog lacks
    Offer.objects.filter(seller=seller, sku=linked).update(
        published_status="UNPUBLISHED", unpublished_reason="Reasonable Price Not Satisfied"
    )
    Offer.objects.filter(seller=seller, sku=unknown[0]).delete()
    Product.objects.create(sku="NEW-CAT", name="Newly offered", price=Decimal("5.00"), quantity=4)
    for index, sku in enumerate(("NEW-CAT", "NEW-UNKNOWN")):
        gtin = f"0000000000{index}{index}05"
        catalog_item = CatalogItem.objects.create(item_id=f"99000{index}", gtin=gtin, title=sku)
        emulator.offer_create(seller=seller, sku=sku, catalog_item=catalog_item, price=Decimal("5.00"), quantity=2)
    # and Walmart's item listing allows two calls a minute
    settings.WALMART_EMULATOR_RATE_LIMITS = {"items_list": {"count": 2, "seconds": 60}}
    walmart.calls.clear()
    # when: the read-back runs; the third page is refused
    stopped = store_listings_reconcile(store=store)
    # then: it stops at that page's cursor, having removed nothing yet
    assert (stopped.complete, stopped.items) == (False, 400)
    assert stopped.resume_cursor not in (None, "*")
    assert stopped.wait_seconds > 0
    assert WalmartItem.objects.filter(store=store, sku=unknown[0]).exists()
    # when: it goes on from there once Walmart allows it (the emulator's clock and our record of its bucket)
    emulator.clock_advance(seconds=60)
    cache.delete(DjangoRateLimitStore(store_cache_key(store), store.client_id).prefix + "items.list")
    done = store_listings_reconcile(
        store=store,
        cursor=stopped.resume_cursor,
        started_at=stopped.started_at,
        updated=stopped.updated,
        items=stopped.items,
    )
    # then: every item was read, 200 a page, the first page once
    assert (done.complete, done.items) == (True, COUNT + 1)
    pages = [call for call in walmart.calls if call.path.endswith("/v3/items") and call.status == 200]
    assert len(pages) == 3
    # every listing on Walmart was read back (a retired item's listing is Draft: not on Walmart, not read back;
    # NEW-CAT's listing was made at the end)
    on_walmart = Listing.objects.filter(store=store).exclude(status="draft").exclude(walmart_sku="NEW-CAT")
    assert done.updated == on_walmart.count()
    # the listing and the Walmart item show the unpublished offer with Walmart's reason
    listing = Listing.objects.get(store=store, walmart_sku=linked)
    assert (listing.published_status, listing.unpublished_reasons) == (
        "UNPUBLISHED",
        ["Reasonable Price Not Satisfied"],
    )
    item = WalmartItem.objects.get(store=store, sku=linked)
    assert (item.published_status, item.status_change_reason, item.link_status) == (
        "UNPUBLISHED",
        "Reasonable Price Not Satisfied",
        "linked",
    )
    # the new items: one linked by SKU (a listing held for the first push), one Unmanaged
    new_cat = WalmartItem.objects.get(store=store, sku="NEW-CAT")
    assert (new_cat.link_status, new_cat.link_method, new_cat.listing.product.sku) == ("linked", "sku", "NEW-CAT")
    assert new_cat.listing.sync_held is True
    assert WalmartItem.objects.get(store=store, sku="NEW-UNKNOWN").link_status == "unmanaged"
    # the deleted item is gone from the Unmanaged list; every other item is still there
    assert not WalmartItem.objects.filter(store=store, sku=unknown[0]).exists()
    assert WalmartItem.objects.filter(store=store).count() == COUNT + 1


def test_the_task_goes_on_from_its_cursor_after_a_rate_limit(onboarded, walmart, settings, monkeypatch):
    store, _seller, _plan = onboarded
    settings.WALMART_EMULATOR_RATE_LIMITS = {"items_list": {"count": 1, "seconds": 60}}
    scheduled = []
    monkeypatch.setattr(
        store_listings_reconcile_task, "apply_async", lambda args, countdown: scheduled.append((args, countdown))
    )
    # when
    store_listings_reconcile_task(store.pk)
    # then: one page read, the next one scheduled after Walmart's wait, from the cursor Walmart gave
    ((args, countdown),) = scheduled
    assert (args[0], args[4]) == (store.pk, 200)
    assert args[1] not in (None, "*")
    assert 0 < countdown <= 60


def test_stores_read_back_hourly_include_imported_stores_without_listings(db):
    matched = StoreFactory()
    Listing.objects.create(store=matched, product=Product.objects.create(sku="A", name="A", price=1), status="match")
    imported = StoreFactory()
    StoreOnboarding.objects.create(store=imported, first_import_started_at="2026-01-01T00:00:00Z")
    idle = StoreFactory()
    disabled = StoreFactory(listings_enabled=False)
    StoreOnboarding.objects.create(store=disabled, first_import_started_at="2026-01-01T00:00:00Z")
    assert stores_to_reconcile() == sorted([matched.pk, imported.pk])
    assert idle.pk not in stores_to_reconcile()
