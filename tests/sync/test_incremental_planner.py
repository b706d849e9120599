"""The incremental planner plans exactly what a full scan plans (issue 13).

A property test with a seeded random generator (hypothesis is not in the lock): random catalogs, listings in
every status, reservations, overrides, confirmed values, refused values and feeds in flight; then rounds of
random changes made the ways the product makes them (ORM saves, queryset updates, bulk updates, the stock and
reservation services, the sync settings and price rule services, the planner's own confirmations). After
each round, the plan built from the dirty set alone equals the plan built from every matched listing: same
single calls in the same order, same feeds with the same items, same changes left waiting, same counts of
values in flight and refused.
"""

import random
from decimal import Decimal

import pytest
from django.utils import timezone

from channel_manager.models import Feed
from inventory.models import StockReservation
from inventory.services import ReservationMove, reservations_apply, stock_move
from listings.models import Listing, Product
from pricing.services import price_rule_save
from sync.models import ListingSyncDue, SyncFailure, SyncStream
from sync.planning import INVENTORY, value_text
from sync.services import sync_due_refresh, sync_due_settle, sync_plan, sync_settings_save
from tests.factories import StoreFactory
from walmart_client.resources.feeds import inventory_feed_files, price_feed_files

pytestmark = pytest.mark.django_db

STATUSES = [Listing.Status.MATCH, Listing.Status.MATCH_IN_STAGE, Listing.Status.DRAFT, Listing.Status.ERROR]
SEEDS = range(20)
ROUNDS = 15


def price(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(0, 4000)) / 100


def maybe(rng: random.Random, value, chance: float = 0.5):
    return value if rng.random() < chance else None


def catalog_create(rng: random.Random, store, other_store):
    products = [
        Product.objects.create(sku=f"P{number:04d}", name="x", price=price(rng), quantity=rng.randint(0, 9))
        for number in range(rng.randint(3, 40))
    ]
    for product in products:
        Listing.objects.create(
            store=store,
            product=product,
            status=rng.choice(STATUSES),
            confirmed_quantity=maybe(rng, rng.randint(0, 12), 0.8),
            confirmed_price=maybe(rng, price(rng), 0.8),
            price_override=maybe(rng, price(rng), 0.2),
        )
        if rng.random() < 0.3:
            Listing.objects.create(store=other_store, product=product, status=Listing.Status.MATCH)
        if rng.random() < 0.3:
            StockReservation.objects.create(store=store, product=product, quantity=rng.randint(1, 4))
    return products


def in_flight_and_refused_create(rng: random.Random, store):
    listings = list(Listing.objects.filter(store=store).select_related("product"))
    for stream, build in ((INVENTORY, inventory_feed_files), (SyncStream.PRICE, price_feed_files)):
        chosen = rng.sample(listings, k=rng.randint(0, min(5, len(listings))))
        if chosen:
            values = [
                (listing.product.sku, rng.randint(0, 9) if stream == INVENTORY else price(rng) + 1)
                for listing in chosen
            ]
            Feed.objects.create(
                store=store,
                feed_type=stream,
                status=rng.choice([Feed.Status.RECEIVED, Feed.Status.INPROGRESS, Feed.Status.PROCESSED]),
                walmart_feed_id=f"F-{stream}-{rng.random()}",
                item_count=len(values),
                payload=build(values, max_items=100, max_bytes=10**6, max_files=1)[0].payload,
            )
        for listing in rng.sample(listings, k=rng.randint(0, min(3, len(listings)))):
            value = rng.randint(0, 9) if stream == INVENTORY else price(rng) + 1
            SyncFailure.objects.update_or_create(
                listing=listing,
                stream=stream,
                defaults={"value": value_text(value), "message": "refused", "created_at": timezone.now()},
            )


def changes_made(rng: random.Random, store, products):
    """One round of random changes, through every kind of writer."""
    listings = list(Listing.objects.filter(store=store))
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(12)
        product = rng.choice(products)
        listing = rng.choice(listings)
        if kind == 0:
            Product.objects.filter(pk=product.pk).update(quantity=rng.randint(0, 9))
        elif kind == 1:
            product.refresh_from_db()
            product.price = price(rng)
            product.save()
        elif kind == 2:
            stock_move(product=product, delta=rng.randint(0, 3), reason="manual", actor="test")
        elif kind == 3:
            reservations_apply(
                store_id=store.pk,
                moves=[ReservationMove(product.pk, reserved=rng.randint(0, 2), shipped=rng.randint(0, 2))],
                actor="test",
            )
        elif kind == 4:
            reserved = list(StockReservation.objects.filter(store=store).values_list("pk", flat=True))
            StockReservation.objects.filter(pk__in=rng.sample(reserved, k=min(1, len(reserved)))).delete()
        elif kind == 5:
            Listing.objects.filter(pk=listing.pk).update(status=rng.choice(STATUSES))
        elif kind == 6:
            listing.refresh_from_db()
            listing.price_override = maybe(rng, price(rng), 0.5)
            listing.save()
        elif kind == 7:
            for one in rng.sample(listings, k=min(3, len(listings))):
                one.refresh_from_db()
                one.confirmed_quantity = rng.randint(0, 12)
                one.confirmed_price = price(rng)
            Listing.objects.bulk_update(listings[:3], ["confirmed_quantity", "confirmed_price"])
        elif kind == 8:
            sync_settings_save(
                store=store,
                values={
                    "safety_buffer": rng.randint(0, 3),
                    "max_quantity": maybe(rng, rng.randint(0, 10)),
                    "single_calls_per_tick": rng.randint(0, 4),
                    "inventory_feed_max_items": rng.randint(1, 6),
                    "price_feed_max_items": rng.randint(1, 6),
                },
            )
        elif kind == 9:
            price_rule_save(
                store=store,
                values={
                    "markup_type": rng.choice(["none", "percent", "fixed"]),
                    "markup_value": Decimal(rng.randint(-300, 3000)) / 100,
                    "price_ending": maybe(rng, Decimal(rng.choice([99, 95, 0, 49])) / 100),
                },
            )
        elif kind == 10:
            Product.objects.filter(pk__in=[p.pk for p in rng.sample(products, k=min(4, len(products)))]).update(
                quantity=rng.randint(0, 9), price=price(rng)
            )
        else:
            SyncFailure.objects.filter(listing=listing).delete()
            Listing.objects.filter(pk=listing.pk).update(confirmed_quantity=None, confirmed_price=None)


def comparable(planned):
    plan = planned.plan
    return {
        "singles": plan.singles,
        "feeds": [feed.changes for feed in plan.feeds],
        "payloads": [feed.payload for feed in plan.feeds],
        "waiting": plan.waiting,
        "in_flight": plan.in_flight_count,
        "blocked": plan.blocked_count,
    }


def confirmations_applied(rng: random.Random, planned):
    """Walmart confirms some of what was planned (as the sends and feed results do)."""
    spec_field = "confirmed_quantity" if planned.stream == INVENTORY else "confirmed_price"
    for change in planned.plan.singles + [c for feed in planned.plan.feeds for c in feed.changes]:
        if rng.random() < 0.9:
            Listing.objects.filter(pk=change.listing_id).update(**{spec_field: change.value})


@pytest.mark.parametrize("seed", SEEDS)
def test_the_incremental_planner_plans_what_a_full_scan_plans(seed):
    rng = random.Random(seed)
    store = StoreFactory(name=f"store {seed}")
    other = StoreFactory(name=f"other {seed}")
    products = catalog_create(rng, store, other)
    in_flight_and_refused_create(rng, store)
    for round_number in range(ROUNDS):
        for stream in SyncStream.values:
            sync_due_refresh(store=store, stream=stream)
            full = sync_plan(store=store, stream=stream, incremental=False)
            incremental = sync_plan(store=store, stream=stream)
            assert comparable(incremental) == comparable(full), (seed, round_number, stream)
            sync_due_settle(planned=incremental)
            # settling changed nothing the next plan sees
            assert comparable(sync_plan(store=store, stream=stream)) == comparable(full)
            confirmations_applied(rng, full)
        changes_made(rng, store, products)
    # the dirty set holds only listings that still differ (or are held back)
    for stream in SyncStream.values:
        sync_due_refresh(store=store, stream=stream)
        planned = sync_plan(store=store, stream=stream)
        sync_due_settle(planned=planned)
        due = ListingSyncDue.objects.filter(store=store, stream=stream).count()
        full = sync_plan(store=store, stream=stream, incremental=False).plan
        assert due == full.change_count + full.in_flight_count + full.blocked_count
