"""`demo_setup` (run by `make run` on every start): a demo login shown once; with the emulator, a demo seller
with a catalog and items it already sells on Walmart, a demo store connected to it, a demo catalog listed in it
(and the catalog products of the seller's existing items, not listed), and the store's first minute (import
from Walmart, matching, stock push, a first order) run by the worker once the web server answers."""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from channel_manager.models import Feed, Store, StoreMembership
from demo.services import DEMO_UNKNOWN_PRODUCTS, demo_onboarding_products, demo_products
from inventory.models import StockReservation
from listings.models import Listing, Product, StoreAttributeMapping

UNKNOWN_UPCS = ["987654321012", "987654321029", "987654321036"]


def _run(*extra: str, url: str = "http://127.0.0.1:8123/") -> str:
    out = StringIO()
    call_command("demo_setup", "--url", url, *extra, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_first_run_creates_the_login_and_prints_its_password_once():
    # when
    first = _run("--no-start")
    second = _run("--no-start")
    # then
    password = re.search(r"log in as demo / (\S+)\n", first)[1]
    user = get_user_model().objects.get(username="demo")
    assert user.check_password(password)
    assert user.is_superuser
    assert "Open http://127.0.0.1:8123/" in first
    assert password not in second
    assert "log in as demo (password shown on the first run)" in second
    assert get_user_model().objects.filter(username="demo").count() == 1


@pytest.mark.django_db
def test_two_runs_seed_the_demo_store_catalog_and_listings_once_and_send_nothing(settings):
    from walmart_emulator.demo import DEMO_EXISTING_ITEMS, DEMO_EXISTING_SEED, DEMO_SELLER_NAME
    from walmart_emulator.models import CatalogItem, Offer, Seller
    from walmart_emulator.seeding import seed_plan

    settings.WALMART_EMULATOR_ENABLED = True
    existing = list(seed_plan(count=DEMO_EXISTING_ITEMS, seed=DEMO_EXISTING_SEED))
    # when: twice, as on two starts
    first = _run("--no-start")
    second = _run("--no-start")
    # then: the store is connected to the emulator's demo seller, which places the trickle of orders
    store = Store.objects.get(name="Demo Walmart store")
    seller = Seller.objects.get(name=DEMO_SELLER_NAME)
    assert store.environment == Store.Environment.EMULATOR
    assert (store.client_id, store.client_secret) == (seller.client_id, seller.client_secret)
    assert seller.simulate_orders is True
    assert list(StoreMembership.objects.filter(store=store).values_list("user__username", flat=True)) == ["demo"]
    assert Store.objects.count() == 1
    assert Seller.objects.count() == 1
    # the seller already sells items on Walmart, of every kind an onboarding meets
    assert set(Offer.objects.filter(seller=seller).values_list("sku", flat=True)) == {item.sku for item in existing}
    assert {item.kind for item in existing} == {"sku", "identifier", "ambiguous", "unknown"}
    # the catalog: one product per emulator catalog item (its UPC, title and price) and three Walmart lacks
    catalog = list(CatalogItem.objects.exclude(gtin__in=[item.gtin for item in existing]).order_by("pk"))
    assert len(catalog) == 40
    onboarding = demo_onboarding_products(existing)
    assert Product.objects.count() == 43 + len(onboarding)
    products = {product.sku: product for product in Product.objects.exclude(sku__in=[p["sku"] for p in onboarding])}
    for index, item in enumerate(catalog, start=1):
        product = products[f"DEMO-{index:03d}"]
        assert (product.upc, product.name, product.price) == (item.upc, item.title, item.price)
        assert 5 <= product.quantity <= 50
        assert product.shipping_weight == Decimal("1.5")
    assert [products[sku].upc for sku, *_ in DEMO_UNKNOWN_PRODUCTS] == UNKNOWN_UPCS
    assert not CatalogItem.objects.filter(upc__in=UNKNOWN_UPCS).exists()
    expected = {values["sku"]: values["quantity"] for values in demo_products(_identifiers(catalog))}
    assert {sku: product.quantity for sku, product in products.items()} == expected
    # matched on UPC; every product listed once, as Draft; nothing sent to Walmart
    assert StoreAttributeMapping.objects.get(store=store).identifiers == ["upc"]
    assert Listing.objects.filter(store=store, status=Listing.Status.DRAFT).count() == 43
    assert Listing.objects.count() == 43
    assert Feed.objects.count() == 0
    assert "43 products created, 43 listed" in first
    assert "products created" not in second
    # and the catalog products of the seller's existing items: by SKU, by identifier only, two sharing one
    by_sku = {p.sku: p for p in Product.objects.filter(sku__in=[p["sku"] for p in onboarding])}
    for item in existing:
        assert [(by_sku[sku].sku, by_sku[sku].name) for sku in item.catalog_skus] == [
            (sku, item.title) for sku in item.catalog_skus
        ]
        if item.kind in ("identifier", "ambiguous"):
            assert {getattr(by_sku[sku], item.id_type.lower()) for sku in item.catalog_skus} == {item.product_id}
    assert f"{len(onboarding)} catalog products match some of them" in first
    assert "catalog products match" not in second
    assert "Demo store 'Demo Walmart store' created" in first
    assert "created, connected" not in second


def _identifiers(catalog) -> list[dict]:
    return [{"productId": item.upc, "title": item.title, "price": str(item.price)} for item in catalog]


@pytest.mark.django_db
def test_a_mapping_the_operator_changed_is_kept(settings):
    from listings.services import attribute_mapping_save

    settings.WALMART_EMULATOR_ENABLED = True
    _run("--no-start")
    store = Store.objects.get(name="Demo Walmart store")
    attribute_mapping_save(store=store, identifiers=["gtin", "upc"])
    # when
    _run("--no-start")
    # then
    assert StoreAttributeMapping.objects.get(store=store).identifiers == ["gtin", "upc"]


@pytest.mark.django_db
def test_a_demo_store_of_an_older_demo_is_connected_to_the_demo_seller(settings):
    from channel_manager.services import store_create
    from walmart_emulator.demo import DEMO_SELLER_NAME
    from walmart_emulator.models import Seller
    from walmart_emulator.services import seller_create

    # given: the demo store as an older `make run` left it, connected to another emulator seller
    settings.WALMART_EMULATOR_ENABLED = True
    old_seller = seller_create(name="Demo seller", simulate_orders=True)
    user = get_user_model().objects.create_user(username="demo", password="kept-password")
    store = store_create(
        user=user,
        name="Demo Walmart store",
        environment=Store.Environment.EMULATOR,
        client_id=old_seller.client_id,
        client_secret=old_seller.client_secret,
    )
    # when
    output = _run("--no-start")
    # then: the same store, now on the seller that has the demo catalog; the login is untouched
    store.refresh_from_db()
    seller = Seller.objects.get(name=DEMO_SELLER_NAME)
    assert (store.client_id, store.client_secret) == (seller.client_id, seller.client_secret)
    assert store.connection_status == Store.ConnectionStatus.NOT_TESTED
    assert Store.objects.count() == 1
    assert Listing.objects.filter(store=store).count() == 43
    assert get_user_model().objects.get(username="demo").check_password("kept-password")
    assert "log in as demo (password shown on the first run)" in output


@pytest.mark.django_db
def test_without_the_emulator_no_demo_store(settings):
    settings.WALMART_EMULATOR_ENABLED = False
    _run()
    assert Store.objects.count() == 0
    assert Product.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_demo_store_comes_alive_against_the_emulator(live_server, settings):
    """Celery is eager in tests, so the start task's steps run one after the other right here."""
    from orders.models import Order, OrderSettings
    from walmart_emulator.models import Offer, WebhookDelivery

    settings.WALMART_EMULATOR_ENABLED = True
    settings.WALMART_EMULATOR_BASE_URL = live_server.url + "/walmart-emulator"
    settings.WALMART_EMULATOR_FEED_DELAY_SECONDS = 0
    # when
    _run(url=live_server.url + "/")
    # then: connected, subscribed to Walmart's order events
    store = Store.objects.get(name="Demo Walmart store")
    assert store.connection_status == Store.ConnectionStatus.CONNECTED
    assert len(OrderSettings.objects.get(store=store).webhook_subscription_ids) == 3
    # the first connection imported the seller's existing items: linked by SKU or identifier (listings held
    # until the first push is confirmed), ambiguous and unknown ones Unmanaged
    from onboarding.models import WalmartItem
    from walmart_emulator.demo import DEMO_EXISTING_ITEMS, DEMO_EXISTING_SEED
    from walmart_emulator.seeding import seed_plan

    existing = list(seed_plan(count=DEMO_EXISTING_ITEMS, seed=DEMO_EXISTING_SEED))
    items = {item.sku: item for item in WalmartItem.objects.filter(store=store)}
    expected = {"sku": "linked", "identifier": "linked", "ambiguous": "ambiguous", "unknown": "unmanaged"}
    assert {item.sku: items[item.sku].link_status for item in existing} == {
        item.sku: expected[item.kind] for item in existing
    }
    linked = Listing.objects.filter(store=store, walmart_sku__in=[item.sku for item in existing])
    assert linked.count() == sum(1 for item in existing if item.kind in ("sku", "identifier"))
    assert not linked.filter(sync_held=False).exists()
    # 40 listings matched to Walmart's items, 3 in Error with Walmart's message
    matched = Listing.objects.filter(
        store=store, status=Listing.Status.MATCH, walmart_sku__startswith="DEMO-"
    ).select_related("product")
    assert matched.count() == 40
    assert all(listing.walmart_item_id for listing in matched)
    errors = {
        listing.product.upc: listing.error_description
        for listing in Listing.objects.filter(store=store, status=Listing.Status.ERROR).select_related("product")
    }
    assert sorted(errors) == UNKNOWN_UPCS
    for upc, message in errors.items():
        assert f"No Walmart item has UPC {upc}" in message
    # quantities pushed: Walmart holds the catalog's available quantity of every matched product plus what the
    # store has sold and not shipped (Walmart's inputQty counts those units; the first order's are reserved)
    offers = dict(Offer.objects.filter(sku__startswith="DEMO-").values_list("sku", "quantity"))
    assert len(offers) == 40
    reserved = dict(StockReservation.objects.filter(store=store).values_list("product_id", "quantity"))
    for listing in matched:
        listing.product.refresh_from_db()
        expected = listing.product.quantity + reserved.get(listing.product_id, 0)
        assert listing.confirmed_quantity == expected
        assert offers[listing.product.sku] == expected
    # a first customer order arrived in the Orders tab (by webhook), and only one
    assert Order.objects.filter(store=store).count() == 1
    assert WebhookDelivery.objects.filter(event_type="PO_CREATED", status=WebhookDelivery.Status.DELIVERED).count() == 1
    # and a second start sends nothing again and adds no order
    _run(url=live_server.url + "/")
    assert Feed.objects.filter(store=store, feed_type=Feed.FeedType.ITEM_MATCH).count() == 1
    assert Order.objects.filter(store=store).count() == 1
    assert Listing.objects.filter(store=store).count() == 43 + linked.count()
