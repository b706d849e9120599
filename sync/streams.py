"""The two outbound streams (inventory, price) described once: which listing fields hold their state, which
store switch turns them on, which Walmart feed type and endpoint families they use."""

from __future__ import annotations

from dataclasses import dataclass

from channel_manager.models import Feed
from sync.models import SyncStream


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    label: str
    feed_type: str
    confirmed_field: str
    confirmed_at_field: str
    error_field: str
    drift_field: str
    switch_field: str
    single_family: str  # endpoint family of the single-item update in walmart_client's rate-limit state


STREAMS: dict[str, StreamSpec] = {
    SyncStream.INVENTORY: StreamSpec(
        name=SyncStream.INVENTORY.value,
        label="Inventory",
        feed_type=Feed.FeedType.INVENTORY,
        confirmed_field="confirmed_quantity",
        confirmed_at_field="confirmed_quantity_at",
        error_field="inventory_error",
        drift_field="inventory_drift_at",
        switch_field="inventory_enabled",
        single_family="inventory.update",
    ),
    SyncStream.PRICE: StreamSpec(
        name=SyncStream.PRICE.value,
        label="Price",
        feed_type=Feed.FeedType.PRICE,
        confirmed_field="confirmed_price",
        confirmed_at_field="confirmed_price_at",
        error_field="price_error",
        drift_field="price_drift_at",
        switch_field="price_enabled",
        single_family="prices.update",
    ),
}


def stream_spec(stream: str) -> StreamSpec:
    """The spec of `stream`; ValueError for an unknown stream name."""
    try:
        return STREAMS[stream]
    except KeyError:
        raise ValueError(f"Unknown sync stream {stream!r}; expected one of {sorted(STREAMS)}.") from None
