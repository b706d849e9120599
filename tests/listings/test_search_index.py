"""The Listings tab's product search (`listing_list(search=...)`): what it matches, on every database, and
on PostgreSQL that it is served by indexes (the name's trigram index of migration 0003, the SKU's prefix
index of migration 0004) rather than a scan of the catalog."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Left
from django.utils import timezone

from channel_manager.listing_pages import ListQuery, sorted_by
from channel_manager.trigram_search import WORD_MIN_LENGTH, column_sample, trigram_piece
from listings.models import Listing, Product
from listings.selectors import (
    ERROR_SORT_LENGTH,
    LISTING_SORTS,
    listing_list,
    listing_page,
    listing_status_counts,
    products_matching,
)
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


# --- the name's trigram piece: the same rows as the whole search ---------------------------------------------

WORDS = ["mug", "lamp", "kettle"]
SEARCHES = [
    "product",  # in every name
    "product 137",  # one name, though "product"'s trigrams are in every one: the index is asked for "137"
    "PRODUCT 11",  # product 110-119, any case
    "duct 12 lam",  # parts of words at both ends
    "mug",
    "Kettle",
    "BENCH-0",  # the start of every SKU
    "bench-013",  # ten SKUs, any case
    "7000000112",  # a Walmart item id, exactly
    "no such thing",
    "product 13_",  # LIKE's wildcards in a search are plain characters: no name holds "13_"
    "13%",
]
SORTS = [*LISTING_SORTS, *(f"-{key}" for key in LISTING_SORTS)]


@pytest.fixture
def catalog(store, other_store):
    """40 listings of numbered products (101-140) in every status (item ids on matched ones, errors on failed ones, ties
    in quantity and price), a part whose name holds a number but not "product", a same-named product in another
    store, and on PostgreSQL the statistics the
    piece is chosen on (ANALYZE, as autovacuum runs it)."""
    statuses = Listing.Status.values
    for number in range(101, 141):
        status = statuses[number % len(statuses)]
        matched = status in (Listing.Status.MATCH, Listing.Status.MATCH_IN_STAGE)
        ListingFactory(
            store=store,
            product=ProductFactory(
                sku=f"BENCH-{number:04d}",
                name=f"Benchmark {'Product' if number % 3 else 'product'} {number} {WORDS[number % 3]}",
                quantity=number % 4,
                price=Decimal(number % 5) + Decimal("0.99"),
            ),
            status=status,
            walmart_item_id=str(7000000000 + number) if matched else "",
            error_description=f"No item matches {number % 6}" if status == Listing.Status.ERROR else "",
            last_synced_at=timezone.now() - timedelta(minutes=number % 7) if matched else None,
        )
    ListingFactory(store=store, product=ProductFactory(sku="PART-137", name="Spare lid 137 for a kettle"))
    ListingFactory(store=other_store, product=ProductFactory(sku="BENCH-9999", name="Benchmark product 137 mug"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE listings_product")
    return store


def listing_ids_before(store, *, status, search, sort):
    """The listings the search found before the trigram piece: the item id exactly, else every product whose
    SKU starts with the whole search or whose name contains it."""
    listings = Listing.objects.filter(store=store).annotate(error_start=Left("error_description", ERROR_SORT_LENGTH))
    if status:
        listings = listings.filter(status=status)
    by_item = Listing.objects.filter(store=store, walmart_item_id=search).values("pk")
    if by_item.exists():
        listings = listings.filter(pk__in=by_item)
    else:
        products = Product.objects.filter(Q(sku__istartswith=search) | Q(name__icontains=search))
        listings = listings.filter(product__in=products)
    return list(sorted_by(listings, sort=sort, sorts=LISTING_SORTS).values_list("pk", flat=True))


def search_cases():
    for search in SEARCHES:
        for sort in SORTS:
            yield search, None, sort
        for status in Listing.Status.values:
            yield search, status, "added"
            yield search, status, "-name"


@pytest.mark.parametrize("limit", [1, 1000])  # products' ids read first, or a subquery (see listing_list)
def test_listing_search_finds_the_rows_of_the_whole_search_in_every_sort_and_status(catalog, monkeypatch, limit):
    monkeypatch.setattr("listings.selectors.PRODUCT_MATCH_LIMIT", limit)
    counts = listing_status_counts(store=catalog)
    for search, status, sort in search_cases():
        expected = listing_ids_before(catalog, status=status, search=search, sort=sort)
        found = listing_list(store=catalog, status=status or "", search=search, sort=sort).values_list("pk", flat=True)
        page = listing_page(
            store=catalog, query=ListQuery(status=status, search=search, sort=sort, page_size=25), counts=counts
        )
        case = (search, status, sort)
        assert list(found) == expected, case
        assert [listing.pk for listing in page.rows] == expected[:25], case
        assert (int(page.total), page.total.exact) == (len(expected), True), case
    # and on PostgreSQL the rare name was asked of the index by its number alone
    if connection.vendor == "postgresql":
        assert trigram_piece("product 137", column_sample(Product, "name")) == "137"


@pytest.mark.parametrize("search", SEARCHES)
def test_products_matching_any_word_as_the_piece_finds_the_products_of_the_whole_search(catalog, search):
    # on every database, whichever word the index is asked for
    expected = set(products_matching(search, name_piece=search).values_list("pk", flat=True))
    for word in {word for word in re.findall(r"[^\W_]+", search) if len(word) >= WORD_MIN_LENGTH}:
        assert set(products_matching(search, name_piece=word).values_list("pk", flat=True)) == expected, word
