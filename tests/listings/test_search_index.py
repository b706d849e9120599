"""The Listings tab's product search (`listing_list(search=...)`): what it matches, on every database, and
on PostgreSQL that it is served by indexes (the name's trigram index of migration 0003, the SKU's prefix
index of migration 0004) rather than a scan of the catalog."""

import pytest
from django.db import connection

from listings.selectors import listing_list, products_matching
from tests.listings.factories import ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _listings(store):
    return {
        "kettle": ListingFactory(store=store, product=ProductFactory(sku="KT-100", name="Steel Kettle 1.7 l")),
        "toaster": ListingFactory(store=store, product=ProductFactory(sku="TS-200", name="Two-slot Toaster")),
        "item": ListingFactory(
            store=store, product=ProductFactory(sku="MX-300", name="Hand Mixer"), walmart_item_id="987"
        ),
    }


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("kettle", ["kettle"]),  # any part of the name, any case
        ("SLOT TOAST", ["toaster"]),
        ("ts-2", ["toaster"]),  # the start of the SKU, any case
        ("200", []),  # the middle of a SKU does not match
        ("987", ["item"]),  # Walmart's item id, exactly
        ("kettles", []),
    ],
)
def test_listing_search_matches_name_part_sku_start_or_item_id(store, other_store, search, expected):
    # given listings of this store, and a same-named one of another store
    listings = _listings(store)
    ListingFactory(store=other_store, product=ProductFactory(sku="KT-999", name="Steel Kettle"))
    # when
    found = list(listing_list(store=store, search=search))
    # then
    assert found == [listings[name] for name in expected]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram indexes exist on PostgreSQL only")
def test_listing_search_is_served_by_the_search_indexes_on_postgresql(store):
    # given the indexes from migrations 0003 and 0004, and a planner told not to scan (the tables are tiny)
    _listings(store)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'listings_product' "
            "AND indexname LIKE %s OR indexname LIKE %s",
            ["%trgm%", "%prefix%"],
        )
        indexes = dict(cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
    # when
    plan = products_matching("kettle").order_by().explain()  # as listing_list uses it: unordered
    listings_plan = listing_list(store=store, search="kettle").explain()
    # then the product search reads both indexes, built on the very expressions Django's lookups compile to,
    # and the listings' search never scans the catalog
    assert indexes == {
        "product_name_upper_trgm_idx": (
            "CREATE INDEX product_name_upper_trgm_idx ON public.listings_product "
            "USING gin (upper((name)::text) gin_trgm_ops)"
        ),
        "product_sku_upper_prefix_idx": (
            "CREATE INDEX product_sku_upper_prefix_idx ON public.listings_product "
            "USING btree (upper((sku)::text) text_pattern_ops)"
        ),
    }
    assert "Bitmap Index Scan on product_name_upper_trgm_idx" in plan
    assert "Bitmap Index Scan on product_sku_upper_prefix_idx" in plan
    assert "Seq Scan on listings_product" not in listings_plan
