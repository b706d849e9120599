"""Reads of the returns app, always scoped to one store the caller already checked access to."""

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from channel_manager.listing_pages import ListPage, page_window, sort_normalised, sorted_by
from channel_manager.models import Store
from returns.models import Refund, RefundLine, Return, ReturnEvent, ReturnLine

RETURN_SORTS = {
    "rma": "return_order_id",
    "commerce_order": "order__commerce_order_number",
    "requested": "requested_at",
    "return_by": "return_by",
    "deadline": "refund_deadline",
    "amount": "charged_total",
    "status": "status",
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


def return_sort_normalised(sort: str | None) -> str:
    return sort_normalised(sort, sorts=RETURN_SORTS, default=DEFAULT_SORT)


def return_list(*, store: Store, status: str | None = None, search: str = "", sort: str = DEFAULT_SORT) -> QuerySet:
    """Returns of one store for the Returns tab: only the list's columns (the commerce order number joined
    in), filtered by a status card and a search (RMA, Walmart / customer / commerce order number, customer
    name, or a line's SKU), sorted by a key of RETURN_SORTS ("-" for descending), id as tie-breaker."""
    returns = Return.objects.filter(store=store).select_related("order").only(*LIST_COLUMNS)
    if status in Return.Status.values:
        returns = returns.filter(status=status)
    search = (search or "").strip()
    if search:
        sku_match = ReturnLine.objects.filter(return_order=OuterRef("pk"), sku=search)
        returns = returns.filter(
            Q(return_order_id=search)
            | Q(purchase_order_id=search)
            | Q(customer_order_id=search)
            | Q(order__commerce_order_number__iexact=search)
            | Q(customer_name__icontains=search)
            | Exists(sku_match)
        )
    return sorted_by(returns, sort=return_sort_normalised(sort), sorts=RETURN_SORTS)


def return_status_counts(*, store: Store) -> dict[str, int]:
    """{status: count} for the status cards, every status present (one GROUP BY query)."""
    counts = dict.fromkeys(Return.Status.values, 0)
    for row in Return.objects.filter(store=store).order_by().values("status").annotate(total=Count("id")):
        counts[row["status"]] = row["total"]
    return counts


def returns_due_soon_count(*, store: Store, now: datetime, within: timedelta) -> int:
    """Returns still waiting for a refund whose auto-refund by Walmart comes within `within` (or has passed)."""
    return (
        Return.objects.filter(store=store, refund_deadline__lt=now + within)
        .exclude(status=Return.Status.REFUNDED)
        .count()
    )


class ReturnPage(ListPage):
    @property
    def returns(self) -> list[Return]:
        return self.rows


def return_page(*, returns: QuerySet, number: int, page_size: int, total: int) -> ReturnPage:
    """One page by offset. `total` is passed in (the status counts hold it when no search is active), so
    a page costs one query whatever its size."""
    number, page_size, offset = page_window(number=number, page_size=page_size, total=total)
    return ReturnPage(rows=list(returns[offset : offset + page_size]), number=number, page_size=page_size, total=total)


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
