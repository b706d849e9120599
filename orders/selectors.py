"""Reads of the orders app, always scoped to one store the caller already checked access to."""

from collections.abc import Mapping

from django.db import connections
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from channel_manager.listing_pages import (
    ListPage,
    ListQuery,
    identifier_or_name_filtered,
    ids_matching,
    list_page_read,
    sorted_by,
)
from channel_manager.models import Store
from orders.models import Cancellation, CustomerName, Order, OrderLine, OrderStatusCount, Shipment

ORDER_SORTS = {
    "ordered": "order_date",
    "ship_by": "ship_by",
    "deliver_by": "deliver_by",
    "value": "order_total",
    "updated": "updated_at",
    "walmart_order": "purchase_order_id",
    "commerce_order": "commerce_order_number",
    # Few distinct values: the rows of one value newest first, as the status and method indexes hold them.
    "method": ("method_code", "-order_date", "-id"),
    "status": ("status", "-order_date", "-id"),
}
DEFAULT_SORT = "-ordered"
# A name search finding more distinct names than this reads the rows' own column instead (a walk of the sort's
# index, then the trigram index): each name found is one descent of the covering index (~8 us: 2,400 names,
# 100,000 rows: 57 ms; 18,000 names, 62,000 rows: 185 ms), while a term in that many names is common enough for
# the walk to meet a page of it early (a 3-letter term in 18,000 of 280,000 names: 25 ms).
CUSTOMER_NAMES_LIMIT = 5_000
LIST_COLUMNS = (
    "id",
    "store_id",
    "purchase_order_id",
    "commerce_order_number",
    "items_summary",
    "item_quantity",
    "order_total",
    "currency",
    "order_date",
    "ship_by",
    "deliver_by",
    "method_code",
    "updated_at",
    "status",
    "status_details",
    "intent_to_cancel",
    "provisional",
)


def order_ids_matching_identifier(*, store: Store, term: str) -> list[int]:
    """Orders whose Walmart order #, customer order #, commerce order # or a line's SKU is exactly `term`."""
    orders = Order.objects.filter(store=store)
    return ids_matching(
        [
            orders.filter(purchase_order_id=term).values_list("pk", flat=True),
            orders.filter(customer_order_id=term).values_list("pk", flat=True),
            orders.filter(commerce_order_number__in={term, term.upper()}).values_list("pk", flat=True),
            OrderLine.objects.filter(sku=term, order__store=store).values_list("order_id", flat=True).distinct(),
        ]
    )


def customer_names_containing(*, store: Store, search: str) -> QuerySet | None:
    """The customer names of the store's orders and returns that contain `search` (case-insensitive), from
    CustomerName (its trigram index): a subquery of their `customer_name` (empty: `.none()`), counted here up to
    CUSTOMER_NAMES_LIMIT + 1; None where the names are not kept (other databases than PostgreSQL) or when more
    than CUSTOMER_NAMES_LIMIT contain it. The names stay in the database: a page's queries join them (a list
    of thousands of names sent back costs the planner ~3 us a name in each query that carries it)."""
    if connections[CustomerName.objects.db].vendor != "postgresql":
        return None
    names = CustomerName.objects.filter(store=store, customer_name__icontains=search).values("customer_name")
    found = names[: CUSTOMER_NAMES_LIMIT + 1].count()
    if found > CUSTOMER_NAMES_LIMIT:
        return None
    return names if found else names.none()


def order_list(*, store: Store, status: str | None = None, search: str = "", sort: str = DEFAULT_SORT) -> QuerySet:
    """Orders of one store for the Orders tab: only the list's columns, filtered by a status card and a
    search (exactly a Walmart / commerce / customer order number or a line's SKU; failing that, part of
    the customer's name, from NAME_SEARCH_MIN_LENGTH characters: a trigram index on PostgreSQL), sorted
    by a column key of ORDER_SORTS (prefix "-" for descending) with the id as tie-breaker."""
    return _order_list(store=store, status=status, search=search, sort=sort)[0]


def _order_list(*, store: Store, status: str | None, search: str, sort: str) -> tuple[QuerySet, bool]:
    """order_list, with whether its search reads the rows of names found first (list_page_read's `covered`)."""
    orders = Order.objects.filter(store=store).only(*LIST_COLUMNS)
    if status in Order.Status.values:
        orders = orders.filter(status=status)
    search = (search or "").strip()
    covered = False
    if search:
        matched_ids = order_ids_matching_identifier(store=store, term=search)
        orders, covered = identifier_or_name_filtered(
            orders,
            matched_ids=matched_ids,
            search=search,
            names_containing=lambda term: customer_names_containing(store=store, search=term),
        )
    # The returns app sits above orders: its model is reached through the relation, never imported.
    returns = Order._meta.get_field("returns").related_model._default_manager.filter(order=OuterRef("pk"))
    orders = orders.annotate(has_return=Exists(returns))
    orders = sorted_by(orders, sort=sort if sort.lstrip("-") in ORDER_SORTS else DEFAULT_SORT, sorts=ORDER_SORTS)
    return orders, covered


def order_status_counts(*, store: Store) -> dict[str, int]:
    """{status: count} for the status cards, every status present: the counters the services keep
    (one query of at most five rows, whatever the number of orders)."""
    counts = dict.fromkeys(Order.Status.values, 0)
    for status, count in OrderStatusCount.objects.filter(store=store).values_list("status", "count"):
        counts[status] = count
    return counts


def order_page(*, store: Store, query: ListQuery, counts: Mapping[str, int]) -> ListPage:
    """The Orders tab's page for `query`. The total comes from the status `counts` (the counters) when no
    search is active, else a bounded count: a page costs the same few queries whatever its size or the
    number of orders."""
    orders, covered = _order_list(store=store, status=query.status, search=query.search, sort=query.sort)
    return list_page_read(orders, query=query, counts=counts, covered=covered)


def order_get(*, store: Store, order_id: int) -> Order:
    """One order of the store with its lines, shipments, cancellations and timeline; Http404 otherwise."""
    queryset = Order.objects.filter(store=store).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("listing__product").order_by("id")),
        Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines__line").order_by("id")),
        Prefetch("cancellations", queryset=Cancellation.objects.prefetch_related("lines__line").order_by("id")),
        "events__user",
    )
    return get_object_or_404(queryset, pk=order_id)


def order_returns(order: Order) -> list:
    """The order's returns once the returns app links them (`order.returns`); empty until then."""
    manager = getattr(order, "returns", None)
    if manager is None or not hasattr(manager, "all"):
        return []
    return list(manager.all())
