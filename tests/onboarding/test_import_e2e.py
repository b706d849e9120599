"""Import from Walmart end to end against the emulator (Django's live server): a seller with seeded items
(SKUs the catalog has, items the catalog knows by identifier only, ambiguous ones, unknown ones) is read
through the ITEM and INVENTORY reports, or the items API and the inventories listing, and linked."""

from collections import Counter
from decimal import Decimal

import pytest

from listings.models import Listing, Product
from onboarding.models import WalmartImport, WalmartItem
from onboarding.services import ImportWaiting, walmart_import_run, walmart_import_start
from tests.factories import StoreFactory
from tests.orders.conftest import live_server_threads_finish  # noqa: F401 - a fixture
from walmart_emulator import services as emulator
from walmart_emulator.models import Offer, RateLimitBucket, ReportRequest
from walmart_emulator.seeding import seed_plan, seller_items_seed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_server_threads_finish")]
SECRET = "emulator-secret-for-onboarding"
COUNT = 120


def catalog_for(plan) -> None:
    """The catalog of a seller onboarding: products for the plan's `sku`, `identifier` and `ambiguous` items."""
    products = []
    for item in plan:
        for sku in item.catalog_skus:
            products.append(
                Product(
                    sku=sku,
                    name=item.title,
                    price=Decimal("9.99"),
                    quantity=3,
                    **({item.id_type.lower(): item.product_id} if item.kind != "sku" else {}),
                )
            )
    Product.objects.bulk_create(products)


@pytest.fixture
def seller_store(live_server, settings):
    settings.WALMART_EMULATOR_REPORT_DELAY_SECONDS = 0
    store = StoreFactory(
        environment="emulator", emulator_base_url=live_server.url + "/walmart-emulator", client_secret=SECRET
    )
    seller = emulator.seller_create(name="Seller with items", client_id=store.client_id, client_secret=SECRET)
    seller_items_seed(seller=seller, count=COUNT, seed=7)
    plan = list(seed_plan(count=COUNT, seed=7))
    catalog_for(plan)
    return store, seller, plan


def run_to_the_end(walmart_import: WalmartImport) -> WalmartImport:
    for _ in range(10):
        try:
            walmart_import = walmart_import_run(walmart_import=walmart_import)
        except ImportWaiting:
            continue
        if walmart_import.is_finished:
            return walmart_import
    raise AssertionError(f"the import did not finish: {walmart_import.status}")


@pytest.mark.parametrize(("items_api_max", "source"), [(10, "report"), (10_000, "items")])
def test_every_item_is_imported_and_linked_by_kind(seller_store, settings, items_api_max, source):
    store, seller, plan = seller_store
    settings.ONBOARDING_ITEMS_API_MAX = items_api_max
    # when
    walmart_import, created = walmart_import_start(store=store, reason="test")
    walmart_import = run_to_the_end(walmart_import)
    # then: every item read, with Walmart's quantities
    assert created is True
    assert (walmart_import.status, walmart_import.source, walmart_import.failure) == ("done", source, "")
    assert (walmart_import.items_read, walmart_import.expected_items, walmart_import.items_created) == (
        COUNT,
        COUNT,
        COUNT,
    )
    offers = dict(Offer.objects.filter(seller=seller).values_list("sku", "quantity"))
    assert dict(WalmartItem.objects.filter(store=store).values_list("sku", "quantity")) == offers
    # the quantities came from the INVENTORY report for a large catalog, from GET /v3/inventories for a small one
    asked = set(ReportRequest.objects.filter(seller=seller).values_list("report_type", flat=True))
    listed = RateLimitBucket.objects.filter(seller=seller, family="inventory_read").exists()
    assert (asked, listed) == (({"ITEM", "INVENTORY"}, False) if source == "report" else (set(), True))
    # and linked by kind: SKU, identifier (by its type), ambiguous never, unknown never
    kinds = {item.sku: item for item in plan}
    outcome = Counter()
    for sku, status, method in WalmartItem.objects.filter(store=store).values_list("sku", "link_status", "link_method"):
        planned = kinds[sku]
        expected = {
            "sku": ("linked", "sku"),
            "identifier": ("linked", planned.id_type.lower()),
            "ambiguous": ("ambiguous", ""),
            "unknown": ("unmanaged", ""),
        }[planned.kind]
        assert (status, method) == expected, sku
        outcome[planned.kind] += 1
    assert set(outcome) == {"sku", "identifier", "ambiguous", "unknown"}
    assert walmart_import.linked_count == outcome["sku"] + outcome["identifier"]
    assert (walmart_import.ambiguous_count, walmart_import.unmanaged_count) == (
        outcome["ambiguous"],
        outcome["unknown"],
    )
    # each linked item is a listing under its Walmart SKU, held until the first push is confirmed
    listings = Listing.objects.filter(store=store)
    assert listings.count() == walmart_import.linked_count
    assert not listings.exclude(
        walmart_sku__in=[s for s, i in kinds.items() if i.kind in ("sku", "identifier")]
    ).exists()
    assert not listings.filter(sync_held=False).exists()
    # and starts with Walmart's quantity as the confirmed one
    confirmed = dict(listings.values_list("walmart_sku", "confirmed_quantity"))
    assert confirmed == {sku: offers[sku] for sku in confirmed}


def test_without_an_inventory_report_the_quantities_come_from_the_listing(seller_store, settings):
    store, seller, _plan = seller_store
    settings.ONBOARDING_ITEMS_API_MAX = 10
    # given: Walmart will not make an INVENTORY report this hour (one failed a while ago)
    refused = ReportRequest.objects.create(
        seller=seller,
        request_id="failed-inventory-report",
        report_type="INVENTORY",
        report_version="v1",
        status=ReportRequest.Status.ERROR,
        submitted_at=emulator.emulator_now(),
        due_at=emulator.emulator_now(),
    )
    RateLimitBucket.objects.create(
        seller=seller, family="reports:INVENTORY", tokens=0, updated_at=refused.submitted_at,
        updated_epoch=refused.submitted_at.timestamp(),
    )  # fmt: skip
    # when
    walmart_import = run_to_the_end(walmart_import_start(store=store, reason="test")[0])
    # then: the items from the ITEM report, every quantity from GET /v3/inventories
    assert (walmart_import.status, walmart_import.source, walmart_import.inventory_report_request_id) == (
        "done",
        "report",
        "",
    )
    offers = dict(Offer.objects.filter(seller=seller).values_list("sku", "quantity"))
    assert dict(WalmartItem.objects.filter(store=store).values_list("sku", "quantity")) == offers
    assert RateLimitBucket.objects.filter(seller=seller, family="inventory_read").exists()


def test_importing_again_updates_in_place(seller_store, settings):
    store, seller, _plan = seller_store
    settings.ONBOARDING_ITEMS_API_MAX = 10_000
    run_to_the_end(walmart_import_start(store=store)[0])
    first_pks = dict(WalmartItem.objects.filter(store=store).values_list("sku", "pk"))
    listings = Listing.objects.filter(store=store).count()
    changed = sorted(first_pks)[0]
    Offer.objects.filter(seller=seller, sku=changed).update(quantity=77)
    # when
    second = run_to_the_end(walmart_import_start(store=store)[0])
    # then: same rows, the new quantity, nothing linked twice
    assert dict(WalmartItem.objects.filter(store=store).values_list("sku", "pk")) == first_pks
    assert (second.items_read, second.items_created, second.linked_count) == (COUNT, 0, 0)
    assert WalmartItem.objects.get(store=store, sku=changed).quantity == 77
    assert Listing.objects.filter(store=store).count() == listings
