"""Pacing: when the next feed may go, and how many single calls a run may make."""

from datetime import UTC, datetime, timedelta

from sync.models import StoreSyncSettings
from sync.pacing import budget_compute, feed_catch_up_allowed, feed_next_allowed_at, single_call_budget
from sync.planning import FeedLimits
from sync.streams import STREAMS
from walmart_client.ratelimit import RateLimitInfo

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SIX_PER_HOUR = FeedLimits(count=6, window_seconds=3600, max_bytes=1, max_items=1)


def test_a_feed_may_go_at_once_when_none_was_sent():
    assert feed_next_allowed_at(limits=SIX_PER_HOUR, submitted=[], not_before=None, now=NOW) == NOW


def test_feeds_are_spaced_by_the_window_over_all_its_feeds_but_the_catch_up_one():
    last = NOW - timedelta(minutes=4)
    assert feed_next_allowed_at(limits=SIX_PER_HOUR, submitted=[last], not_before=None, now=NOW) == last + timedelta(
        minutes=12
    )


def catch_up(**given):
    values = {
        "limits": SIX_PER_HOUR,
        "submitted": [NOW - timedelta(minutes=2)],
        "not_before": None,
        "last_catch_up": None,
        "last_change": NOW - timedelta(seconds=61),
        "now": NOW,
    }
    return feed_catch_up_allowed(**{**values, **given})


def test_a_catch_up_feed_goes_after_a_quiet_minute_once_per_window_within_the_sellers_limit():
    # the catalog quiet for a minute, the last feed two minutes ago, none caught up this hour: allowed
    assert catch_up() is True
    assert catch_up(last_change=None) is True  # not known (the cache lost it): taken as quiet
    # not while changes keep coming, nor within a minute of the last feed
    assert catch_up(last_change=NOW - timedelta(seconds=30)) is False
    assert catch_up(submitted=[NOW - timedelta(seconds=40)]) is False
    # once per window
    assert catch_up(last_catch_up=NOW - timedelta(minutes=59)) is False
    assert catch_up(last_catch_up=NOW - timedelta(minutes=61)) is True
    # never past the seller's limit or during a 429 wait, never for a limit of one feed per window
    assert catch_up(submitted=[NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10, 5)]) is False
    assert catch_up(not_before=NOW + timedelta(seconds=1)) is False
    assert catch_up(limits=FeedLimits(count=1, window_seconds=3600, max_bytes=1, max_items=1)) is False


def test_a_full_window_waits_for_its_oldest_feed_to_leave_it():
    # six feeds in the last hour, the oldest 55 minutes ago, the newest 11 minutes ago
    submitted = [NOW - timedelta(minutes=m) for m in (55, 45, 35, 25, 15, 11)]
    assert feed_next_allowed_at(limits=SIX_PER_HOUR, submitted=submitted, not_before=None, now=NOW) == NOW + timedelta(
        minutes=5
    )


def test_a_429_wait_comes_first():
    not_before = NOW + timedelta(minutes=20)
    assert feed_next_allowed_at(limits=SIX_PER_HOUR, submitted=[], not_before=not_before, now=NOW) == not_before


def test_single_budget_follows_walmarts_tokens_less_a_reserve_capped_per_run():
    fresh = RateLimitInfo("inventory.update", 30, NOW + timedelta(seconds=5), NOW)
    assert single_call_budget(rate_limit=fresh, per_run_cap=50, not_before=None, now=NOW)[0] == 29
    assert single_call_budget(rate_limit=fresh, per_run_cap=10, not_before=None, now=NOW)[0] == 10
    empty = RateLimitInfo("inventory.update", 0, NOW + timedelta(seconds=5), NOW)
    assert single_call_budget(rate_limit=empty, per_run_cap=50, not_before=None, now=NOW)[0] == 0
    # a bucket last seen empty whose next token is due: that one token may go (its answer tells the count
    # afresh), else the bucket would look empty until its state expired
    replenished = RateLimitInfo("inventory.update", 0, NOW - timedelta(seconds=1), NOW - timedelta(seconds=20))
    assert single_call_budget(rate_limit=replenished, per_run_cap=50, not_before=None, now=NOW)[0] == 1
    assert single_call_budget(rate_limit=replenished, per_run_cap=0, not_before=None, now=NOW)[0] == 0
    two = RateLimitInfo("inventory.update", 1, NOW - timedelta(seconds=1), NOW - timedelta(seconds=20))
    assert single_call_budget(rate_limit=two, per_run_cap=50, not_before=None, now=NOW)[0] == 1


def test_no_single_call_during_a_429_wait_and_the_cap_without_headers():
    assert single_call_budget(rate_limit=None, per_run_cap=50, not_before=NOW + timedelta(seconds=1), now=NOW)[0] == 0
    assert single_call_budget(rate_limit=None, per_run_cap=50, not_before=NOW - timedelta(seconds=1), now=NOW) == (
        50,
        "no rate-limit headers seen yet",
        None,
    )


def test_the_catch_up_feed_is_kept_when_the_spaced_slot_is_under_a_minute_away():
    limits = FeedLimits(count=10, window_seconds=3600, max_bytes=1, max_items=1)

    def budget(last_feed_ago: timedelta):
        return budget_compute(
            spec=STREAMS["price"],
            state=None,
            sync_settings=StoreSyncSettings(),
            limits=limits,
            submitted=[NOW - last_feed_ago],
            rate_limit=None,
            now=NOW,
        )

    # the spaced slot (400 s after the last feed) 40 s away: wait for it
    near = budget(timedelta(minutes=6))
    assert (near.feed_slots, near.catch_up, near.feed_next_at) == (0, False, NOW + timedelta(seconds=40))
    # 280 s away, the catalog quiet (not known: taken as quiet): the catch-up feed goes now
    far = budget(timedelta(minutes=2))
    assert (far.feed_slots, far.catch_up, far.feed_next_at) == (1, True, NOW)
