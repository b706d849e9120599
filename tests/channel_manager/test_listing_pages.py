"""The one list-page system: bounded counts (exact up to a limit, estimated above), pages read by ids with
the next page known by reading one more id, and a bound on how deep a page may go."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channel_manager import listing_pages
from channel_manager.listing_pages import (
    Count,
    ListQuery,
    choice_labels,
    count_bounded,
    counts_bounded,
    list_query_from_request,
    page_read,
    status_cards,
    text_cut,
)
from listings.models import Listing
from tests.listings.factories import ListingFactory

pytestmark = pytest.mark.django_db


def listings(store, count, **fields):
    return [ListingFactory(store=store, **fields) for _ in range(count)]


def test_counts_are_exact_up_to_the_limit_all_in_one_query(store, other_store):
    listings(store, 3)
    listings(store, 2, status=Listing.Status.ERROR)
    listings(other_store, 4)
    mine = Listing.objects.filter(store=store)
    with CaptureQueriesContext(connection) as queries:
        counts = counts_bounded(
            {
                "draft": mine.filter(status="draft"),
                "error": mine.filter(status="error"),
                "match": mine.filter(status="match"),
            },
            limit=3,
        )
    assert counts == {"draft": 3, "error": 2, "match": 0}
    assert all(count.exact for count in counts.values())
    assert len(queries) == 1


def test_a_count_past_the_limit_is_an_estimate_shown_as_about(store):
    listings(store, 6)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE listings_listing")
    count = count_bounded(Listing.objects.filter(store=store), limit=4)
    assert count.exact is False
    assert count >= 5  # never less than what the bounded count saw
    if connection.vendor != "postgresql":
        assert count == 6  # no planner estimate here: counted exactly, still marked as past the limit
    assert count.display in (f"about {int(count):,}", "more than 4")
    assert Count(1234).display == "1,234"
    assert (Count(2) + Count(3, exact=False)).exact is False
    assert (Count(2) + 3).exact is True
    assert Count(10_001, at_least=True).display == "more than 10,000"
    assert (Count(5, at_least=True) + Count(3, exact=False)).display == "more than 7"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner estimates")
def test_a_search_estimated_far_past_its_limit_is_not_counted(store, monkeypatch):
    listings(store, 3)
    searched = Listing.objects.filter(store=store)
    monkeypatch.setattr(listing_pages, "counts_estimated", lambda querysets: [50_000] * len(querysets))
    with CaptureQueriesContext(connection) as queries:
        count = count_bounded(searched, limit=1000, estimate_first=True)
    assert (int(count), count.exact, count.display) == (50_000, False, "about 50,000")
    assert not any("COUNT(" in query["sql"] for query in queries)
    # an estimate near the limit is not trusted: counted, exactly
    monkeypatch.setattr(listing_pages, "counts_estimated", lambda querysets: [4_000] * len(querysets))
    count = count_bounded(searched, limit=1000, estimate_first=True)
    assert (int(count), count.exact) == (3, True)
    assert count_bounded(searched.none(), limit=1000, estimate_first=True) == 0


def test_estimate_first_counts_exactly_where_there_is_no_estimate(store):
    listings(store, 3)
    count = count_bounded(Listing.objects.filter(store=store), limit=1000, estimate_first=True)
    assert (int(count), count.exact) == (3, True)


def test_a_page_knows_its_next_page_by_reading_one_more_id(store):
    made = listings(store, 7)
    ordered = Listing.objects.filter(store=store).order_by("id")
    first = page_read(ordered, query=ListQuery(page_size=25, number=1), total=Count(7))
    assert [row.pk for row in first.rows] == [listing.pk for listing in made]
    assert (first.has_previous, first.has_next, first.start_index, first.end_index) == (False, False, 1, 7)
    # a page of 5 of an estimated total: the next page exists because its first row was read
    small = page_read(ordered, query=ListQuery(page_size=5, number=1), total=Count(100, exact=False))
    assert (small.has_next, small.page_count.display) == (True, "about 20")
    second = page_read(ordered, query=ListQuery(page_size=5, number=2), total=Count(100, exact=False))
    assert ([row.pk for row in second.rows], second.has_next) == ([made[5].pk, made[6].pk], False)


def test_a_number_past_the_end_shows_the_last_page_when_the_total_is_exact(store):
    made = listings(store, 7)
    page = page_read(Listing.objects.order_by("id"), query=ListQuery(page_size=5, number=99), total=Count(7))
    assert page.number == 2
    assert [row.pk for row in page.rows] == [made[5].pk, made[6].pk]


def test_pages_go_no_deeper_than_the_bound(store, monkeypatch):
    made = listings(store, 12)
    monkeypatch.setattr(listing_pages, "MAX_OFFSET", 5)
    ordered = Listing.objects.order_by("id")
    page = page_read(ordered, query=ListQuery(page_size=5, number=3), total=Count(12))
    assert page.number == 2  # offset 5 at most
    assert [row.pk for row in page.rows] == [listing.pk for listing in made[5:10]]
    assert (page.has_next, page.depth_limited) == (False, True)


def test_the_query_string_is_normalised_and_kept_across_links():
    request = RequestFactory().get("/", {"status": "nope", "q": "  mug ", "sort": "-x", "per_page": "7", "page": "-3"})
    query = list_query_from_request(request, statuses=["draft"], sorts={"sku": "sku"}, default_sort="sku")
    assert query == ListQuery(status=None, search="mug", sort="sku", page_size=25, number=1)
    query = ListQuery(status="draft", search="a b", sort="-sku", page_size=50, number=3)
    assert query.query_string(page=4) == "status=draft&q=a+b&sort=-sku&per_page=50&page=4"
    cards = status_cards(
        [("draft", "Draft"), ("error", "Error")], {"draft": 2, "error": Count(10, exact=False)}, query=query
    )
    assert [(card.label, card.count.display, card.active) for card in cards] == [
        ("All", "about 12", False),
        ("Draft", "2", True),
        ("Error", "about 10", False),
    ]
    assert cards[0].query == "q=a+b&sort=-sku&per_page=50"


def test_the_listings_tab_says_about_when_counts_are_estimated(operator_client, store, monkeypatch):
    listings(store, 4)
    monkeypatch.setattr(listing_pages, "EXACT_COUNT_LIMIT", 2)
    html = operator_client.get(reverse("listings:listing_list", args=[store.pk]), {"per_page": 25}).content.decode()
    assert '<span class="count" title="estimated">' in html
    assert "listings that match this filter" in html


def test_choice_labels_are_translated_once_into_plain_strings():
    labels = choice_labels(Listing.Status.choices)
    assert labels["match"] == "Match"
    assert all(type(label) is str for label in labels.values())
    assert set(labels) == set(Listing.Status.values)


def test_text_cut_keeps_a_short_text_and_cuts_a_long_one_with_an_ellipsis():
    assert text_cut("Refund failed") == "Refund failed"
    assert text_cut("x" * 160) == "x" * 160
    assert text_cut("x" * 161) == "x" * 159 + "…"
    assert text_cut("abcdef", 4) == "abc…"


def test_a_card_count_past_its_bound_is_remembered_and_not_counted_again(store):
    if connection.vendor != "postgresql":
        pytest.skip("the memo serves PostgreSQL's bounded counts only")
    listings(store, 6)
    listings(store, 2, status=Listing.Status.ERROR)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE listings_listing")
    mine = Listing.objects.filter(store=store)
    cards = {"draft": mine.filter(status="draft"), "error": mine.filter(status="error")}

    def counted(queries) -> list[str]:
        return [query["sql"] for query in queries if query["sql"].startswith("SELECT (SELECT COUNT(*)")]

    with CaptureQueriesContext(connection) as first:
        before = counts_bounded(cards, limit=4, remember_over=True)
    with CaptureQueriesContext(connection) as second:
        again = counts_bounded(cards, limit=4, remember_over=True)
    assert before == again
    assert before["error"] == 2
    assert before["error"].exact
    assert before["draft"].exact is False
    assert before["draft"] >= 5
    (first_count,) = counted(first)
    assert "'draft'" in first_count
    # the second time only the card under its bound is counted (the other's estimate is read as before)
    (second_count,) = counted(second)
    assert "'draft'" not in second_count
    assert "'error'" in second_count
    assert any(query["sql"].startswith("EXPLAIN") for query in second)


def test_cards_are_counted_every_time_without_remember_over(store):
    listings(store, 6)
    mine = Listing.objects.filter(store=store)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            counts_bounded({"draft": mine.filter(status="draft")}, limit=4)
        assert any(query["sql"].startswith("SELECT (SELECT COUNT(*)") for query in queries)
