"""Token buckets per seller and endpoint family, like Walmart's throttling.

Figures are Walmart's where known (several are unconfirmed, see NOTES §14), so they come from
`settings.WALMART_EMULATOR_RATE_LIMITS` (family -> {"count": N, "seconds": S}) laid over DEFAULTS.
A bucket holds at most `count` tokens and gains `count / seconds` tokens per second of emulator time.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from walmart_emulator.models import RateLimitBucket, Seller

DEFAULTS: dict[str, dict[str, int]] = {
    "orders_read": {"count": 5000, "seconds": 60},
    "orders_acknowledge": {"count": 60, "seconds": 60},
    "orders_ship": {"count": 60, "seconds": 60},
    "orders_cancel": {"count": 60, "seconds": 60},
    "orders_refund": {"count": 60, "seconds": 60},
    "inventory_update": {"count": 200, "seconds": 60},
    "inventory_read": {"count": 900, "seconds": 60},
    "price_update": {"count": 100, "seconds": 3600},
    "items_read": {"count": 900, "seconds": 60},
    "items_list": {"count": 300, "seconds": 60},
    "items_retire": {"count": 900, "seconds": 60},
    "feeds_status": {"count": 5000, "seconds": 60},
    "feeds:MP_ITEM_MATCH": {"count": 10, "seconds": 3600},
    "feeds:MP_ITEM": {"count": 10, "seconds": 3600},
    "feeds:inventory": {"count": 10, "seconds": 3600},
    "feeds:price": {"count": 10, "seconds": 3600},
    "feeds:lagtime": {"count": 6, "seconds": 86400},
    "returns_read": {"count": 600, "seconds": 60},
    "returns_refund": {"count": 60, "seconds": 60},
    "webhooks": {"count": 200, "seconds": 60},
    "settings": {"count": 60, "seconds": 60},
    # Walmart's on-request reports guide: one request per report type per hour; reads are unconfirmed.
    "reports": {"count": 1, "seconds": 3600},
    "reports_read": {"count": 600, "seconds": 60},
}


@dataclass(frozen=True)
class BucketState:
    allowed: bool
    tokens: int
    next_replenish_ms: int


def rate_limit_config() -> dict[str, dict[str, int]]:
    return {**DEFAULTS, **getattr(settings, "WALMART_EMULATOR_RATE_LIMITS", DEFAULTS)}


def rate_limit_for(family: str) -> dict[str, int]:
    config = rate_limit_config()
    return config.get(family) or config.get(family.split(":")[0]) or {"count": 1000, "seconds": 60}


def _refilled(tokens: float, updated_epoch: float, now: datetime, count: int, seconds: int) -> float:
    elapsed = max(now.timestamp() - updated_epoch, 0.0)
    return min(float(count), tokens + elapsed * count / seconds)


def _next_replenish_ms(tokens: float, now: datetime, count: int, seconds: int) -> int:
    per_token = seconds / count
    fraction = tokens - math.floor(tokens)
    wait = per_token * (1 - fraction) if tokens < count else per_token
    return int((now.timestamp() + wait) * 1000)


def rate_limit_consume(*, seller: Seller, family: str, now: datetime) -> BucketState:
    """Take one token from the seller's bucket for `family`; `allowed` is False (nothing taken) when empty.

    Row-locked read-modify-write in one transaction; raw SQL because it runs on every API call.
    """
    limit = rate_limit_for(family)
    count, seconds = limit["count"], limit["seconds"]
    table = connection.ops.quote_name(RateLimitBucket._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    now_epoch = now.timestamp()
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A lost token decrement after a crash is harmless; waiting for the WAL flush on every
                # API call is not.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(
                f"SELECT id, tokens, updated_epoch FROM {table} WHERE seller_id = %s AND family = %s{lock}",  # noqa: S608
                [seller.pk, family],
            )
            row = cursor.fetchone()
        if row is None:
            bucket, _ = RateLimitBucket.objects.get_or_create(
                seller=seller,
                family=family,
                defaults={"tokens": float(count), "updated_at": now, "updated_epoch": now_epoch},
            )
            row = (bucket.pk, bucket.tokens, bucket.updated_epoch)
        bucket_id, tokens, updated_epoch = row
        tokens = min(float(count), tokens + max(now_epoch - updated_epoch, 0.0) * count / seconds)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET tokens = %s, updated_epoch = %s, updated_at = %s WHERE id = %s",  # noqa: S608
                [tokens, now_epoch, connection.ops.adapt_datetimefield_value(now), bucket_id],
            )
    return BucketState(
        allowed=allowed,
        tokens=int(math.floor(tokens)),
        next_replenish_ms=_next_replenish_ms(tokens, now, count, seconds),
    )


def rate_limit_peek(*, seller: Seller, family: str, now: datetime) -> BucketState:
    limit = rate_limit_for(family)
    count, seconds = limit["count"], limit["seconds"]
    bucket = RateLimitBucket.objects.filter(seller=seller, family=family).first()
    tokens = float(count) if bucket is None else _refilled(bucket.tokens, bucket.updated_epoch, now, count, seconds)
    return BucketState(
        allowed=tokens >= 1,
        tokens=int(math.floor(tokens)),
        next_replenish_ms=_next_replenish_ms(tokens, now, count, seconds),
    )


def rate_limit_reset(*, seller: Seller) -> int:
    """Refill every bucket of the seller (they are recreated full). Returns how many were dropped."""
    deleted, _ = RateLimitBucket.objects.filter(seller=seller).delete()
    return deleted
