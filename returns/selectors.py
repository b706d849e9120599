"""Reads of the returns app, always scoped to one store the caller already checked access to."""

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from channel_manager.listing_pages import (
    Count,
    ListPage,
    ListQuery,
    count_bounded,
    counts_bounded,
    identifier_or_name_filtered,
    ids_matching,
    list_page_read,
    sorted_by,
)
from channel_manager.models import Store
from orders.models import Order
from orders.selectors import customer_names_containing
from returns.models import Refund, RefundLine, Return, ReturnEvent, ReturnLine

RETURN_SORTS = {
    "rma": "return_order_id",
    # A store's commerce order numbers follow the order its orders were created in: the order's id sorts
    # them from the return's own column (an index), where the number itself would need the join sorted.
    "commerce_order": ("order_id", "id"),
    "requested": "requested_at",
    "return_by": "return_by",
    "deadline": "refund_deadline",
    "amount": "charged_total",
    "status": ("status", "-requested_at", "-id"),  # as the status index holds them
    "updated": "updated_at",
}
DEFAULT_SORT = "-requested"
LIST_COLUMNS = (
    "id",
    "store_id",
    "return_order_id",
    "purchase_order_id",
    "customer_order_id",
    "order_id",
    "order__id",
    "order__commerce_order_number",
    "requested_at",
    "return_by",
    "refund_deadline",
    "items_summary",
    "item_quantity",
    "charged_total",
    "refunded_total",
    "currency",
    "status",
    "status_details",
    "updated_at",
)


def return_ids_matching_identifier(*, store: Store, term: str) -> list[int]:
    """Returns whose RMA #, Walmart order #, customer order #, commerce order # or a line's SKU is exactly
    `term`."""
    returns = Return.objects.filter(store=store)
    orders = Order.objects.filter(store=store, commerce_order_number__in={term, term.upper()})
    return ids_matching(
        [
            returns.filter(return_order_id=term).values_list("pk", flat=True),
            returns.filter(purchase_order_id=term).values_list("pk", flat=True),
            returns.filter(customer_order_id=term).values_list("pk", flat=True),
            returns.filter(order__in=orders.values("pk")).values_list("pk", flat=True),
            ReturnLine.objects.filter(sku=term, return_order__store=store)
            .values_list("return_order_id", flat=True)
            .distinct(),
        ]
    )


def return_list(*, store: Store, status: str | None = None, search: str = "", sort: str = DEFAULT_SORT) -> QuerySet:
    """Returns of one store for the Returns tab: only the list's columns (the commerce order number joined
    in), filtered by a status card and a search (exactly an RMA #, a Walmart / customer / commerce order #
    or a line's SKU; failing that, part of the customer's name, from NAME_SEARCH_MIN_LENGTH characters: a
    trigram index on PostgreSQL), sorted by a key of RETURN_SORTS ("-" for descending), id as tie-breaker."""
    return _return_list(store=store, status=status, search=search, sort=sort)[0]


def _return_list(*, store: Store, status: str | None, search: str, sort: str) -> tuple[QuerySet, bool]:
    """return_list, with whether its search reads the rows of names found first (list_page_read's `covered`)."""
    returns = Return.objects.filter(store=store).select_related("order").only(*LIST_COLUMNS)
    if status in Return.Status.values:
        returns = returns.filter(status=status)
    search = (search or "").strip()
    covered = False
    if search:
        matched_ids = return_ids_matching_identifier(store=store, term=search)
        returns, covered = identifier_or_name_filtered(
            returns,
            matched_ids=matched_ids,
            search=search,
            names_containing=lambda term: customer_names_containing(store=store, search=term),
        )
    returns = sorted_by(returns, sort=sort if sort.lstrip("-") in RETURN_SORTS else DEFAULT_SORT, sorts=RETURN_SORTS)
    return returns, covered


def return_status_counts(*, store: Store) -> dict[str, Count]:
    """{status: count} for the status cards, every status present: exact up to a bound, estimated above
    (channel_manager.listing_pages.counts_bounded: one query whatever the number of returns)."""
    return counts_bounded(
        {status: Return.objects.filter(store=store, status=status) for status in Return.Status.values},
        remember_over=True,
    )


def returns_due_soon_count(*, store: Store, now: datetime, within: timedelta) -> Count:
    """Returns still waiting for a refund whose auto-refund by Walmart comes within `within` (or has passed):
    exact up to a bound, estimated above."""
    return count_bounded(
        Return.objects.filter(store=store, refund_deadline__lt=now + within).exclude(status=Return.Status.REFUNDED)
    )


def return_page(*, store: Store, query: ListQuery, counts: Mapping[str, int]) -> ListPage:
    """The Returns tab's page for `query`: the total from the status `counts` when no search is active, else
    a bounded count; the same few queries whatever the page size or the number of returns."""
    returns, covered = _return_list(store=store, status=query.status, search=query.search, sort=query.sort)
    return list_page_read(returns, query=query, counts=counts, covered=covered)


def return_get(*, store: Store, return_id: int) -> Return:
    """One return of the store with its lines, refunds and timeline; Http404 otherwise."""
    queryset = (
        Return.objects.filter(store=store)
        .select_related("order")
        .prefetch_related(
            Prefetch(
                "lines", queryset=ReturnLine.objects.select_related("order_line").order_by("return_order_line_number")
            ),
            Prefetch(
                "refunds",
                queryset=Refund.objects.select_related("created_by")
                .prefetch_related(
                    Prefetch(
                        "lines",
                        queryset=RefundLine.objects.select_related("return_line").order_by(
                            "return_line__return_order_line_number"
                        ),
                    )
                )
                .order_by("id"),
            ),
            Prefetch("events", queryset=ReturnEvent.objects.select_related("user").order_by("created_at", "id")),
        )
    )
    return get_object_or_404(queryset, pk=return_id)


def refund_get(*, return_order: Return, refund_id: int) -> Refund:
    return get_object_or_404(Refund.objects.filter(return_order=return_order), pk=refund_id)
