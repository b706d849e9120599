"""The one list-page system of the dashboard (the catalog, and a store's Listings, Orders and Returns tabs).

What every list shares: the query string (status card, search, sort, page size, page), one set of page
sizes, sorting by a whitelisted column key with the id as tie-breaker, the operator's time zone, counts
that stay cheap at a million rows, and pages read in two steps. The templates share
`channel_manager/_status_cards.html`, `_sortable_header.html` and `_pagination.html`.

Cost at scale, whatever the number of rows:
- Counts are exact up to a bound (status cards EXACT_COUNT_LIMIT, searches SEARCH_COUNT_LIMIT), counted
  with a bounded subquery (`COUNT(*)` over at most bound + 1 rows); above it they are PostgreSQL's planner
  estimate, shown as "about N" ("more than N" when the estimate is below the bound). All cards are
  counted in one query, their estimates read in one EXPLAIN. A search whose estimate is far above its bound
  is not counted at all (its index scan would run whole to count the bound). Other databases count exactly.
- A page reads the ids of its rows first (an index scan of the sort index that does not join the rows
  it skips), one more id than the page holds to know whether a next page exists, then only those rows.
  A search's ids (PostgreSQL) are read by the planner's plan within a time bound, else all the search's rows
  first and then sorted: a walk of the sort's index that meets the matches late is cut short. A search whose
  rows and sort keys one covering index holds (a customer name's rows, found by name) reads them index-only:
  read first at once when few, else after a walk bounded by that read's cost.
- Pages go at most MAX_OFFSET rows deep: past that the page says to narrow the search or reverse the
  sort (an offset walks every row it skips).
"""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connections, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import Truncator

from channel_manager.numbers import query_int
from channel_manager.timezones import timezone_resolve

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TIMEZONE_COOKIE = "tz"
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 100
# A contains-search (a customer's name) needs this many characters: a trigram index serves nothing shorter.
NAME_SEARCH_MIN_LENGTH = 3
EXACT_COUNT_LIMIT = 10_000
# A search's matches are counted exactly up to here: its rows are found through a search index and each one
# counted is one more row read (a card's count walks the status index instead).
SEARCH_COUNT_LIMIT = 1_000
MAX_OFFSET = 10_000
# A search's estimate this many times over SEARCH_COUNT_LIMIT is shown as it is ("about N"), not counted first.
ESTIMATE_TRUSTED_FACTOR = 5
# A search's page ids are read by the planner's own plan for this long at most (PostgreSQL): for a rare term it
# often walks the sort's index hoping to meet a page of matches early, which costs a walk of most of the table when
# the matches sit late in that order (a name whose orders all have one total, sorted by value: 720,000 rows read
# for 26, ~1.4 s). Past it the search's rows are read first through its own index and sorted (ids_searched_first).
# A walk bounded by rows instead (ORDER BY the sort LIMIT 10,000, then the name filter) read 10,090 heap pages for
# the value index, ~1 s, where the date index meets a page of a common name in ~340: only time bounds both.
# A search of many rows has a longer walk allowed, about as long as reading them all first takes (~1.5 ms per
# 1,000 rows: 150-220 ms for 100,000), so that the fallback costs at most about twice the faster way.
SEARCH_WALK_MS = 40
SEARCH_WALK_ROWS_PER_MS = 600
# A covered search (its rows' sort keys in one covering index, read index-only: a customer name's rows found
# through CustomerName) reads all its rows first in ~0.2 ms per 1,000 rows plus their top-N sort (100,000 rows:
# 25-40 ms): up to SEARCH_COVERED_FIRST_ROWS estimated rows it is read first without a walk (a walk meeting
# its page early costs about as much); above, the walk is allowed about a third as long as that read takes (1 ms
# per 10,000 rows, from SEARCH_COVERED_WALK_MS: a walk that meets its page early, as most do, ends in 1-5 ms),
# so that a cut walk costs at most about 1.3 times the read alone.
# The estimate of a search of many names is the sum of each name's average share (a name outside the column's
# most common values: ~4 rows at 280,000 names a million rows), so a surname whose few thousand names carry 100,000
# rows is estimated at 17,000: its walk is allowed 1 ms per 2,000 estimated rows from SEARCH_COVERED_FIRST_ROWS
# up to SEARCH_COVERED_WALK_MS (a dense search's walk ends in 1-3 ms; read first, 100,000 rows of 2,400 names take
# ~60-85 ms, ~180 ms cold).
SEARCH_COVERED_FIRST_ROWS = 4_000
SEARCH_COVERED_WALK_MS = 10
SEARCH_COVERED_SMALL_ROWS_PER_MS = 2_000
SEARCH_COVERED_ROWS_PER_MS = 10_000
# A status card's count found past its bound is not counted again for this long (PostgreSQL; counts_bounded's
# `remember_over`): its planner estimate is shown as before. Counting the bound again reads its ~bound index
# entries (30-130 pages a card) on every view of the page, only to learn once more that the card holds more than
# the bound. A card that falls back under the bound shows an exact count again at most this much later.
OVER_BOUND_MEMO_SECONDS = 60


def operator_timezone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The operator's time zone: the browser's (cookie `tz`, set by the page's script) when it names a known
    zone, else TIME_ZONE."""
    return timezone_resolve(request.COOKIES.get(TIMEZONE_COOKIE)) or zoneinfo.ZoneInfo(settings.TIME_ZONE)


def in_operator_timezone(view: Callable) -> Callable:
    """Dates on the page in the operator's time zone (the browser's, from the `tz` cookie)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        with timezone.override(operator_timezone(request)):
            return view(request, *args, **kwargs)

    return wrapper


def minute_text(moment: datetime | None, default: str = "") -> str:
    """`moment` as "YYYY-MM-DD HH:MM" in the active (operator's) time zone, or `default`: what the list
    templates' `|date:"Y-m-d H:i"` wrote, for a fraction of its cost per row."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else default


def choice_labels(choices: Iterable[tuple[str, StrOrPromise]]) -> dict[str, str]:
    """{value: label} of a field's choices, each label translated once: a page's rows look their label up here
    (a model's `get_FOO_display()` builds the choices' dict and translates the label again for every row)."""
    return {value: str(label) for value, label in choices}


def text_cut(text: str, length: int = 160) -> str:
    """`text` cut to `length` characters, an ellipsis last (Truncator's `chars`, built only for a longer one)."""
    return text if len(text) <= length else Truncator(text).chars(length)


def status_from_request(request: HttpRequest, statuses: Iterable[str]) -> str | None:
    """The status card chosen in `?status=`, or None (All) for a missing or unknown one."""
    status = request.GET.get("status") or None
    return status if status is not None and status in statuses else None


def search_from_request(request: HttpRequest) -> str:
    """`?q=` stripped and cut to SEARCH_MAX_LENGTH characters."""
    return request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]


SEARCH_IDENTIFIER_LIMIT = 1000


def ids_matching(id_querysets: Iterable[QuerySet]) -> list[int]:
    """The ids that any of `id_querysets` (flat values_list querysets, each an indexed exact lookup) yields,
    at most SEARCH_IDENTIFIER_LIMIT from each: one query per lookup instead of an OR that scans the table."""
    ids: set[int] = set()
    for queryset in id_querysets:
        ids.update(queryset[:SEARCH_IDENTIFIER_LIMIT])
    return sorted(ids)


def identifier_or_name_filtered(
    queryset: QuerySet,
    *,
    matched_ids: list[int],
    search: str,
    names_containing: Callable[[str], QuerySet | None] | None = None,
) -> tuple[QuerySet, bool]:
    """The rows an identifier search matched exactly (`matched_ids`) when there are any; else those whose
    customer name contains `search` (from NAME_SEARCH_MIN_LENGTH characters); else none. With whether the
    rows are those of the names `names_containing(search)` gives (when it gives a subquery of names: every
    distinct name containing `search`, so the same rows), which a covering index reads index-only
    (search_page_read's `covered`); else the rows whose own column contains `search` (a trigram index on
    PostgreSQL)."""
    if matched_ids:
        return queryset.filter(pk__in=matched_ids), False
    if len(search) < NAME_SEARCH_MIN_LENGTH:
        return queryset.none(), False
    names = names_containing(search) if names_containing is not None else None
    if names is None:
        return queryset.filter(customer_name__icontains=search), False
    return (queryset.none() if names.query.is_empty() else queryset.filter(customer_name__in=names)), True


def sort_normalised(sort: str | None, *, sorts: Mapping[str, object], default: str) -> str:
    """`sort` when its key (without the "-" of descending) is one of `sorts`, else `default`."""
    key = (sort or "").lstrip("-")
    return sort if sort and key in sorts else default


def sorted_by(queryset: QuerySet, *, sort: str, sorts: Mapping[str, str | Sequence[str]]) -> QuerySet:
    """`queryset` ordered by the field of a normalised sort key ("-" for descending), the id breaking ties
    in the same direction (so every page is stable). A key may name several fields instead (the last one
    unique), so that an index serves the order: descending reverses each of them."""
    chosen = sorts[sort.lstrip("-")]
    if isinstance(chosen, str):
        fields: tuple[str, ...] = (chosen,) if chosen in ("id", "pk") else (chosen, "id")
    else:
        fields = tuple(chosen)
    if sort.startswith("-"):
        fields = tuple(name[1:] if name.startswith("-") else f"-{name}" for name in fields)
    return queryset.order_by(*fields)


@dataclass(frozen=True)
class ListQuery:
    """What a list request asks for: a status card (None: All), a search, a sort key, a page size and a
    page number, each normalised (an unknown value becomes the default)."""

    status: str | None = None
    search: str = ""
    sort: str = ""
    page_size: int = DEFAULT_PAGE_SIZE
    number: int = 1

    def query_string(self, **changes) -> str:
        """The list's query string (empty values left out) with `changes` applied; no page number unless
        one is given."""
        values = {"status": self.status, "q": self.search, "sort": self.sort, "per_page": self.page_size, **changes}
        return urlencode({key: value for key, value in values.items() if value not in (None, "")})


def list_query_from_request(
    request: HttpRequest,
    *,
    statuses: Iterable[str] = (),
    sorts: Mapping[str, object] | None = None,
    default_sort: str = "",
) -> ListQuery:
    """The ListQuery of `request`: `?status=`, `?q=`, `?sort=`, `?per_page=` and `?page=`."""
    page_size = query_int(request.GET.get("per_page"), default=DEFAULT_PAGE_SIZE)
    return ListQuery(
        status=status_from_request(request, statuses),
        search=search_from_request(request),
        sort=sort_normalised(request.GET.get("sort"), sorts=sorts or {}, default=default_sort),
        page_size=page_size if page_size in PAGE_SIZES else DEFAULT_PAGE_SIZE,
        number=max(1, query_int(request.GET.get("page"), default=1)),
    )


class Count(int):
    """A row count that knows whether it is exact, PostgreSQL's estimate ("about N" on the page) or only a
    lower bound ("more than N": counted past the limit while the planner expected fewer)."""

    exact: bool
    at_least: bool

    def __new__(cls, value: int, *, exact: bool = True, at_least: bool = False) -> Count:
        count = super().__new__(cls, value)
        count.exact = exact and not at_least
        count.at_least = at_least
        return count

    def __add__(self, other: object) -> Count:
        if not isinstance(other, int):
            return NotImplemented
        return Count(
            int(self) + int(other),
            exact=self.exact and getattr(other, "exact", True),
            at_least=self.at_least or getattr(other, "at_least", False),
        )

    __radd__ = __add__

    @property
    def display(self) -> str:
        if self.at_least:
            return f"more than {int(self) - 1:,}"
        return f"{int(self):,}" if self.exact else f"about {int(self):,}"

    def __repr__(self) -> str:
        return f"Count({int(self)}, exact={self.exact}, at_least={self.at_least})"


def counts_sum(counts: Iterable[int]) -> Count:
    """The sum, exact when every count is."""
    total = Count(0)
    for count in counts:
        total = total + count
    return total


def counts_bounded(
    querysets: Mapping[str, QuerySet],
    *,
    limit: int | None = None,
    estimate_first: bool = False,
    remember_over: bool = False,
) -> dict[str, Count]:
    """How many rows each queryset holds: exact up to `limit` (one query for all of them, each a COUNT over
    at most limit + 1 rows), PostgreSQL's estimate above it (one EXPLAIN for all that passed the limit).
    The querysets must share a database. `limit` defaults to EXACT_COUNT_LIMIT.

    `estimate_first` (PostgreSQL): read the estimates first, and take one above ESTIMATE_TRUSTED_FACTOR x
    `limit` as it is, without counting: for a search whose index scan is the costly part, counting even
    `limit` rows means running it whole (a name shared by thousands of rows: ~40-60 ms).

    `remember_over` (PostgreSQL; a page's status cards, whose queries are the same on every view): a count
    found past `limit` is remembered in the cache for OVER_BOUND_MEMO_SECONDS and not counted meanwhile (its
    estimate is read as before)."""
    if not querysets:
        return {}
    limit = EXACT_COUNT_LIMIT if limit is None else limit
    trusted: dict[str, Count] = {}
    first = next(iter(querysets.values()))
    if estimate_first and connections[first.db].vendor == "postgresql":
        try:
            estimates = counts_estimated(list(querysets.values()))
        except EmptyResultSet:  # a filter no row can pass: count as usual (no query)
            estimates = [0] * len(querysets)
        for name, estimate in zip(querysets, estimates, strict=True):
            if estimate > ESTIMATE_TRUSTED_FACTOR * limit:
                trusted[name] = Count(estimate, exact=False)
        querysets = {name: queryset for name, queryset in querysets.items() if name not in trusted}
        if not querysets:
            return trusted
    exact = dict.fromkeys(querysets, 0)
    parts: dict[str, tuple[str, list]] = {}
    for name, queryset in querysets.items():
        try:
            sql, part_params = queryset.order_by().values("pk")[: limit + 1].query.sql_with_params()
        except EmptyResultSet:  # .none(), or a filter no row can pass: 0 without asking
            continue
        parts[name] = (sql, list(part_params))
    memo = remember_over and connections[first.db].vendor == "postgresql"
    keys = {name: _over_bound_key(sql, part_params, limit) for name, (sql, part_params) in parts.items()}
    known = cache.get_many(list(keys.values())) if memo and keys else {}
    known_over = {name for name, key in keys.items() if key in known}
    counted = [name for name in parts if name not in known_over]
    if counted:
        # Django compiled each part's SQL from its queryset; the values travel apart as parameters.
        selects = [f"(SELECT COUNT(*) FROM ({parts[name][0]}) AS bounded_{n})" for n, name in enumerate(counted)]  # noqa: S608
        with connections[first.db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(selects), [value for name in counted for value in parts[name][1]])
            exact.update(zip(counted, cursor.fetchone(), strict=True))
    exact.update(dict.fromkeys(known_over, limit + 1))
    over = [name for name in parts if exact[name] > limit]
    if memo and (newly_over := [keys[name] for name in over if name not in known_over]):
        cache.set_many(dict.fromkeys(newly_over, True), OVER_BOUND_MEMO_SECONDS)
    estimates = counts_estimated([querysets[name] for name in over]) if over else []
    counts = {name: Count(exact[name]) for name in querysets}
    for name, estimate in zip(over, estimates, strict=True):
        counts[name] = Count(estimate, exact=False) if estimate > limit else Count(limit + 1, at_least=True)
    return {**trusted, **counts}


def _over_bound_key(sql: str, params: Sequence, limit: int) -> str:
    """The cache key remembering that the bounded count of this query (its SQL and values) passed `limit`."""
    digest = hashlib.sha256(repr((sql, tuple(params), limit)).encode()).hexdigest()[:32]
    return f"list-pages:over-bound:{digest}"


def count_bounded(queryset: QuerySet, *, limit: int | None = None, estimate_first: bool = False) -> Count:
    """The number of rows of `queryset`: exact up to `limit`, PostgreSQL's estimate above (see
    counts_bounded)."""
    return counts_bounded({"rows": queryset}, limit=limit, estimate_first=estimate_first)["rows"]


def counts_estimated(querysets: list[QuerySet]) -> list[int]:
    """PostgreSQL's planner estimate of each queryset's row count, read from one EXPLAIN of their UNION ALL
    (milliseconds, whatever the table size). Other databases have no cheap estimate: they count exactly."""
    connection = connections[querysets[0].db]
    if connection.vendor != "postgresql":
        return [queryset.count() for queryset in querysets]
    parts: list[str] = []
    params: list = []
    for queryset in querysets:
        sql, part_params = queryset.order_by().values("pk").query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(part_params)
    if len(parts) == 1:
        parts.append("(SELECT NULL WHERE false)")  # an Append node either way: one way to read the plan
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + " UNION ALL ".join(parts), params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    children = plan[0]["Plan"]["Plans"]
    return [int(child["Plan Rows"]) for child in children[: len(querysets)]]


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its rows, the query that asked for it, the total across pages (a Count: exact or
    estimated) and whether a next page exists (read, not computed from the total)."""

    rows: list
    query: ListQuery
    total: Count
    has_next: bool
    depth_limited: bool = False
    number: int = field(init=False)
    page_size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "number", self.query.number)
        object.__setattr__(self, "page_size", self.query.page_size)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def page_count(self) -> Count:
        pages = max(1, -(-int(self.total) // self.page_size))
        return Count(pages, exact=self.total.exact, at_least=self.total.at_least)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.rows)

    @property
    def previous_query(self) -> str:
        return self.query.query_string(page=self.number - 1)

    @property
    def next_query(self) -> str:
        return self.query.query_string(page=self.number + 1)

    @property
    def page_sizes(self) -> list[tuple[int, str]]:
        """(size, query string) for each page size: back to page 1."""
        return [(size, self.query.query_string(per_page=size)) for size in PAGE_SIZES]


def page_read(
    queryset: QuerySet,
    *,
    query: ListQuery,
    total: Count,
    walk_ms: int | None = None,
    read: tuple[int, list[int]] | None = None,
) -> ListPage:
    """The page `query` asks for, of an ordered queryset: the ids of the page (one more, to know whether a
    next page exists), then only those rows. Two queries, whatever the page size or depth (`walk_ms`: the
    ids read by ids_walked_or_searched_first, a few more, 0 for ids_searched_first at once; `read`: (offset,
    ids) already read, used when the page starts there).

    A number past the last page shows the last page when the total is exact; at most MAX_OFFSET rows are
    skipped (a deeper number shows the deepest page allowed, `depth_limited`)."""
    size = query.page_size
    number = query.number
    if total.exact:
        number = min(number, max(1, -(-int(total) // size)))
    deepest = max(MAX_OFFSET // size, 0) + 1
    depth_limited = number >= deepest
    number = min(number, deepest)
    offset = (number - 1) * size
    if read is not None and read[0] == offset:
        ids = read[1]
    elif walk_ms is None:
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + size + 1])
    else:
        ids = ids_walked_or_searched_first(queryset, offset=offset, limit=size + 1, walk_ms=walk_ms, count=False)[0]
    more = len(ids) > size
    ids = ids[:size]
    by_id = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)} if ids else {}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    return ListPage(
        rows=rows,
        query=ListQuery(query.status, query.search, query.sort, size, number),
        total=total,
        has_next=more and not depth_limited,
        depth_limited=more and depth_limited,
    )


def ids_walked_or_searched_first(
    queryset: QuerySet, *, offset: int, limit: int, walk_ms: int, count: bool = True
) -> tuple[list[int], int | None]:
    """The ids of `limit` rows of an ordered queryset from `offset`: on PostgreSQL by the planner's plan when it
    ends within `walk_ms` (a statement timeout; 0: not tried), else by ids_searched_first (and then, with
    `count`, the number of rows the queryset holds, known on the way). Elsewhere the plan alone. (ids, number of
    rows or None)."""
    ids = queryset.values_list("pk", flat=True)[offset : offset + limit]
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(ids), None
    if walk_ms <= 0:
        return ids_searched_first(queryset, offset=offset, limit=limit, count=count)
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
            # The setting before, read in a subquery so that it is read before set_config changes it.
            cursor.execute(
                "SELECT before, set_config('statement_timeout', %s, true)"
                " FROM (SELECT current_setting('statement_timeout') AS before OFFSET 0) AS setting",
                [f"{walk_ms}ms"],
            )
            before = cursor.fetchone()[0]
            walked = list(ids)
            if nested:  # SET LOCAL lasts until the enclosing transaction ends: put it back now
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
            return walked, None
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
    # The savepoint's rollback put the setting back.
    return ids_searched_first(queryset, offset=offset, limit=limit, count=count)


QUERY_CANCELED = "57014"
SEARCHED_FIRST = "matched"  # the alias of ids_searched_first's subquery (its ORDER BY names it)


def ids_searched_first(
    queryset: QuerySet, *, offset: int, limit: int, count: bool = True
) -> tuple[list[int], int | None]:
    """The ids of `limit` rows of an ordered queryset from `offset`, every row the queryset holds read first (a
    subquery the planner cannot merge into the sort, on PostgreSQL by its OFFSET 0: it takes the rows through the
    search's own index) and then sorted, whatever plan it would choose for a LIMIT; with the number of those rows
    (None when `offset` is past them, or without `count`: a window over every row, ~15 ms per 100,000). An
    ordering by expressions rather than names: read as it is (number None).

    The subquery's rows go straight into the top-N sort: a MATERIALIZED CTE, the fence used before, stored them
    first (100,000 rows spilled past work_mem: 45 ms where this takes 29)."""
    names = [name for name in queryset.query.order_by if isinstance(name, str)]
    if len(names) < len(queryset.query.order_by):
        return list(queryset.values_list("pk", flat=True)[offset : offset + limit]), None
    # Each sort key (a field, a related field or an annotation) selected under a name of its own.
    keys = {f"sort_key_{n}": F(name.lstrip("-")) for n, name in enumerate(names)}
    matched = queryset.order_by().annotate(matched_id=F("pk"), **keys).values_list("matched_id", *keys)
    try:
        sql, params = matched.query.sql_with_params()
    except EmptyResultSet:  # .none(), or a filter no row can pass: nothing to read
        return [], None
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    order = ", ".join(
        f"matched.{quote(key)} {'DESC' if name.startswith('-') else 'ASC'}"
        for key, name in zip(keys, names, strict=True)
    )
    counted = "COUNT(*) OVER ()" if count else "NULL"
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT matched.matched_id, {counted} FROM ({sql}{fence}) AS matched"  # noqa: S608
            f" ORDER BY {order} LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        rows = cursor.fetchall()
    return [row[0] for row in rows], (rows[0][1] if rows else None)


@dataclass(frozen=True)
class StatusCard:
    value: str | None  # None: All
    label: StrOrPromise
    count: Count
    query: str
    active: bool


def list_page_read(
    queryset: QuerySet, *, query: ListQuery, counts: Mapping[str, int], covered: bool = False
) -> ListPage:
    """The page of a list with status cards: its total is the chosen card's count (All: their sum) when no
    search is active, else a bounded count of the search (its ids: ids_walked_or_searched_first; `covered`: see
    search_page_read)."""
    if query.search:
        return search_page_read(queryset, query=query, covered=covered)
    if query.status:
        chosen = counts[query.status]
        total = chosen if isinstance(chosen, Count) else Count(chosen)
    else:
        total = counts_sum(counts.values())
    return page_read(queryset, query=query, total=total)


def search_page_read(queryset: QuerySet, *, query: ListQuery, covered: bool = False) -> ListPage:
    """The page of a search, its total as count_bounded(limit=SEARCH_COUNT_LIMIT, estimate_first=True) gives it,
    its ids by ids_walked_or_searched_first. On PostgreSQL a search the planner expects to hold at most
    ESTIMATE_TRUSTED_FACTOR x SEARCH_COUNT_LIMIT rows has its page read first (the number asked for, at most
    MAX_OFFSET deep): when the walk was cut, the rows read first give the count too (one query less).
    `covered`: the search's rows and sort keys are read index-only (SEARCH_COVERED_FIRST_ROWS): the walk is
    skipped for a search estimated that small, and bounded by that read's cost above."""
    estimate = None
    if connections[queryset.db].vendor == "postgresql":
        try:
            estimate = counts_estimated([queryset])[0]
        except EmptyResultSet:  # a filter no row can pass: counted as usual (no query)
            pass
    if estimate is None or estimate > ESTIMATE_TRUSTED_FACTOR * SEARCH_COUNT_LIMIT:
        if estimate is None:
            total = count_bounded(queryset, limit=SEARCH_COUNT_LIMIT, estimate_first=True)
        else:
            total = Count(estimate, exact=False)
        walk_ms = search_walk_ms(int(total), covered=covered)
        return page_read(queryset, query=query, total=total, walk_ms=walk_ms)
    size = query.page_size
    offset = (min(query.number, MAX_OFFSET // size + 1) - 1) * size
    walk_ms = search_walk_ms(estimate, covered=covered)
    ids, matched = ids_walked_or_searched_first(queryset, offset=offset, limit=size + 1, walk_ms=walk_ms)
    if matched is None:
        total = count_bounded(queryset, limit=SEARCH_COUNT_LIMIT)
    elif matched <= SEARCH_COUNT_LIMIT:
        total = Count(matched)
    else:  # as count_bounded shows a count past its limit
        total = (
            Count(estimate, exact=False)
            if estimate > SEARCH_COUNT_LIMIT
            else Count(SEARCH_COUNT_LIMIT + 1, at_least=True)
        )
    return page_read(queryset, query=query, total=total, walk_ms=walk_ms, read=(offset, ids))


def search_walk_ms(estimate: int, *, covered: bool) -> int:
    """How long the planner's plan may read a search's page before its rows are read first (0: not tried), for a
    search estimated to hold `estimate` rows (SEARCH_WALK_MS, SEARCH_COVERED_FIRST_ROWS)."""
    if not covered:
        return max(SEARCH_WALK_MS, estimate // SEARCH_WALK_ROWS_PER_MS)
    if estimate <= SEARCH_COVERED_FIRST_ROWS:
        return 0
    small = min(SEARCH_COVERED_WALK_MS, estimate // SEARCH_COVERED_SMALL_ROWS_PER_MS)
    return max(small, estimate // SEARCH_COVERED_ROWS_PER_MS)


def status_cards(
    choices: Iterable[tuple[str, StrOrPromise]], counts: Mapping[str, int], *, query: ListQuery
) -> list[StatusCard]:
    """The All card, then one card per status in the order of `choices`; each links to its filter (search
    and sort kept, back to page 1)."""
    known = {value: count if isinstance(count, Count) else Count(count) for value, count in counts.items()}
    cards = [StatusCard(None, "All", counts_sum(known.values()), query.query_string(status=None), not query.status)]
    for value, label in choices:
        cards.append(StatusCard(value, label, known[value], query.query_string(status=value), query.status == value))
    return cards


@dataclass(frozen=True)
class ColumnHeader:
    label: str
    query: str | None  # None: not sortable
    arrow: str


def column_headers(columns: Iterable[tuple[str | None, str]], *, query: ListQuery) -> list[ColumnHeader]:
    """The table's headers: a sortable column (key not None) links to its sort, ascending first, then
    descending when it is the current one; the current sort shows ▲ or ▼."""
    headers = []
    for key, label in columns:
        if key is None:
            headers.append(ColumnHeader(label, None, ""))
            continue
        arrow = " ▲" if query.sort == key else (" ▼" if query.sort == f"-{key}" else "")
        headers.append(ColumnHeader(label, query.query_string(sort=f"-{key}" if query.sort == key else key), arrow))
    return headers
