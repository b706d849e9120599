"""Pacing inside Walmart's limits: the single-call budget from Walmart's rate-limit headers, the seller's
feed limits from the partner profile, and when the next feed may go.

Nothing here sleeps or retries: a run that may not call Walmart now simply plans less, and the next run
(a minute later) picks the rest up. A 429 sets a "not before" time on the stream's `SyncState`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache

from sync.models import StoreSyncSettings, SyncState
from sync.planning import FEED_SOON_SECONDS, INVENTORY, FeedLimits
from sync.streams import StreamSpec
from walmart_client import WalmartClient
from walmart_client.errors import WalmartError
from walmart_client.models import PartnerProfile
from walmart_client.ratelimit import RateLimitInfo

logger = logging.getLogger(__name__)

FEED_LIMITS_CACHE_SECONDS = 3600
FEED_LIMITS_RETRY_SECONDS = 300  # after a failed read of the partner profile, the settings apply this long
# Tokens left untouched in a bucket so other work of the store (a retry, an operator's action) still fits.
SINGLE_CALL_RESERVE = 1
# A just-submitted feed is polled this many seconds after its submission (then by the minute's run), so a
# small feed's results are applied within tens of seconds: three status reads per feed, against Walmart's
# feed-status limit of thousands a minute and a feed limit of a few per hour.
FEED_POLL_AFTER_SECONDS = (10.0, 20.0, 40.0)
# A catch-up feed: once the stream's catalog has had no change for CATCH_UP_QUIET_SECONDS, the changes left
# waiting go in a feed at once (at least CATCH_UP_GAP_SECONDS after the last feed, one per feed window)
# instead of waiting out the spacing: after a load stops, its last changes reach Walmart within a minute or
# two, not up to a spacing later. The spacing keeps that feed's room in the window (`FeedLimits.spacing_seconds`),
# so it never makes a later feed wait for the window.
CATCH_UP_QUIET_SECONDS = 60.0
CATCH_UP_GAP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Budget:
    single_calls: int
    single_reason: str
    feed_slots: int
    feed_next_at: datetime | None
    limits: FeedLimits
    tokens_left: int | None = None
    catch_up: bool = False  # the feed slot is the window's catch-up feed


def partner_profile_feed_limits(profile: PartnerProfile) -> dict[str, dict[str, int]]:
    """`{feedType: {"count", "window_seconds"[, "max_bytes"]}}` from the seller-level throttles of
    `GET /v3/settings/partnerprofile` (`walmart_client.models.PartnerProfile.feed_limits`). Empty when the
    seller has no tier (Walmart then sends no FEED configuration)."""
    limits: dict[str, dict[str, int]] = {}
    for throttle in profile.feed_limits:
        if (throttle.throttle_type or "SELLER").upper() != "SELLER" or not throttle.feed_type:
            continue
        if not throttle.count or not throttle.window_seconds or throttle.count <= 0 or throttle.window_seconds <= 0:
            continue
        entry = {"count": int(throttle.count), "window_seconds": int(throttle.window_seconds)}
        if throttle.max_file_bytes:
            entry["max_bytes"] = int(throttle.max_file_bytes)
        limits[throttle.feed_type] = entry
    return limits


def _profile_cache_key(store_id: int) -> str:
    return f"sync:partner-profile-feed-limits:{store_id}"


def feed_limits_get(
    *, store_id: int, spec: StreamSpec, sync_settings: StoreSyncSettings, client: WalmartClient | None = None
) -> FeedLimits:
    """The seller's limits for this stream's feeds: Walmart's partner profile when it names them (read once
    an hour per store), else the store's sync settings. A failing profile read falls back to the settings."""
    profile_limits = cache.get(_profile_cache_key(store_id))
    if profile_limits is None and client is not None:
        try:
            profile_limits = partner_profile_feed_limits(client.settings.partner_profile())
            lifetime = FEED_LIMITS_CACHE_SECONDS
        except WalmartError as error:
            logger.warning("Partner profile of store %s unreadable, using settings: %s", store_id, error)
            profile_limits, lifetime = {}, FEED_LIMITS_RETRY_SECONDS
        cache.set(_profile_cache_key(store_id), profile_limits, lifetime)
    if spec.name == INVENTORY:
        fallback_bytes, max_items = sync_settings.inventory_feed_max_bytes, sync_settings.inventory_feed_max_items
    else:
        fallback_bytes, max_items = sync_settings.price_feed_max_bytes, sync_settings.price_feed_max_items
    entry = (profile_limits or {}).get(spec.feed_type)
    if entry:
        return FeedLimits(
            count=entry["count"],
            window_seconds=entry["window_seconds"],
            max_bytes=entry.get("max_bytes", fallback_bytes),
            max_items=max_items,
            source="partner_profile",
        )
    return FeedLimits(
        count=sync_settings.feeds_per_hour,
        window_seconds=3600,
        max_bytes=fallback_bytes,
        max_items=max_items,
        source="settings",
    )


def feed_next_allowed_at(
    *, limits: FeedLimits, submitted: list[datetime], not_before: datetime | None, now: datetime
) -> datetime:
    """When the next feed may go: never more than `limits.count` in any window, at least
    `window / count` apart (so a burst does not spend the hour's feeds in a few minutes), and not before a
    429's wait. `submitted` are the submit times within the last window, oldest first."""
    window = timedelta(seconds=limits.window_seconds)
    recent = [moment for moment in submitted if moment > now - window]
    candidates = [now]
    if recent:
        candidates.append(recent[-1] + timedelta(seconds=limits.spacing_seconds))
    if len(recent) >= limits.count:
        candidates.append(recent[-limits.count] + window)
    if not_before is not None:
        candidates.append(not_before)
    return max(candidates)


def feed_catch_up_allowed(
    *,
    limits: FeedLimits,
    submitted: list[datetime],
    not_before: datetime | None,
    last_catch_up: datetime | None,
    last_change: datetime | None,
    now: datetime,
) -> bool:
    """Whether a catch-up feed may go now (`CATCH_UP_QUIET_SECONDS`): the seller's limit leaves room for it,
    none went within the window, the last feed is `CATCH_UP_GAP_SECONDS` old, no 429 wait runs, and the
    stream's catalog has been quiet since `last_change` (None: not known, taken as quiet). `submitted` are
    the submit times within the last window, oldest first."""
    window = timedelta(seconds=limits.window_seconds)
    recent = [moment for moment in submitted if moment > now - window]
    return (
        limits.count >= 2
        and len(recent) < limits.count
        and (not recent or recent[-1] <= now - timedelta(seconds=CATCH_UP_GAP_SECONDS))
        and (not_before is None or not_before <= now)
        and (last_catch_up is None or last_catch_up <= now - window)
        and (last_change is None or last_change <= now - timedelta(seconds=CATCH_UP_QUIET_SECONDS))
    )


def single_call_budget(
    *, rate_limit: RateLimitInfo | None, per_run_cap: int, not_before: datetime | None, now: datetime
) -> tuple[int, str, int | None]:
    """How many single-item calls this run may make: none while a 429's wait runs, else Walmart's tokens
    left for the endpoint (less a small reserve) when known and fresh, never more than `per_run_cap`.
    Returns (budget, why, tokens_left)."""
    if not_before is not None and not_before > now:
        return 0, f"rate limited until {not_before.isoformat()}", None
    tokens_left = rate_limit.tokens_left if rate_limit is not None else None
    replenish_at = rate_limit.next_replenish_at if rate_limit is not None else None
    if tokens_left is None:
        return per_run_cap, "no rate-limit headers seen yet", None
    replenished = replenish_at is not None and replenish_at <= now
    if replenished:
        # Walmart has added at least one token since it last reported; the count is a lower bound.
        tokens_left += 1
    budget = max(0, min(per_run_cap, tokens_left - SINGLE_CALL_RESERVE))
    if replenished and per_run_cap > 0:
        # At least the token Walmart has added may be spent: its answer reports the bucket afresh. Without
        # this a bucket last seen empty would stay "empty" until its state expires (no call, no new count).
        budget = max(budget, 1)
    return budget, f"{tokens_left} tokens left", tokens_left


def budget_compute(
    *,
    spec: StreamSpec,
    state: SyncState | None,
    sync_settings: StoreSyncSettings,
    limits: FeedLimits,
    submitted: list[datetime],
    rate_limit: RateLimitInfo | None,
    now: datetime,
    last_change: datetime | None = None,
) -> Budget:
    """The run's budget: single calls from Walmart's bucket, and a feed slot when the spacing allows one or
    the window's catch-up feed may go (`last_change`: the stream's last catalog change, when known)."""
    singles, reason, tokens_left = single_call_budget(
        rate_limit=rate_limit,
        per_run_cap=sync_settings.single_calls_per_tick,
        not_before=state.single_not_before if state else None,
        now=now,
    )
    next_at = feed_next_allowed_at(
        limits=limits, submitted=submitted, not_before=state.feed_not_before if state else None, now=now
    )
    # Not when the spaced slot is near: the waiting changes wait for it (`plan_build`), the catch-up is kept.
    catch_up = next_at > now + timedelta(seconds=FEED_SOON_SECONDS) and feed_catch_up_allowed(
        limits=limits,
        submitted=submitted,
        not_before=state.feed_not_before if state else None,
        last_catch_up=state.feed_catch_up_at if state else None,
        last_change=last_change,
        now=now,
    )
    return Budget(
        single_calls=singles,
        single_reason=reason,
        feed_slots=1 if next_at <= now or catch_up else 0,
        feed_next_at=now if catch_up else next_at,
        limits=limits,
        tokens_left=tokens_left,
        catch_up=catch_up,
    )


def feed_poll_next(*, step: int, submitted_at: datetime, now: datetime) -> tuple[int, float] | None:
    """The early poll that follows poll number `step` (0: the first, `FEED_POLL_AFTER_SECONDS[0]` after the
    submission) of a feed submitted at `submitted_at`: (its number, seconds until it). One whose time has
    passed is skipped; None when none is left (the stream's minute run polls the feed from then on)."""
    age = (now - submitted_at).total_seconds()
    for number in range(step + 1, len(FEED_POLL_AFTER_SECONDS)):
        wait = FEED_POLL_AFTER_SECONDS[number] - age
        if wait > 0:
            return number, wait
    return None
