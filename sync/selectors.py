"""Reads of the inventory and price sync: planner input rows, what is in flight, what Walmart refused, feed
history, and the dashboard's listing table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from channel_manager.models import Feed, Store
from inventory.desired import quantity_desired
from inventory.models import StockReservation
from listings.models import Listing
from pricing.desired import price_desired
from pricing.selectors import price_rule_values
from sync.models import ItemUpdate, ListingSyncDue, StoreSyncSettings, SyncFailure, SyncState, SyncStream
from sync.planning import INVENTORY, SyncRow, Value, feed_payload_items, value_parse
from sync.streams import stream_spec

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MATCHED_STATUSES = (Listing.Status.MATCH, Listing.Status.MATCH_IN_STAGE)
# An open feed older than this no longer holds its values back: they are planned (and resent) again.
FEED_STALE_AFTER = timedelta(hours=getattr(settings, "SYNC_FEED_STALE_HOURS", 4))


def sync_settings_get(*, store: Store) -> StoreSyncSettings:
    """The store's sync settings, or unsaved defaults when it has none."""
    return StoreSyncSettings.objects.filter(store=store).first() or StoreSyncSettings(store=store)


def sync_state_list(*, store: Store) -> dict[str, SyncState | None]:
    states = {state.stream: state for state in SyncState.objects.filter(store=store)}
    return {stream: states.get(stream) for stream in SyncStream.values}


def matched_listings(*, store: Store) -> QuerySet[Listing]:
    return Listing.objects.filter(store=store, status__in=MATCHED_STATUSES, sync_held=False)


class Reserved(TypedDict):
    reserved: int


def with_reserved(listings: QuerySet[Listing]) -> QuerySet[WithAnnotations[Listing, Reserved]]:
    """`listings` annotated with `reserved`: the units of each listing's product that its store has sold and
    not yet shipped (`inventory.StockReservation`), 0 when none."""
    open_units = StockReservation.objects.filter(
        store_id=OuterRef("store_id"), product_id=OuterRef("product_id")
    ).values("quantity")[:1]
    return listings.annotate(reserved=Coalesce(Subquery(open_units), 0))


def sync_rows(*, store: Store, stream: str) -> list[SyncRow]:
    """Every matched listing of `store` with the value Walmart should show and the value it confirmed.
    One query; no model instances (the planner reads 100,000 rows in well under a second)."""
    if stream == INVENTORY:
        sync_settings = sync_settings_get(store=store)
        buffer, cap = sync_settings.safety_buffer, sync_settings.max_quantity
        rows = (
            with_reserved(matched_listings(store=store))
            .annotate(due_since=_due_since(stream))
            .values_list("pk", "walmart_sku", "product__quantity", "reserved", "confirmed_quantity", "due_since")
        )
        return [
            SyncRow(
                pk,
                sku,
                quantity_desired(catalog_quantity=quantity, reserved=reserved, safety_buffer=buffer, max_quantity=cap),
                ok,
                since,
            )
            for pk, sku, quantity, reserved, ok, since in rows.iterator(chunk_size=5000)
        ]
    stream_spec(stream)
    rule = price_rule_values(store=store)
    price_rows = (
        matched_listings(store=store)
        .annotate(due_since=_due_since(stream))
        .values_list("pk", "walmart_sku", "product__price", "price_override", "confirmed_price", "due_since")
    )
    return [
        SyncRow(pk, sku, price_desired(catalog_price=price, rule=rule, override=override), ok, since)
        for pk, sku, price, override, ok, since in price_rows.iterator(chunk_size=5000)
    ]


def _due_since(stream: str) -> Subquery:
    """Since when the listing has been due in `stream` (its dirty-set row), NULL when it is not due."""
    return Subquery(ListingSyncDue.objects.filter(listing_id=OuterRef("pk"), stream=stream).values("due_since")[:1])


@dataclass(frozen=True, slots=True)
class DueSyncRow:
    """A row of the dirty set (`sync.due`) with the planner's view of its listing: `row` is None when the
    listing is no longer matched (the row is then settled)."""

    due_id: int
    generation: int
    row: SyncRow | None

    @property
    def settled(self) -> bool:
        """Nothing to send for it: not matched, no value to send, or Walmart confirmed the desired value."""
        return self.row is None or self.row.desired is None or self.row.desired == self.row.confirmed


def sync_rows_due(*, store: Store, stream: str) -> list[DueSyncRow]:
    """The store's due listings of `stream` (the dirty set, `sync.due`) with the value Walmart should show
    and the value it confirmed: what `sync_rows` gives for the whole store, for these listings only. One
    query; its cost is the number of due listings, not the catalog's size."""
    # "Matched" exactly as the full scan reads it (`matched_listings`), whatever that excludes.
    dues = (
        ListingSyncDue.objects.filter(store=store, stream=stream)
        .order_by()
        .annotate(matched=Exists(matched_listings(store=store).filter(pk=OuterRef("listing_id"))))
    )
    head = ("pk", "generation", "due_since", "listing_id", "matched", "listing__walmart_sku")
    if stream == INVENTORY:
        sync_settings = sync_settings_get(store=store)
        buffer, cap = sync_settings.safety_buffer, sync_settings.max_quantity
        reserved = StockReservation.objects.filter(
            store_id=OuterRef("store_id"), product_id=OuterRef("listing__product_id")
        ).values("quantity")[:1]
        quantities = dues.annotate(reserved=Coalesce(Subquery(reserved), 0)).values_list(
            *head, "listing__product__quantity", "reserved", "listing__confirmed_quantity"
        )
        return [
            DueSyncRow(
                pk,
                generation,
                SyncRow(
                    listing_id,
                    sku,
                    quantity_desired(
                        catalog_quantity=quantity, reserved=reserved, safety_buffer=buffer, max_quantity=cap
                    ),
                    ok,
                    since,
                )
                if matched
                else None,
            )
            for pk, generation, since, listing_id, matched, sku, quantity, reserved, ok in quantities
        ]
    stream_spec(stream)
    rule = price_rule_values(store=store)
    rows = dues.values_list(*head, "listing__product__price", "listing__price_override", "listing__confirmed_price")
    return [
        DueSyncRow(
            pk,
            generation,
            SyncRow(listing_id, sku, price_desired(catalog_price=price, rule=rule, override=override), ok, since)
            if matched
            else None,
        )
        for pk, generation, since, listing_id, matched, sku, price, override, ok in rows
    ]


def open_feeds(*, store: Store, stream: str) -> QuerySet[Feed]:
    spec = stream_spec(stream)
    return Feed.objects.filter(
        store=store,
        feed_type=spec.feed_type,
        status__in=[Feed.Status.PENDING, Feed.Status.RECEIVED, Feed.Status.INPROGRESS],
    )


def in_flight_values(*, store: Store, stream: str, now: datetime) -> dict[str, Value]:
    """`{sku: value}` on its way to Walmart in open (not stale) feeds, and in single-item calls whose answer is
    not recorded yet (maybe applied: not sent again before they are read back); the newest wins for a SKU."""
    values: dict[str, Value] = {}
    feeds = open_feeds(store=store, stream=stream).filter(created_at__gte=now - FEED_STALE_AFTER).order_by("created_at")
    for payload in feeds.values_list("payload", flat=True):
        values.update(feed_payload_items(stream, payload))
    singles = ItemUpdate.objects.filter(store=store, stream=stream, status__in=ItemUpdate.OPEN_STATUSES).order_by("id")
    for sku, value in singles.values_list("sku", "value"):
        values[sku] = value_parse(stream, value)
    return values


def blocked_values(*, store: Store, stream: str, due_only: bool = False) -> dict[int, Value]:
    """`{listing_id: value}` Walmart refused with a data error (not resent until the value changes); with
    `due_only`, only for the listings of the dirty set (one join, whatever the number of failures)."""
    failures = SyncFailure.objects.filter(listing__store=store, stream=stream)
    if due_only:
        failures = failures.filter(listing__sync_due__stream=stream)
    return {listing_id: value_parse(stream, value) for listing_id, value in failures.values_list("listing_id", "value")}


def feed_submitted_times(*, store: Store, stream: str, since: datetime) -> list[datetime]:
    """When feeds of this stream counted against the seller's feed limit since `since`, oldest first."""
    spec = stream_spec(stream)
    times = (
        Feed.objects.filter(store=store, feed_type=spec.feed_type, submitted_at__gte=since)
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
    )
    return [time for time in times if time is not None]


def feed_list(*, store: Store, limit: int = 10) -> list[Feed]:
    return list(
        Feed.objects.filter(store=store, feed_type__in=[Feed.FeedType.INVENTORY, Feed.FeedType.PRICE])
        .defer("payload")
        .order_by("-created_at")[:limit]
    )


def item_update_list(*, store: Store, limit: int = 10) -> list[ItemUpdate]:
    return list(ItemUpdate.objects.filter(store=store).order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class ListingSyncPage:
    """A keyset page of the Sync page's listing table: `after` / `before` are the ids the next and previous
    links continue from (None: no such page). No count of a million rows is made for it."""

    object_list: list[WithAnnotations[Listing, Reserved]]
    after: int | None
    before: int | None


def _positive_id(value: object) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def listing_sync_page(
    *, store: Store, after: object = None, before: object = None, per_page: int = 50, only: str = ""
) -> ListingSyncPage:
    """A page of the store's matched listings for the Sync page, in id order, continuing after the id
    `after` (or ending before `before`): the index on (store, status, id) serves it whatever the catalog's
    size. `only="errors"` keeps those with an inventory or price error, `only="drift"` those where
    reconciliation found drift (each served by a partial index, `sync.due`). Bad ids count as absent."""
    listings = with_reserved(matched_listings(store=store)).select_related("product")
    if only == "errors":
        listings = listings.exclude(inventory_error="", price_error="")
    elif only == "drift":
        listings = listings.filter(Q(inventory_drift_at__isnull=False) | Q(price_drift_at__isnull=False))
    after, before = _positive_id(after), _positive_id(before)
    if before is not None:
        rows = list(listings.filter(pk__lt=before).order_by("-id")[: per_page + 1])
        more_before = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return ListingSyncPage(rows, rows[-1].pk if rows else None, rows[0].pk if rows and more_before else None)
    if after is not None:
        listings = listings.filter(pk__gt=after)
    rows = list(listings.order_by("id")[: per_page + 1])
    more_after = len(rows) > per_page
    rows = rows[:per_page]
    return ListingSyncPage(rows, rows[-1].pk if more_after else None, rows[0].pk if rows and after else None)


@dataclass(frozen=True)
class ListingSyncRow:
    listing: Listing
    desired_quantity: int
    desired_price: Decimal | None
    quantity_pending: bool
    price_pending: bool
    last_synced_at: datetime | None


def listing_sync_rows(*, store: Store, listings: Iterable[WithAnnotations[Listing, Reserved]]) -> list[ListingSyncRow]:
    """Catalog vs desired vs confirmed values for listings loaded with their product and `reserved`
    (`listing_sync_page`)."""
    sync_settings = sync_settings_get(store=store)
    rule = price_rule_values(store=store)
    rows = []
    for listing in listings:
        quantity = quantity_desired(
            catalog_quantity=listing.product.quantity,
            reserved=listing.reserved,
            safety_buffer=sync_settings.safety_buffer,
            max_quantity=sync_settings.max_quantity,
        )
        price = price_desired(catalog_price=listing.product.price, rule=rule, override=listing.price_override)
        moments = [m for m in (listing.confirmed_quantity_at, listing.confirmed_price_at) if m is not None]
        rows.append(
            ListingSyncRow(
                listing=listing,
                desired_quantity=quantity,
                desired_price=price,
                quantity_pending=quantity != listing.confirmed_quantity,
                price_pending=price is not None and price != listing.confirmed_price,
                last_synced_at=max(moments) if moments else None,
            )
        )
    return rows
