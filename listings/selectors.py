"""Reads of the listings app. Store-scoped reads take a store the caller already loaded with
`channel_manager.selectors.store_get` (membership checked there)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Q, QuerySet
from django.db.models.functions import Left
from django.shortcuts import get_object_or_404

from channel_manager.listing_pages import (
    Count,
    ListPage,
    ListQuery,
    count_bounded,
    counts_bounded,
    ids_matching,
    list_page_read,
    page_read,
    sorted_by,
)
from channel_manager.models import Store
from channel_manager.trigram_search import contains_q
from listings.models import ImportJob, ImportRowError, Listing, Product, StoreAttributeMapping

LISTING_SORTS: dict[str, str | tuple[str, ...]] = {
    "name": "product__name",
    "sku": "product__sku",
    "quantity": ("product__quantity", "product_id"),  # product_quantity_id_idx serves it (see Product.Meta)
    "price": "product__price",
    "status": "status",
    "error": "error_start",  # the first ERROR_SORT_LENGTH characters: an index holds them (see Listing.Meta)
    "item": "walmart_item_id",
    "synced": "last_synced_at",
    "added": "id",
}
DEFAULT_LISTING_SORT = "added"
# A search matching up to this many products filters the listings by their ids (see listing_list).
PRODUCT_MATCH_LIMIT = 1000
ERROR_SORT_LENGTH = 100


def product_list(*, search: str = "") -> QuerySet[Product]:
    """Catalog products, by SKU; `search` matches the start of the SKU, any part of the name or brand, or an
    identifier exactly."""
    products = Product.objects.all().order_by("sku")
    search = search.strip()
    if search:
        compact = search.replace("-", "").replace(" ", "")
        products = products.filter(
            Q(sku__istartswith=search)
            | Q(name__icontains=search)
            | Q(brand__icontains=search)
            | Q(upc=compact)
            | Q(gtin=compact)
            | Q(ean=compact)
            | Q(isbn=compact.upper())
            | Q(issn=compact.upper())
        )
    return products


def products_matching(search: str, *, name_piece: str | None = None) -> QuerySet[Product]:
    """Products whose SKU starts with `search` or whose name contains it, any case: on PostgreSQL the SKU's
    prefix index and the name's trigram index serve it, the latter asked for the rarest part of `search`
    (`name_piece`, by default chosen on the name's statistics: channel_manager.trigram_search)."""
    return Product.objects.filter(Q(sku__istartswith=search) | contains_q(Product, "name", search, piece=name_piece))


def listing_list(*, store: Store, status: str = "", search: str = "", sort: str = "") -> QuerySet[Listing]:
    """A store's listings with their product (one query), filtered by status and search (exactly a Walmart
    item id; failing that, the start of the SKU or part of the product's name), sorted by one of
    `LISTING_SORTS` (prefix "-" for descending; ties broken by id; an unknown key sorts by "added")."""
    listings = (
        Listing.objects.filter(store=store)
        .select_related("product")
        .annotate(error_start=Left("error_description", ERROR_SORT_LENGTH))
    )
    if status in Listing.Status.values:
        listings = listings.filter(status=status)
    search = search.strip()
    if search:
        by_item = Listing.objects.filter(store=store, walmart_item_id=search).values_list("pk", flat=True)
        matched_ids = ids_matching([by_item])
        if matched_ids:
            listings = listings.filter(pk__in=matched_ids)
        else:
            # The products first (SKU prefix, trigram on the name: their indexes find them), then the listings
            # of those products. A substring's trigram scan is the costly part (tens of ms at a million
            # products when the words are common), so when few products match their ids are read once and
            # the count and the page use the list (one array parameter: a thousand ids written as a thousand
            # placeholders cost each query milliseconds to compile); many matches stay a subquery (the count
            # is an estimate).
            products = products_matching(search).order_by().values_list("pk", flat=True)
            product_ids = list(products[: PRODUCT_MATCH_LIMIT + 1])
            if len(product_ids) <= PRODUCT_MATCH_LIMIT:
                listings = listings.filter(product_id__any_of=product_ids)
            else:
                listings = listings.filter(product_id__in=products)
    sort = sort if sort.lstrip("-") in LISTING_SORTS else DEFAULT_LISTING_SORT
    return sorted_by(listings, sort=sort, sorts=LISTING_SORTS)


def listing_status_counts(*, store: Store) -> dict[str, Count]:
    """How many listings the store has in each status (every status present): exact up to a bound,
    estimated above (channel_manager.listing_pages.counts_bounded: one query whatever the number)."""
    listings = Listing.objects.filter(store=store)
    return counts_bounded(
        {status: listings.filter(status=status) for status in Listing.Status.values}, remember_over=True
    )


def listing_page(*, store: Store, query: ListQuery, counts: Mapping[str, int]) -> ListPage:
    """The Listings tab's page for `query`: the total from the status `counts` when no search is active,
    else a bounded count; the same few queries whatever the page size or the number of listings."""
    return list_page_read(
        listing_list(store=store, status=query.status or "", search=query.search, sort=query.sort),
        query=query,
        counts=counts,
    )


def product_page(*, query: ListQuery) -> ListPage:
    """The catalog's page for `query` (a bounded count for its total)."""
    products = product_list(search=query.search)
    return page_read(products, query=query, total=count_bounded(products))


def attribute_mapping_get(*, store: Store) -> StoreAttributeMapping | None:
    return StoreAttributeMapping.objects.filter(store=store).first()


def import_jobs_visible(*, user) -> QuerySet[ImportJob]:
    """The import jobs `user` may see: their own; staff see everyone's."""
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if user.is_staff else jobs.filter(created_by=user)


def import_job_list(*, user, limit: int = 10) -> QuerySet[ImportJob]:
    return import_jobs_visible(user=user).order_by("-created_at")[:limit]


def import_job_get(*, user, job_id: int) -> ImportJob:
    """One import job `user` may see; Http404 otherwise (another user's job does not exist for them)."""
    return get_object_or_404(import_jobs_visible(user=user), pk=job_id)


def import_row_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(job=job).order_by("row_number", "id")
