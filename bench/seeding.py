"""Seeding shared by the benchmarks: published emulator offers in bulk (one INSERT per thousand)."""

from __future__ import annotations

from decimal import Decimal


def emulator_offers_create(*, seller, count: int, sku_prefix: str, wpid_prefix: str, seed: int, price=None) -> list:
    """`count` published offers of `seller` with a million units each, SKUs `<sku_prefix><index>`, over
    catalog items seeded with `seed`; each at `price`, or at its catalog item's price when None."""
    from walmart_emulator import services as emulator
    from walmart_emulator.clock import emulator_now
    from walmart_emulator.models import Offer

    catalog = emulator.catalog_seed(count=count, seed=seed)
    now = emulator_now()
    return Offer.objects.bulk_create(
        [
            Offer(
                seller=seller,
                sku=f"{sku_prefix}{index}",
                catalog_item=item,
                wpid=f"{wpid_prefix}{index:07d}",
                product_name=item.title,
                price=Decimal(price) if price is not None else item.price,
                quantity=10**6,
                published_status=Offer.PublishedStatus.PUBLISHED,
                created_at=now,
                updated_at=now,
            )
            for index, item in enumerate(catalog)
        ],
        batch_size=1000,
    )
