"""What the store tabs' list pages (Orders, Returns) share: the operator's time zone, the query string of
a list (status card, search, sort), sorting by a column key with the id as tie-breaker, and offset pages.

Each app keeps what differs in substance: its columns and sort keys, how it searches, how it counts the
status cards (Orders: counters kept with F(); Returns: one GROUP BY) and how it reads a page's rows
(Orders: a deferred join for a million rows; Returns: a plain slice). The templates share
`channel_manager/_status_cards.html`, `_sortable_header.html` and `_pagination.html`; the cookie is set by
`channel_manager/_operator_timezone.html`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from channel_manager.timezones import timezone_resolve

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TIMEZONE_COOKIE = "tz"
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
SEARCH_MAX_LENGTH = 100


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


def status_from_request(request: HttpRequest, statuses: Iterable[str]) -> str | None:
    """The status card chosen in `?status=`, or None (All) for a missing or unknown one."""
    status = request.GET.get("status") or None
    return status if status is not None and status in statuses else None


def search_from_request(request: HttpRequest) -> str:
    """`?q=` stripped and cut to SEARCH_MAX_LENGTH characters."""
    return request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]


def sort_normalised(sort: str | None, *, sorts: Mapping[str, str], default: str) -> str:
    """`sort` when its key (without the "-" of descending) is one of `sorts`, else `default`."""
    key = (sort or "").lstrip("-")
    return sort if sort and key in sorts else default


def sorted_by(queryset: QuerySet, *, sort: str, sorts: Mapping[str, str]) -> QuerySet:
    """`queryset` ordered by the field of a normalised sort key ("-" for descending), the id breaking ties
    in the same direction (so every page is stable)."""
    field = sorts[sort.lstrip("-")]
    descending = sort.startswith("-")
    return queryset.order_by(f"-{field}" if descending else field, "-id" if descending else "id")


def status_cards(
    choices: Iterable[tuple[str, StrOrPromise]], counts: Mapping[str, int]
) -> list[tuple[str, StrOrPromise, int]]:
    """(value, label, count) for each status card, in the order of `choices`."""
    return [(value, label, counts[value]) for value, label in choices]


def page_window(*, number: int, page_size: int, total: int) -> tuple[int, int, int]:
    """(page number, page size, offset) of a page: an unknown size becomes DEFAULT_PAGE_SIZE, the number is
    clamped to 1..page count (a page past the end shows the last one)."""
    page_size = page_size if page_size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    page_count = max(1, -(-total // page_size))
    number = min(max(1, number), page_count)
    return number, page_size, (number - 1) * page_size


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its rows, its number (from 1), its size and the total across pages."""

    rows: list
    number: int
    page_size: int
    total: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.page_count

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.total else 0

    @property
    def end_index(self) -> int:
        return min(self.number * self.page_size, self.total)
