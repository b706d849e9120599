"""The planner's pure core: what goes as single calls, what goes in feeds, what waits."""

import json
from decimal import Decimal

from sync.planning import FeedLimits, SyncRow, feed_payload_items, plan_build

LIMITS = FeedLimits(count=6, window_seconds=3600, max_bytes=5 * 1024 * 1024, max_items=10_000)


def rows(count, *, desired=5, confirmed=10, start=1):
    return [SyncRow(i, f"SKU-{i}", desired, confirmed) for i in range(start, start + count)]


def test_light_load_goes_entirely_as_single_calls():
    # given: 3 changes, budget for 50 calls
    plan = plan_build(
        stream="inventory",
        rows=rows(3) + rows(2, desired=4, confirmed=4, start=10),
        single_budget=50,
        feed_slots=1,
        limits=LIMITS,
    )
    # then
    assert [c.sku for c in plan.singles] == ["SKU-1", "SKU-2", "SKU-3"]
    assert plan.feeds == []
    assert plan.waiting == []
    assert plan.matched_count == 5


def test_zero_stock_goes_single_first_and_the_rest_in_one_feed():
    # given: 10,000 changes, of which 3 drop to zero; budget for 2 single calls
    changed = rows(9_997, desired=7, confirmed=8) + [SyncRow(20_000 + i, f"ZERO-{i}", 0, 4) for i in range(3)]
    # when
    plan = plan_build(stream="inventory", rows=changed, single_budget=2, feed_slots=1, limits=LIMITS)
    # then: the first two zeros are single calls, everything else in exactly one feed
    assert [(c.sku, c.value, c.urgent) for c in plan.singles] == [("ZERO-0", 0, True), ("ZERO-1", 0, True)]
    assert len(plan.feeds) == 1
    feed = plan.feeds[0]
    assert len(feed.changes) == 9_998
    assert feed.payload["InventoryHeader"] == {"version": "1.4"}
    assert feed.payload["Inventory"][0] == {"sku": "ZERO-2", "quantity": {"unit": "EACH", "amount": 0}}
    assert feed.payload["Inventory"][1] == {"sku": "SKU-1", "quantity": {"unit": "EACH", "amount": 7}}
    assert feed.size_bytes == len(json.dumps(feed.payload, separators=(",", ":")))
    assert plan.waiting == []


def test_ten_thousand_price_changes_make_one_feed_within_limits():
    changed = [SyncRow(i, f"SKU-{i}", Decimal("9.99"), Decimal("10.00")) for i in range(10_000)]
    plan = plan_build(stream="price", rows=changed, single_budget=50, feed_slots=1, limits=LIMITS)
    assert plan.singles == []  # prices are never urgent
    assert len(plan.feeds) == 1
    assert len(plan.feeds[0].payload["Price"]) == 10_000
    assert plan.feeds[0].payload["Price"][0] == {
        "sku": "SKU-0",
        "pricing": [{"currentPriceType": "BASE", "currentPrice": {"currency": "USD", "amount": 9.99}}],
    }
    assert plan.feeds[0].size_bytes <= LIMITS.max_bytes


def test_feeds_are_split_by_size_and_only_allowed_slots_are_used():
    # given: a 4 KB size limit (about 60 items per feed) and two feed slots
    limits = FeedLimits(count=6, window_seconds=3600, max_bytes=4096, max_items=10_000)
    plan = plan_build(stream="inventory", rows=rows(500), single_budget=0, feed_slots=2, limits=limits)
    # then
    assert len(plan.feeds) == 2
    for feed in plan.feeds:
        assert len(json.dumps(feed.payload, separators=(",", ":"))) <= 4096
    sent = sum(len(feed.changes) for feed in plan.feeds)
    assert sent + len(plan.waiting) == 500
    assert [c.sku for c in plan.waiting][:1] == [f"SKU-{sent + 1}"]


def test_feeds_are_split_by_item_limit():
    limits = FeedLimits(count=6, window_seconds=3600, max_bytes=10**9, max_items=100)
    plan = plan_build(stream="inventory", rows=rows(250), single_budget=0, feed_slots=5, limits=limits)
    assert [len(feed.changes) for feed in plan.feeds] == [100, 100, 50]


def test_without_a_feed_slot_the_single_budget_takes_the_next_changes_and_the_rest_waits():
    changed = rows(5, desired=9, confirmed=8) + rows(5, desired=2, confirmed=8, start=100)
    plan = plan_build(stream="inventory", rows=changed, single_budget=4, feed_slots=0, limits=LIMITS)
    # decreases (overselling risk) before increases
    assert [c.sku for c in plan.singles] == ["SKU-100", "SKU-101", "SKU-102", "SKU-103"]
    assert plan.feeds == []
    assert len(plan.waiting) == 6


def test_values_in_flight_or_refused_are_not_sent_again_but_new_values_are():
    changed = [
        SyncRow(1, "A", 5, 10),  # in flight with 5: skip
        SyncRow(2, "B", 6, 10),  # in flight with 5: the new value goes
        SyncRow(3, "C", 7, 10),  # refused with 7: skip
        SyncRow(4, "D", 8, 10),  # refused with 9: the new value goes
        SyncRow(5, "E", None, 10),  # no value to send
    ]
    plan = plan_build(
        stream="inventory",
        rows=changed,
        in_flight={"A": 5, "B": 5},
        blocked={3: 7, 4: 9},
        single_budget=10,
        feed_slots=1,
        limits=LIMITS,
    )
    assert [(c.sku, c.value) for c in plan.singles] == [("B", 6), ("D", 8)]
    assert (plan.in_flight_count, plan.blocked_count, plan.no_value_count) == (1, 1, 1)


def test_feed_payload_items_reads_back_what_was_built():
    plan = plan_build(
        stream="price",
        rows=[SyncRow(1, "A", Decimal("12.99"), None), SyncRow(2, "B", Decimal("0.50"), None)],
        single_budget=0,
        feed_slots=1,
        limits=LIMITS,
    )
    assert feed_payload_items("price", plan.feeds[0].payload) == {"A": Decimal("12.99"), "B": Decimal("0.50")}
