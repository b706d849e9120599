"""The living demo of `make run`: a demo login, a demo seller on the Walmart emulator with a catalog, a
demo store connected to it, a demo catalog of products listed in the store and sent for matching, and the
first sync steps kicked as soon as the web server answers, so a new user sees the product work within a
minute of starting it.

The demo seller also sells items on Walmart from before the channel manager (`walmart_emulator.demo`): some
under SKUs the demo catalog has, some the catalog knows by identifier only (UPC, EAN, ISBN, GTIN), some whose
identifier two catalog products share (ambiguous), some unknown to the catalog. The catalog holds the
matching products, not listed in the store, so Import from Walmart (run on the store's first connection, and
again from the Walmart items tab) links what it can and lists the rest as Unmanaged.

`demo_setup` runs before the web server starts (the launcher calls it between `migrate` and `runserver`),
so it never calls Walmart itself: it writes the local rows and enqueues `demo_store_start_task`, which
waits for the emulator to answer and then walks the store through its first minute (connection test,
webhook subscription, matching, inventory and price push, a first customer order, an order poll). The
beat jobs (match-feed poll, sync planner, order poll, the emulator's order trickle) keep it living after.
"""

from __future__ import annotations

import logging
import random
import secrets
import socket
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.urls import reverse

from channel_manager.models import Feed, Store, StoreMembership

logger = logging.getLogger(__name__)

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_STORE_NAME = "Demo Walmart store"
DEMO_SKU_PREFIX = "DEMO-"
DEMO_CATALOG_ITEMS = 40
DEMO_QUANTITY_SEED = 4_004
DEMO_SHIPPING_WEIGHT = Decimal("1.5")
# Valid UPC-A codes (GS1 check digit right) in number system 9, which the emulator's catalog seeder never
# uses: Walmart answers "not in the catalog" for them, so the demo shows three listings in Error.
DEMO_UNKNOWN_PRODUCTS = (
    ("DEMO-X01", "Handmade walnut cutting board (not on Walmart)", "987654321012", Decimal("34.90")),
    ("DEMO-X02", "Linen apron, sage (not on Walmart)", "987654321029", Decimal("21.50")),
    ("DEMO-X03", "Beeswax candle set of 3 (not on Walmart)", "987654321036", Decimal("16.00")),
)

# The start task's steps: each reschedules itself (or the next step) until done or out of attempts.
STEP_CONNECT, STEP_RESULTS, STEP_ORDER = "connect", "results", "order"
CONNECT_ATTEMPTS, CONNECT_WAIT_SECONDS = 90, 2.0
RESULTS_ATTEMPTS, RESULTS_WAIT_SECONDS = 40, 3.0
ORDER_ATTEMPTS, ORDER_WAIT_SECONDS = 24, 5.0


@dataclass(frozen=True)
class DemoSetupResult:
    user_id: int
    password: str | None  # set only when the login was created by this run
    store_id: int | None  # None without the emulator
    store_created: bool = False
    products_created: int = 0
    listings_created: int = 0
    start_queued: bool = False
    onboarding_products_created: int = 0  # catalog products of the seller's items already on Walmart


def demo_user_ensure() -> tuple[AbstractBaseUser, str | None]:
    """The demo superuser, and its new password when it was created now (None when it already existed).
    Safe to re-run: an existing login, and its password, are left as they are."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=DEMO_USERNAME).first()
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_superuser(username=DEMO_USERNAME, email=DEMO_EMAIL, password=password)
    return user, password


def demo_products(identifiers: list[dict]) -> list[dict]:
    """The demo catalog's product values: one per emulator catalog identifier (its title and price, a
    quantity from 5 to 50) plus the three products Walmart does not know. Deterministic."""
    rng = random.Random(DEMO_QUANTITY_SEED)  # noqa: S311 - demo data
    products = [
        {
            "sku": f"{DEMO_SKU_PREFIX}{index:03d}",
            "name": identifier["title"],
            "brand": identifier["title"].split()[0],
            "upc": identifier["productId"],
            "price": identifier["price"],
            "quantity": rng.randint(5, 50),
            "shipping_weight": DEMO_SHIPPING_WEIGHT,
        }
        for index, identifier in enumerate(identifiers, start=1)
    ]
    products += [
        {
            "sku": sku,
            "name": name,
            "upc": upc,
            "price": price,
            "quantity": rng.randint(5, 50),
            "shipping_weight": DEMO_SHIPPING_WEIGHT,
        }
        for sku, name, upc, price in DEMO_UNKNOWN_PRODUCTS
    ]
    return products


def demo_onboarding_products(existing: list) -> list[dict]:
    """The catalog products of the demo seller's items already on Walmart (`walmart_emulator.seeding`
    SeededItems): the same SKU for a `sku` item; another SKU with the item's identifier for an `identifier`
    item, two for an `ambiguous` one; none for an `unknown` one. Not listed in the store. Deterministic."""
    rng = random.Random(DEMO_QUANTITY_SEED + 1)  # noqa: S311 - demo data
    products = []
    for item in existing:
        for sku in item.catalog_skus:
            values = {
                "sku": sku,
                "name": item.title,
                "brand": item.brand,
                "price": str(item.price),
                "quantity": rng.randint(5, 50),
                "shipping_weight": DEMO_SHIPPING_WEIGHT,
            }
            if item.kind != "sku":
                values[item.id_type.lower()] = item.product_id
            products.append(values)
    return products


def demo_setup(*, site_url: str, start: bool = True) -> DemoSetupResult:
    """Create what the demo needs and is missing: the login; with the emulator on, the emulator's demo seller
    and catalog, the demo store connected to it (Map Attributes: UPC), the demo products, and their Draft
    listings in the store; and the catalog products of the seller's items already on Walmart (not listed:
    Import from Walmart links them). With `start`, `demo_store_start_task` is queued after commit to match them and
    kick the first syncs once the web server at `site_url` answers.

    Safe to re-run on every start: nothing that exists is changed or duplicated (products are found by SKU,
    listings by the (store, product) constraint, the mapping is set only when the store has none), and the
    start task sends only Draft listings. Never calls Walmart. Raises nothing for an existing demo.
    """
    from listings.models import Product, StoreAttributeMapping
    from listings.services import attribute_mapping_save, listings_add, product_create

    user, password = demo_user_ensure()
    if not settings.WALMART_EMULATOR_ENABLED:
        return DemoSetupResult(user_id=user.pk, password=password, store_id=None)
    from walmart_emulator.demo import emulator_demo_seed
    from walmart_emulator.models import Seller

    seed = emulator_demo_seed(items=DEMO_CATALOG_ITEMS)
    # The trickle of simulated orders (a beat job of the emulator) places orders for flagged sellers only.
    Seller.objects.filter(pk=seed.seller_id, simulate_orders=False).update(simulate_orders=True)
    store, store_created = _demo_store_ensure(user=user, seed=seed)
    products_created = 0
    with transaction.atomic():
        wanted = demo_products(seed.identifiers)
        existing = set(Product.objects.filter(sku__in=[p["sku"] for p in wanted]).values_list("sku", flat=True))
        for values in wanted:
            if values["sku"] not in existing:
                product_create(actor="demo", **{k: str(v) for k, v in values.items()})
                products_created += 1
        if not StoreAttributeMapping.objects.filter(store=store).exists():
            attribute_mapping_save(store=store, identifiers=["upc"])
        listings_created = listings_add(
            store=store, products=Product.objects.filter(sku__in=[p["sku"] for p in wanted])
        )
        onboarding = demo_onboarding_products(seed.existing)
        known = set(Product.objects.filter(sku__in=[p["sku"] for p in onboarding]).values_list("sku", flat=True))
        onboarding_created = 0
        for values in onboarding:
            if values["sku"] not in known:
                product_create(actor="demo", **{k: str(v) for k, v in values.items()})
                onboarding_created += 1
        if start:
            from demo.tasks import demo_store_start_task  # body import: tasks import this module

            transaction.on_commit(lambda: demo_store_start_task.delay(store.pk, site_url))
    return DemoSetupResult(
        user_id=user.pk,
        password=password,
        store_id=store.pk,
        store_created=store_created,
        products_created=products_created,
        listings_created=listings_created,
        start_queued=start,
        onboarding_products_created=onboarding_created,
    )


def _demo_store_ensure(*, user, seed) -> tuple[Store, bool]:
    from channel_manager.services import store_create, store_credentials_change, store_member_add

    store = Store.objects.filter(name=DEMO_STORE_NAME).first()
    if store is None:
        store = store_create(
            user=user,
            name=DEMO_STORE_NAME,
            environment=Store.Environment.EMULATOR,
            client_id=seed.client_id,
            client_secret=seed.client_secret,
            notification_email=DEMO_EMAIL,
        )
        return store, True
    if store.environment == Store.Environment.EMULATOR and store.client_id != seed.client_id:
        # A demo store of an older demo points at another emulator seller: connect it to the demo seller.
        store_credentials_change(
            store=store,
            client_id=seed.client_id,
            client_secret=seed.client_secret,
            environment=Store.Environment.EMULATOR,
        )
    store_member_add(store=store, user=user, role=StoreMembership.Role.MANAGER)
    return store, False


# --- the first minute, once the web server answers ------------------------------------------------


def _emulator_answers(store: Store) -> bool:
    parts = urlsplit(store.api_base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=1.0):
            return True
    except OSError:
        return False


def _webhook_url(*, store: Store, site_url: str) -> str:
    from orders.services import order_settings_ensure

    token = order_settings_ensure(store=store).webhook_token
    return site_url.rstrip("/") + reverse("orders:webhook_receive", args=[token])


def _step_connect(store: Store, site_url: str, attempt: int) -> tuple[str | None, float]:
    from channel_manager.connection import store_connection_test
    from listings.models import Listing
    from listings.services import MatchNotConfigured, listings_match
    from orders.services import order_settings_ensure, webhook_subscribe
    from walmart_client.errors import WalmartError

    if not _emulator_answers(store):
        return (STEP_CONNECT, CONNECT_WAIT_SECONDS) if attempt + 1 < CONNECT_ATTEMPTS else (None, 0)
    result = store_connection_test(store=store)
    if not result.connected:
        logger.warning("Demo store: connection test failed: %s", result.error)
        return (STEP_CONNECT, CONNECT_WAIT_SECONDS) if attempt + 1 < CONNECT_ATTEMPTS else (None, 0)
    if not order_settings_ensure(store=store).webhook_subscription_ids:
        try:
            count = webhook_subscribe(store=store, event_url=_webhook_url(store=store, site_url=site_url))
            logger.info("Demo store: %d order webhook subscriptions", count)
        except WalmartError as error:  # the 5-minute order poll still brings the orders in
            logger.warning("Demo store: webhook subscription failed: %s", error)
    try:
        match = listings_match(store=store, listings=Listing.objects.filter(store=store, status=Listing.Status.DRAFT))
        logger.info("Demo store: %d listings sent for matching in %d feeds", match.submitted, match.feeds)
    except MatchNotConfigured as error:
        logger.warning("Demo store: %s", error)
    delay = float(getattr(settings, "WALMART_EMULATOR_FEED_DELAY_SECONDS", 5.0))
    return STEP_RESULTS, delay + 1.0


def _step_results(store: Store, attempt: int) -> tuple[str | None, float]:
    from listings.services import match_feed_poll
    from sync.models import SyncStream
    from sync.services import sync_enqueue
    from walmart_client.errors import WalmartError

    open_feeds = Feed.objects.filter(store=store, feed_type=Feed.FeedType.ITEM_MATCH, completed_at__isnull=True)
    for feed in open_feeds.exclude(walmart_feed_id__isnull=True).exclude(walmart_feed_id=""):
        try:
            match_feed_poll(feed=feed)
        except WalmartError as error:
            logger.warning("Demo store: polling match feed %s failed: %s", feed.pk, error)
    if open_feeds.exists() and attempt + 1 < RESULTS_ATTEMPTS:
        return STEP_RESULTS, RESULTS_WAIT_SECONDS
    sync_enqueue(store_id=store.pk, stream=SyncStream.INVENTORY, countdown=0)
    sync_enqueue(store_id=store.pk, stream=SyncStream.PRICE, countdown=0)
    return STEP_ORDER, ORDER_WAIT_SECONDS


def _step_order(store: Store, attempt: int) -> tuple[str | None, float]:
    from orders.models import Order
    from orders.tasks import order_poll_task
    from walmart_emulator.models import Seller
    from walmart_emulator.orders import OrderSimulationError
    from walmart_emulator.services import order_simulate

    if not Order.objects.filter(store=store).exists():
        seller = Seller.objects.filter(client_id=store.client_id).first()
        if seller is None:
            return None, 0
        try:
            order_simulate(seller=seller)
        except OrderSimulationError:  # no offer has stock on Walmart yet: the inventory push is on its way
            return (STEP_ORDER, ORDER_WAIT_SECONDS) if attempt + 1 < ORDER_ATTEMPTS else (None, 0)
    # The webhook normally brings the order in at once; the poll is the fallback the product relies on.
    transaction.on_commit(lambda: order_poll_task.apply_async(args=(store.pk,), countdown=5))
    return None, 0


def demo_store_start_step(*, store_id: int, site_url: str, step: str, attempt: int) -> tuple[str | None, float]:
    """Run one step of the demo store's first minute; return (next step or None when done, seconds to wait).

    connect: wait until the emulator answers, test the connection, subscribe the order webhooks (once),
    send the Draft listings for matching. results: poll the open match feeds until Walmart has answered,
    then queue an inventory and a price run. order: once an offer has stock on the emulator, place one
    customer order if the store has none yet, and queue an order poll. Each step gives up after a bounded
    number of attempts (the beat jobs then carry on). Safe to re-run: each step checks what is done.
    """
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return None, 0
    if step == STEP_CONNECT:
        return _step_connect(store, site_url, attempt)
    if step == STEP_RESULTS:
        return _step_results(store, attempt)
    if step == STEP_ORDER:
        return _step_order(store, attempt)
    raise ValueError(f"Unknown demo step {step!r}.")
