"""Reads of onboarding: a store's Walmart items by link status, its imports, and the dry run of the first
push of a newly linked store."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from channel_manager.models import Store
from inventory.desired import quantity_desired
from listings.models import Listing, Product
from onboarding.models import WalmartImport, WalmartItem
from pricing.desired import price_desired
from pricing.selectors import price_rule_values
from sync.selectors import sync_settings_get, with_reserved

VIEWS = {
    "unmanaged": (WalmartItem.LinkStatus.NEW, WalmartItem.LinkStatus.UNMANAGED, WalmartItem.LinkStatus.AMBIGUOUS),
    "ambiguous": (WalmartItem.LinkStatus.AMBIGUOUS,),
    "linked": (WalmartItem.LinkStatus.LINKED,),
    "ignored": (WalmartItem.LinkStatus.IGNORED,),
}
PREVIEW_ROWS = 100


def walmart_item_list(*, store: Store, view: str = "unmanaged", search: str = "") -> QuerySet[WalmartItem]:
    """The store's Walmart items in one view (unmanaged, ambiguous, linked, ignored; anything else: all),
    searched by Walmart SKU prefix, GTIN or item id, or name words; ordered by SKU (the unique index)."""
    items = WalmartItem.objects.filter(store=store).select_related("listing__product")
    if view in VIEWS:
        items = items.filter(link_status__in=VIEWS[view])
    search = search.strip()
    if search:
        items = items.filter(
            Q(sku__istartswith=search)
            | Q(gtin=search.zfill(14))
            | Q(item_id=search)
            | Q(product_name__icontains=search)
        )
    return items.order_by("sku")


def walmart_item_counts(*, store: Store) -> dict[str, int]:
    """{view: count} for the store (one GROUP BY over the (store, link_status) index)."""
    by_status = dict(
        WalmartItem.objects.filter(store=store)
        .order_by()
        .values_list("link_status")
        .annotate(total=Count("id"))
        .values_list("link_status", "total")
    )
    counts = {view: sum(by_status.get(status, 0) for status in statuses) for view, statuses in VIEWS.items()}
    counts["all"] = sum(by_status.values())
    return counts


def walmart_import_latest(*, store: Store) -> WalmartImport | None:
    return WalmartImport.objects.filter(store=store).order_by("-created_at", "-id").first()


def product_search(*, search: str, limit: int = 20) -> list[Product]:
    """Products whose SKU starts with, or name contains, `search` (the link box); at most `limit`."""
    search = search.strip()
    if not search:
        return []
    return list(Product.objects.filter(Q(sku__istartswith=search) | Q(name__icontains=search)).order_by("sku")[:limit])


@dataclass(frozen=True)
class PreviewRow:
    walmart_sku: str
    product_sku: str
    name: str
    walmart_quantity: int | None
    quantity: int
    walmart_price: Decimal | None
    price: Decimal | None

    @property
    def quantity_changes(self) -> bool:
        return self.walmart_quantity != self.quantity

    @property
    def price_changes(self) -> bool:
        return self.walmart_price != self.price


@dataclass(frozen=True)
class FirstPushPreview:
    held: int
    quantity_changes: int
    price_changes: int
    rows: list[PreviewRow]


def first_push_preview(*, store: Store, limit: int = PREVIEW_ROWS) -> FirstPushPreview:
    """What the first push of a newly linked store would change (dry run): for each listing held out of the
    sync, the quantity and price the sync would send (the store's buffer, cap, price rule and open orders
    applied, as the planner does) beside what Walmart holds. Counts cover every held listing; `rows` the
    first `limit` that would change. Nothing is sent or written."""
    sync_settings = sync_settings_get(store=store)
    rule = price_rule_values(store=store)
    held = with_reserved(
        Listing.objects.filter(
            store=store, sync_held=True, status__in=[Listing.Status.MATCH, Listing.Status.MATCH_IN_STAGE]
        )
    ).values_list(
        "walmart_sku",
        "product__sku",
        "product__name",
        "product__quantity",
        "reserved",
        "confirmed_quantity",
        "product__price",
        "price_override",
        "confirmed_price",
    )
    total = quantity_changes = price_changes = 0
    rows: list[PreviewRow] = []
    for walmart_sku, sku, name, quantity, reserved, walmart_quantity, price, override, walmart_price in held.order_by(
        "walmart_sku"
    ).iterator(chunk_size=5000):
        total += 1
        row = PreviewRow(
            walmart_sku=walmart_sku,
            product_sku=sku,
            name=name,
            walmart_quantity=walmart_quantity,
            quantity=quantity_desired(
                catalog_quantity=quantity,
                reserved=reserved,
                safety_buffer=sync_settings.safety_buffer,
                max_quantity=sync_settings.max_quantity,
            ),
            walmart_price=walmart_price,
            price=price_desired(catalog_price=price, rule=rule, override=override),
        )
        quantity_changes += row.quantity_changes
        price_changes += row.price_changes
        if (row.quantity_changes or row.price_changes) and len(rows) < limit:
            rows.append(row)
    return FirstPushPreview(held=total, quantity_changes=quantity_changes, price_changes=price_changes, rows=rows)
