"""Writes of onboarding: import every item a seller already has on Walmart, link each to a catalog product
(by SKU, then by GTIN / UPC / EAN / ISBN), the operator's link / create / ignore actions on Unmanaged items,
and the confirmation of a newly linked store's first push.

A linked item becomes a listing whose Walmart SKU is the item's SKU, already matched (no match feed), with
what Walmart holds as its confirmed quantity and price. Until the operator confirms the store's first push,
those listings are held out of the sync (`Listing.sync_held`), so connecting an account never overwrites a
live catalog by surprise.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from channel_manager.models import Store
from channel_manager.walmart import error_text
from channel_manager.work import enqueue, enqueue_on_commit
from listings.identifiers import IdentifierError, identifier_gtin14, normalize_gtin, normalize_upc
from listings.models import Listing, Product
from listings.services import product_create
from onboarding.models import ImportedQuantity, StoreOnboarding, WalmartImport, WalmartItem
from walmart_client.errors import WalmartError, WalmartRateLimited

logger = logging.getLogger(__name__)

CHUNK = 2000
IDENTIFIER_FIELDS = ("upc", "gtin", "ean", "isbn")  # the order an identifier link is named by
ITEM_FIELDS = (
    "item_id",
    "wpid",
    "product_name",
    "brand",
    "category",
    "gtin",
    "identifier_note",
    "price",
    "published_status",
    "lifecycle_status",
    "status_change_reason",
    "status_changed_at",
    "quantity",
    "last_import",
    "imported_at",
)
Item = WalmartItem.LinkStatus


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _user(actor) -> Any:
    return actor if getattr(actor, "pk", None) else None


# --- the import ----------------------------------------------------------------------------------------------


def onboarding_get(*, store: Store) -> StoreOnboarding:
    onboarding, _ = StoreOnboarding.objects.get_or_create(store=store)
    return onboarding


def walmart_import_start(*, store: Store, actor=None, reason: str = "operator") -> tuple[WalmartImport, bool]:
    """Record an import of every item of `store`'s Walmart account and queue it after commit (queue `reads`).
    While one is still running for the store, that one is returned instead: (import, created). Atomic."""
    from onboarding.tasks import walmart_import_task

    with transaction.atomic():
        onboarding = StoreOnboarding.objects.select_for_update().get(pk=onboarding_get(store=store).pk)
        running = WalmartImport.objects.filter(store=store).exclude(status__in=WalmartImport.FINISHED).first()
        if running is not None:
            return running, False
        walmart_import = WalmartImport.objects.create(store=store, reason=reason[:100], created_by=_user(actor))
        if onboarding.first_import_started_at is None:
            StoreOnboarding.objects.filter(pk=onboarding.pk).update(first_import_started_at=timezone.now())
        enqueue_on_commit(walmart_import_task, walmart_import.pk)
    return walmart_import, True


def store_first_connection_import(*, store: Store) -> WalmartImport | None:
    """On a store's first successful connection: start its first import (once per store). Returns it, or None
    when the store has had one already."""
    onboarding = onboarding_get(store=store)
    if onboarding.first_import_started_at is not None:
        return None
    walmart_import, _ = walmart_import_start(store=store, reason="first connection")
    return walmart_import


class ImportWaiting(Exception):
    """The import waits for Walmart (its report is being made): run it again after `countdown` seconds."""

    def __init__(self, countdown: float) -> None:
        super().__init__(f"waiting {countdown:.0f} s for Walmart")
        self.countdown = countdown


def _import_update(walmart_import: WalmartImport, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(walmart_import, name, value)
    WalmartImport.objects.filter(pk=walmart_import.pk).update(**fields, updated_at=timezone.now())


def walmart_import_fail(*, walmart_import: WalmartImport, message: str) -> None:
    _import_update(walmart_import, status=WalmartImport.Status.FAILED, failure=message, finished_at=timezone.now())


def walmart_import_run(*, walmart_import: WalmartImport, client=None) -> WalmartImport:
    """Advance an import as far as it can go now: choose the source (`GET /v3/items/count`: up to
    ONBOARDING_ITEMS_API_MAX items (1,000) are read with `GET /v3/items` and `GET /v3/inventories`, more through
    Walmart's ITEM and INVENTORY reports, asked for together), read every item (upserted on (store, SKU) in
    chunks) while the quantities are read beside them, forget items Walmart no longer has (unless linked),
    apply the quantities to the items, then link (a linked item's listing starts with Walmart's quantity).
    Raises ImportWaiting while Walmart makes the reports (the task runs it again later; nothing sleeps). Safe
    to re-run: each step restarts from its beginning and writes the same rows. A Walmart error is raised (the
    task retries what can clear by itself) or, for one that cannot, recorded as the import's failure."""
    from channel_manager.walmart import walmart_client_for_store

    walmart_import = WalmartImport.objects.select_related("store").get(pk=walmart_import.pk)
    if walmart_import.is_finished:
        return walmart_import
    store = walmart_import.store
    client = client or walmart_client_for_store(store)
    status = WalmartImport.Status
    quantities: _QuantitiesReader | None = None
    try:
        if walmart_import.status == status.PENDING:
            _import_source_choose(walmart_import, client)
        if walmart_import.status == status.WAITING_REPORT:
            _report_wait(walmart_import, client)
        if walmart_import.status == status.READING:
            quantities = _QuantitiesReader(walmart_import)
            quantities.start()
            _items_read(walmart_import, client)
        if walmart_import.status == status.QUANTITIES:
            if quantities is not None:
                quantities.finish()
            else:
                walmart_import.refresh_from_db()
                if not walmart_import.quantities_complete:
                    _quantities_stage(walmart_import, client)
            _quantities_apply(walmart_import)
            _import_update(walmart_import, status=status.LINKING)
        if walmart_import.status == status.LINKING:
            result = walmart_items_link(store=store)
            _import_update(
                walmart_import,
                status=status.DONE,
                finished_at=timezone.now(),
                linked_count=result.linked,
                unmanaged_count=result.unmanaged,
                ambiguous_count=result.ambiguous,
            )
    except ImportWaiting:
        raise
    except WalmartError as error:
        from channel_manager.walmart import RETRYABLE

        if isinstance(error, RETRYABLE):
            raise
        walmart_import_fail(walmart_import=walmart_import, message=f"Walmart refused: {error_text(error)}")
    finally:
        if quantities is not None:
            quantities.stop()
    return walmart_import


def _import_source_choose(walmart_import: WalmartImport, client) -> None:
    expected = client.items.count("ALL")
    small = expected <= int(_setting("ONBOARDING_ITEMS_API_MAX", 1000))
    source = WalmartImport.Source.ITEMS if small else WalmartImport.Source.REPORT
    _import_update(walmart_import, expected_items=expected, source=source, started_at=timezone.now())
    if small:
        _import_update(walmart_import, status=WalmartImport.Status.READING)
        return
    request_id = _report_request(client, "ITEM")
    _import_update(walmart_import, report_request_id=request_id)
    inventory_request_id = _inventory_report_request(client)
    _import_update(
        walmart_import, inventory_report_request_id=inventory_request_id, status=WalmartImport.Status.WAITING_REPORT
    )


def _report_request(client, report_type: str) -> str:
    """Ask for a report (ITEM or INVENTORY); Walmart makes one of each type an hour, so when it refuses (429)
    the request made within the hour (by an import lost midway, or in Seller Center) is used."""
    try:
        if report_type == "INVENTORY":
            return client.reports.request_inventory_report().request_id
        return client.reports.request_item_report().request_id
    except WalmartRateLimited:
        since = timezone.now() - timedelta(hours=1)
        for request in client.reports.iter_requests(report_type, submitted_since=since):
            if request.status != "ERROR":
                return request.request_id
        raise


def _inventory_report_request(client) -> str:
    """The INVENTORY report's request id, or '' when Walmart will not make one now (refused, or one of the hour
    failed): the quantities are then read with `GET /v3/inventories`, 50 SKUs a call."""
    from channel_manager.walmart import RETRYABLE

    try:
        return _report_request(client, "INVENTORY")
    except WalmartError as error:
        if isinstance(error, RETRYABLE) and not isinstance(error, WalmartRateLimited):
            raise
        logger.info("INVENTORY report not available (%s): quantities from the inventories listing", error)
        return ""


def _report_wait(walmart_import: WalmartImport, client) -> None:
    """READING once the ITEM report (and the INVENTORY report, when asked for) is READY. An INVENTORY report that
    failed is dropped (the listing reads the quantities instead); an ITEM report that failed fails the import."""
    request = client.reports.status(walmart_import.report_request_id)
    if request.status == "ERROR":
        raise_message = f"Walmart could not make the ITEM report {walmart_import.report_request_id}."
        walmart_import_fail(walmart_import=walmart_import, message=raise_message + " Import again.")
        return
    inventory_ready = True
    if walmart_import.inventory_report_request_id:
        inventory = client.reports.status(walmart_import.inventory_report_request_id)
        if inventory.status == "ERROR":
            logger.info("INVENTORY report %s failed: quantities from the inventories listing", inventory.request_id)
            _import_update(walmart_import, inventory_report_request_id="")
        inventory_ready = inventory.status in ("READY", "ERROR")
    if request.status == "READY" and inventory_ready:
        _import_update(walmart_import, status=WalmartImport.Status.READING)
        return
    raise ImportWaiting(float(_setting("ONBOARDING_REPORT_POLL_SECONDS", 30)))


@dataclass(frozen=True, slots=True)
class RemoteItem:
    """One Walmart item, whichever source it came from."""

    sku: str
    item_id: str
    wpid: str
    product_name: str
    brand: str
    category: str
    gtin: str
    upc: str
    price: Decimal | None
    published_status: str
    lifecycle_status: str
    status_change_reason: str

    @classmethod
    def from_report_row(cls, row) -> RemoteItem:
        return cls(
            sku=row.sku,
            item_id=row.item_id or "",
            wpid=row.wpid or "",
            product_name=row.product_name or "",
            brand=row.brand or "",
            category=row.product_category or "",
            gtin=row.gtin or "",
            upc=row.upc or "",
            price=row.price,
            published_status=row.published_status or "",
            lifecycle_status=row.lifecycle_status or "",
            status_change_reason=row.status_change_reason or "",
        )

    @classmethod
    def from_item(cls, item) -> RemoteItem:
        return cls(
            sku=item.sku,
            item_id=str(item.raw.get("itemId") or ""),
            wpid=item.wpid or "",
            product_name=item.product_name or "",
            brand=str(item.raw.get("brand") or ""),
            category=item.product_type or "",
            gtin=item.gtin or "",
            upc=item.upc or "",
            price=item.price,
            published_status=item.published_status or "",
            lifecycle_status=item.lifecycle_status or "",
            status_change_reason="; ".join(item.unpublished_reasons),
        )


def item_gtin(*, gtin: str, upc: str) -> tuple[str, str]:
    """(Walmart's identifier as a GTIN-14, why it was not usable): the GTIN column, else the UPC, check digits
    verified. A wrong check digit is never fixed."""
    notes = []
    for value, normalize, label in ((gtin, normalize_gtin, "GTIN"), (upc, normalize_upc, "UPC")):
        if not value:
            continue
        try:
            return identifier_gtin14("gtin" if label == "GTIN" else "upc", normalize(value)), ""
        except IdentifierError as error:
            notes.append(f"Walmart's {label}: {error.message}")
    return "", " ".join(notes)[:200]


# The columns an import or a read-back writes for an item (link fields never), in `_item_values` order.
ITEM_COLUMNS = ("store_id", "sku", *(name if name != "last_import" else "last_import_id" for name in ITEM_FIELDS))
IMPORT_UPDATE = ITEM_COLUMNS[2:]


def _item_values(store_id: int, walmart_import_id: int | None, remote: RemoteItem, now: datetime) -> tuple:
    """One item's row (ITEM_COLUMNS): Walmart's values cut to the field sizes, its identifier as a checked
    GTIN-14 (or why not), no quantity (set from the quantities read beside the items, once all are read)."""
    gtin, note = item_gtin(gtin=remote.gtin, upc=remote.upc)
    by_name = {
        "store_id": store_id,
        "sku": remote.sku[:50],
        "item_id": remote.item_id[:50],
        "wpid": remote.wpid[:50],
        "product_name": remote.product_name[:300],
        "brand": remote.brand[:100],
        "category": remote.category[:100],
        "gtin": gtin,
        "identifier_note": note,
        "price": remote.price if remote.price is not None and remote.price >= 0 else None,
        "published_status": remote.published_status[:30],
        "lifecycle_status": remote.lifecycle_status[:30],
        "status_change_reason": remote.status_change_reason,
        "status_changed_at": now,
        "quantity": None,
        "last_import_id": walmart_import_id,
        "imported_at": now,
    }
    return tuple(by_name[name] for name in ITEM_COLUMNS)


def _items_upsert(rows: list[tuple], *, update: Sequence[str]) -> None:
    """Insert or update items (ITEM_COLUMNS tuples, one per (store, SKU)) on their (store, SKU) constraint; a
    new item is not linked yet. `update`: the columns an existing item takes. PostgreSQL: COPY into a staging
    table and one INSERT ... SELECT ... ON CONFLICT DO UPDATE (no model instance per row: most of the reading
    time before); elsewhere bulk_create. Inside the caller's transaction, or its own."""
    if not rows:
        return
    quote = connection.ops.quote_name
    if connection.vendor != "postgresql":
        fields = [name.removesuffix("_id") if name in ("store_id", "last_import_id") else name for name in update]
        WalmartItem.objects.bulk_create(
            [WalmartItem(**dict(zip(ITEM_COLUMNS, row, strict=True))) for row in rows],
            update_conflicts=True,
            unique_fields=["store", "sku"],
            update_fields=fields,
        )
        return
    table = quote(WalmartItem._meta.db_table)
    columns = ", ".join(quote(name) for name in ITEM_COLUMNS)
    updates = ", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in update)
    # Only quoted model names are formatted in; every value goes through COPY or is a parameter.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE walmart_item_stage ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
        )
        with cursor.cursor.copy(f"COPY walmart_item_stage ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}, link_status, link_method, link_note) "  # noqa: S608
            f"SELECT {columns}, %s, '', '' FROM walmart_item_stage "
            f"ON CONFLICT (store_id, sku) DO UPDATE SET {updates}",
            [Item.NEW],
        )
        cursor.execute("DROP TABLE walmart_item_stage")


def _remote_items(walmart_import: WalmartImport, client) -> Iterator[RemoteItem]:
    if walmart_import.source == WalmartImport.Source.REPORT:
        for row in client.reports.download(walmart_import.report_request_id):
            yield RemoteItem.from_report_row(row)
    else:
        for item in client.items.iter_all(page_size=200):
            yield RemoteItem.from_item(item)


def _chunked(rows: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _items_read(walmart_import: WalmartImport, client) -> None:
    """Upsert every item, CHUNK at a time (one INSERT ... ON CONFLICT (store, sku) DO UPDATE each; the quantity
    is cleared until the quantities are applied); link fields are never touched here. Then remove items this
    import did not see, unless linked."""
    store = walmart_import.store
    before = WalmartItem.objects.filter(store=store).count()
    _import_update(walmart_import, items_read=0)
    for chunk in _chunked(_remote_items(walmart_import, client)):
        now = timezone.now()
        rows = {
            remote.sku[:50]: _item_values(store.pk, walmart_import.pk, remote, now) for remote in chunk if remote.sku
        }
        _items_upsert(list(rows.values()), update=IMPORT_UPDATE)
        WalmartImport.objects.filter(pk=walmart_import.pk).update(
            items_read=F("items_read") + len(chunk), updated_at=now
        )
    stale = WalmartItem.objects.filter(store=store, listing__isnull=True).exclude(last_import=walmart_import)
    removed, _ = stale.delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Linking plans its joins on these rows: fresh statistics after a bulk load (a few hundred ms).
            cursor.execute(f"ANALYZE {connection.ops.quote_name(WalmartItem._meta.db_table)}")
    walmart_import.refresh_from_db()
    total = WalmartItem.objects.filter(store=store).count()
    _import_update(
        walmart_import,
        items_removed=removed,
        items_created=max(0, total - (before - removed)),
        status=WalmartImport.Status.QUANTITIES,
    )


def _remote_quantities(walmart_import: WalmartImport, client) -> Iterator[tuple[str, int]]:
    """(SKU, inputQty) per SKU and ship node: the INVENTORY report's rows when the import has one, else
    `GET /v3/inventories` (50 SKUs a call)."""
    if walmart_import.inventory_report_request_id:
        for row in client.reports.download_inventory(walmart_import.inventory_report_request_id):
            if row.input_quantity is not None:
                yield row.sku[:50], row.input_quantity
    else:
        for inventory in client.inventory.iter_all():
            yield inventory.sku[:50], int(inventory.quantity or 0)


def _quantities_stage(walmart_import: WalmartImport, client) -> None:
    """Every SKU's inputQty per ship node, staged (ImportedQuantity: COPY on PostgreSQL, else CHUNK rows per
    INSERT) for `_quantities_apply`. Restarts from the beginning."""
    ImportedQuantity.objects.filter(walmart_import=walmart_import).delete()
    _import_update(walmart_import, quantities_read=0, quantities_complete=False)
    table = connection.ops.quote_name(ImportedQuantity._meta.db_table)
    for chunk in _chunked(_remote_quantities(walmart_import, client)):
        if connection.vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} (walmart_import_id, sku, quantity) FROM STDIN") as copy,
            ):
                for sku, quantity in chunk:
                    copy.write_row((walmart_import.pk, sku, quantity))
        else:
            ImportedQuantity.objects.bulk_create(
                [ImportedQuantity(walmart_import=walmart_import, sku=sku, quantity=quantity) for sku, quantity in chunk]
            )
        WalmartImport.objects.filter(pk=walmart_import.pk).update(
            quantities_read=F("quantities_read") + len(chunk), updated_at=timezone.now()
        )
    _import_update(walmart_import, quantities_complete=True)


def _quantities_apply(walmart_import: WalmartImport) -> None:
    """The staged quantities (summed over ship nodes) become the items' quantities (the items this import read
    start without one; an item Walmart gave no quantity for keeps none), before linking, so that a listing
    created by linking starts with Walmart's quantity as its confirmed quantity. Then the staging rows go. One
    transaction; safe to re-run."""
    quote = connection.ops.quote_name
    item, staged = (quote(model._meta.db_table) for model in (WalmartItem, ImportedQuantity))
    store_id = walmart_import.store_id
    # Only quoted table names are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {item} SET quantity = totals.quantity FROM (SELECT sku, SUM(quantity) AS quantity "  # noqa: S608
        f"FROM {staged} WHERE walmart_import_id = %s GROUP BY sku) AS totals "
        f"WHERE {item}.store_id = %s AND {item}.sku = totals.sku"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [walmart_import.pk, store_id])
        ImportedQuantity.objects.filter(walmart_import=walmart_import).delete()


class _QuantitiesReader:
    """Reads the quantities (`_quantities_stage`) in a thread of its own, with its own Walmart client and
    database connection, while the items are read; `finish()` waits for it and raises what it raised. On
    SQLite (one writer at a time) or with ONBOARDING_QUANTITIES_IN_PARALLEL off, the quantities are read after
    the items instead."""

    def __init__(self, walmart_import: WalmartImport) -> None:
        self.walmart_import = walmart_import
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        if connection.vendor == "sqlite" or not _setting("ONBOARDING_QUANTITIES_IN_PARALLEL", True):
            return
        self.thread = threading.Thread(target=self._run, name=f"walmart-import-{self.walmart_import.pk}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from django.db import connection as thread_connection

        from channel_manager.walmart import walmart_client_for_store

        try:
            walmart_import = WalmartImport.objects.select_related("store").get(pk=self.walmart_import.pk)
            _quantities_stage(walmart_import, walmart_client_for_store(walmart_import.store))
        except BaseException as error:  # noqa: BLE001 - handed to the task's thread by finish(), raised there
            self.error = error
        finally:
            thread_connection.close()

    def finish(self) -> None:
        if self.thread is None:
            self.walmart_import.refresh_from_db()
            if not self.walmart_import.quantities_complete:
                from channel_manager.walmart import walmart_client_for_store

                _quantities_stage(self.walmart_import, walmart_client_for_store(self.walmart_import.store))
            return
        self.thread.join()
        self.thread = None
        if self.error is not None:
            raise self.error
        self.walmart_import.refresh_from_db()

    def stop(self) -> None:
        """After a failure: let the thread end (it stops at Walmart's next answer at the latest)."""
        if self.thread is not None:
            self.thread.join()


def walmart_imports_sweep(now: datetime) -> int:
    """Re-drive imports that stopped moving (a worker lost midway, a task lost with Redis): not finished and
    not updated for ONBOARDING_IMPORT_STALE_MINUTES (10). Safe to run twice: the import re-runs its step."""
    from onboarding.tasks import walmart_import_task

    stale = now - timedelta(minutes=int(_setting("ONBOARDING_IMPORT_STALE_MINUTES", 10)))
    ids = list(
        WalmartImport.objects.exclude(status__in=WalmartImport.FINISHED)
        .filter(updated_at__lt=stale)
        .values_list("pk", flat=True)
    )
    for pk in ids:
        WalmartImport.objects.filter(pk=pk).update(updated_at=now)
        enqueue(walmart_import_task, pk)
    return len(ids)


# --- the hourly read-back and Walmart's item events ----------------------------------------------------------


def onboarded_store_ids() -> list[int]:
    """Stores whose Walmart items were imported: the hourly read-back keeps their items up to date."""
    return list(
        StoreOnboarding.objects.filter(first_import_started_at__isnull=False).values_list("store_id", flat=True)
    )


def _items_tracked(store: Store) -> bool:
    """Whether the store's Walmart items are kept here (imported once) and no import is writing them now."""
    imported = StoreOnboarding.objects.filter(store=store, first_import_started_at__isnull=False).exists()
    running = WalmartImport.objects.filter(store=store).exclude(status__in=WalmartImport.FINISHED).exists()
    return imported and not running


READ_BACK_UPDATE = [name for name in ITEM_COLUMNS[2:] if name not in ("quantity", "last_import_id")]


def walmart_items_refresh(*, store: Store, items: Sequence[Any], started_at: datetime, complete: bool) -> int:
    """One page of the hourly read-back (`GET /v3/items`) applied to the store's Walmart items: each is upserted
    on (store, SKU) with Walmart's name, identifiers, price and published / lifecycle status (link fields and
    the quantity untouched; a SKU seen for the first time is added, not linked yet). At the end of a complete
    read (`complete`): items not seen since `started_at` and not linked are removed (Walmart no longer has
    them), and new items are linked like an import's. Nothing for a store never imported or while an import
    runs. Returns how many items were written. Safe to re-run."""
    if not _items_tracked(store):
        return 0
    now = timezone.now()
    written = 0
    for chunk in _chunked(items):
        rows = {
            item.sku[:50]: _item_values(store.pk, None, RemoteItem.from_item(item), now) for item in chunk if item.sku
        }
        _items_upsert(list(rows.values()), update=READ_BACK_UPDATE)
        written += len(rows)
    if complete:
        WalmartItem.objects.filter(store=store, listing__isnull=True, imported_at__lt=started_at).delete()
        if WalmartItem.objects.filter(store=store, link_status=Item.NEW).exists():
            walmart_items_link(store=store)
    return written


def walmart_item_event_apply(*, store: Store, event: Any) -> int:
    """One of Walmart's item events (walmart_client.events: OfferPublished, OfferUnpublished, BuyBoxChanged)
    applied to the store's Walmart item with that SKU, so the Walmart items tab and the Unmanaged list show it
    within seconds: published / lifecycle status and reasons (an unpublished offer's reasons), item id, name
    and price (published), the buy box (who wins, at what price). An event older than what the item shows is
    skipped. Returns how many items changed (0 or 1)."""
    from walmart_client.events import BuyBoxChanged, OfferPublished, OfferUnpublished

    payload = event.payload
    at = event.event_time or timezone.now()
    item = WalmartItem.objects.filter(store=store, sku=getattr(payload, "sku", "")).first()
    if item is None:
        return 0
    fields: dict[str, Any] = {}
    if isinstance(payload, OfferPublished | OfferUnpublished):
        if item.status_changed_at is not None and at < item.status_changed_at:
            return 0
        fields.update(
            published_status=(payload.published_status or "")[:30],
            lifecycle_status=(payload.lifecycle_status or item.lifecycle_status)[:30],
            status_change_reason="; ".join(payload.reasons.values()) if isinstance(payload, OfferUnpublished) else "",
            status_changed_at=at,
        )
        if payload.item_id:
            fields["item_id"] = payload.item_id[:50]
        if isinstance(payload, OfferPublished):
            if payload.item_name:
                fields["product_name"] = payload.item_name[:300]
            if payload.price is not None:
                fields["price"] = payload.price
    elif isinstance(payload, BuyBoxChanged):
        if item.buy_box_changed_at is not None and at < item.buy_box_changed_at:
            return 0
        winning = payload.winning_offer
        fields.update(
            buy_box_price=winning.price if winning is not None else None,
            buy_box_won=payload.seller_wins,
            buy_box_offers=payload.total_offers,
            buy_box_changed_at=at,
        )
    else:
        return 0
    return WalmartItem.objects.filter(pk=item.pk).update(**fields)


# --- linking -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkResult:
    linked: int
    unmanaged: int
    ambiguous: int


def _listing_values(item: WalmartItem, product_id: int, *, is_live: bool, held: bool, now: datetime) -> dict:
    """The fields of the listing a linked item becomes: matched (Draft when Walmart retired it), its Walmart SKU
    and state, and what Walmart holds as the confirmed quantity and price."""
    retired = item.lifecycle_status.upper() == "RETIRED"
    if retired:
        status = Listing.Status.DRAFT
    else:
        status = Listing.Status.MATCH if is_live else Listing.Status.MATCH_IN_STAGE
    return {
        "store_id": item.store_id,
        "product_id": product_id,
        "walmart_sku": item.sku,
        "status": status,
        "walmart_item_id": (item.item_id or item.wpid)[:50],
        "published_status": item.published_status,
        "unpublished_reasons": [item.status_change_reason] if item.status_change_reason else [],
        "lifecycle_status": item.lifecycle_status,
        "retired_at": now if retired else None,
        "last_synced_at": now,
        "confirmed_quantity": item.quantity,
        "confirmed_quantity_at": now if item.quantity is not None else None,
        "confirmed_price": item.price,
        "confirmed_price_at": now if item.price is not None else None,
        "sync_held": held,
        "created_at": now,
        "updated_at": now,
    }


LISTING_INSERT_ROWS = 500


def _listings_insert(rows: list[dict]) -> None:
    """Write the listings without a model instance per row (which cost most of linking 100,000 items): COPY on
    PostgreSQL, else INSERTs of LISTING_INSERT_ROWS rows. Every column not given gets the model's default."""
    fields = [field for field in Listing._meta.concrete_fields if not field.primary_key]
    given = set(rows[0])
    defaults = {
        field.attname: field.get_db_prep_save(field.get_default(), connection)
        for field in fields
        if field.attname not in given
    }
    json_field = Listing._meta.get_field("unpublished_reasons")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    if connection.vendor == "postgresql":  # COPY: no statement text to build and parse for 25 values a row
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {quote(Listing._meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[field.attname])
                        if field is json_field
                        else (defaults[field.attname] if field.attname in defaults else row[field.attname])
                        for field in fields
                    ]
                )
        return
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(rows), LISTING_INSERT_ROWS):
        chunk = rows[start : start + LISTING_INSERT_ROWS]
        params: list[Any] = []
        for row in chunk:
            for field in fields:
                if field.attname in defaults:
                    params.append(defaults[field.attname])
                elif field is json_field:
                    params.append(field.get_db_prep_save(row[field.attname], connection))
                else:
                    params.append(row[field.attname])
        # Only quoted model names and placeholders are formatted in; every value is a parameter.
        sql = (
            f"INSERT INTO {quote(Listing._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES {', '.join([placeholders] * len(chunk))}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _links_write(*, store: Store, links: Sequence[tuple[int, int, str]], now: datetime) -> int:
    """Create a listing for each (item pk, product pk, method) and link the item to it. Inside the caller's
    transaction (the store's onboarding row locked)."""
    if not links:
        return 0
    held = onboarding_get(store=store).first_push_confirmed_at is None
    items = WalmartItem.objects.in_bulk([item_pk for item_pk, _, _ in links])
    _listings_insert(
        [
            _listing_values(items[item_pk], product_pk, is_live=store.is_live, held=held, now=now)
            for item_pk, product_pk, _ in links
        ]
    )
    # One UPDATE ... FROM per link method, joining the listings on (store, Walmart SKU). Not a correlated
    # subquery per item: planned on the statistics of a store that had no listings yet, it scanned every
    # listing for every item (linking 100,000 items slowed down chunk after chunk, to 40 s a chunk).
    quote = connection.ops.quote_name
    item_table, listing_table = quote(WalmartItem._meta.db_table), quote(Listing._meta.db_table)
    by_method: dict[str, list[int]] = defaultdict(list)
    for item_pk, _, method in links:
        by_method[method].append(item_pk)
    for method, item_pks in by_method.items():
        placeholders = ", ".join(["%s"] * len(item_pks))
        # Only quoted model names and placeholders are formatted in; every value is a parameter.
        sql = (
            f"UPDATE {item_table} SET listing_id = l.id, link_status = %s, link_method = %s, "  # noqa: S608
            f"link_note = '', linked_at = %s FROM {listing_table} l "
            f"WHERE {item_table}.id IN ({placeholders}) AND l.store_id = %s AND l.walmart_sku = {item_table}.sku"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql, [Item.LINKED, method, connection.ops.adapt_datetimefield_value(now), *item_pks, store.pk]
            )
    if not held:
        _sync_nudge(store)
    return len(links)


def _sync_nudge(store: Store) -> None:
    from sync.services import sync_enqueue

    for stream in ("inventory", "price"):
        sync_enqueue(store_id=store.pk, stream=stream, countdown=0)


def product_identifier_keys(values: dict[str, str]) -> dict[str, str]:
    """{GTIN-14: the catalog field it came from} for a product's normalised identifiers (UPC, GTIN, EAN,
    ISBN; the first field wins when two hold the same code)."""
    keys: dict[str, str] = {}
    for name in IDENTIFIER_FIELDS:
        value = values.get(name) or ""
        if value:
            try:
                keys.setdefault(identifier_gtin14(name, value), name)
            except IdentifierError:
                continue
    return keys


def walmart_items_link(*, store: Store) -> LinkResult:
    """Link every not-yet-linked, not-ignored item of `store` to the catalog:

    1. an item whose SKU is already a listing's Walmart SKU in the store is that listing;
    2. else the product with the same SKU, unless that product is already offered in the store;
    3. else the one product (not offered in the store) holding the item's GTIN as its UPC, GTIN, EAN or ISBN
       (compared as GTIN-14s). An identifier two products share, or a product two items claim, links nothing:
       those items are Ambiguous, with the candidates named.

    Items left are Unmanaged. An item is never linked to two products, nor a product to two items (the unique
    (store, product) and (store, Walmart SKU) listings hold it). Safe to re-run. Memory: the candidate pairs
    of step 3 (a few integers per matching item); the catalog is streamed CHUNK products at a time."""
    now = timezone.now()
    with transaction.atomic():
        StoreOnboarding.objects.select_for_update().filter(pk=onboarding_get(store=store).pk).first()
        linkable = WalmartItem.objects.filter(store=store, link_status__in=WalmartItem.UNMANAGED_STATUSES)
        linkable.exclude(link_status=Item.NEW).update(link_status=Item.NEW, link_note="")
        listed = Listing.objects.filter(store=store)
        # 1. the store's own listings
        same_sku = listed.filter(walmart_sku=OuterRef("sku")).exclude(walmart_item__isnull=False).values("pk")[:1]
        linked = linkable.filter(Exists(same_sku)).update(
            listing_id=Subquery(same_sku), link_status=Item.LINKED, link_method="listing", link_note="", linked_at=now
        )
        # 2. by SKU (one join on the product's unique SKU; the pairs are two integers per matching item)
        for chunk in _chunked(_same_sku_pairs(store)):
            linked += _links_write(store=store, links=[(item, product, "sku") for item, product in chunk], now=now)
        # 3. by identifier
        linked_by_id, ambiguous = _link_by_identifiers(store=store, now=now)
        linked += linked_by_id
        unmanaged = linkable.filter(link_status=Item.NEW).update(
            link_status=Item.UNMANAGED,
            link_note="No catalog product has this SKU or identifier (or the product is already offered in "
            "this store under another Walmart SKU).",
        )
        orders_relink_queue(store=store)
    return LinkResult(linked=linked, unmanaged=unmanaged, ambiguous=ambiguous)


def _same_sku_pairs(store: Store) -> list[tuple[int, int]]:
    """(item pk, product pk) of the store's not-yet-linked items whose SKU is a product's SKU, that product
    not offered in the store yet: one join, read once before any link is written (two integers per matching
    item; a query per chunk between the writes cost a full join each time)."""
    quote = connection.ops.quote_name
    item, product, listing = (quote(model._meta.db_table) for model in (WalmartItem, Product, Listing))
    # Only quoted table names are formatted in; every value is a parameter.
    sql = (
        f"SELECT i.id, p.id FROM {item} i JOIN {product} p ON p.sku = i.sku "  # noqa: S608
        f"WHERE i.store_id = %s AND i.link_status = %s AND NOT EXISTS "
        f"(SELECT 1 FROM {listing} l WHERE l.store_id = %s AND l.product_id = p.id) ORDER BY i.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store.pk, Item.NEW, store.pk])
        return [(int(item_pk), int(product_pk)) for item_pk, product_pk in cursor.fetchall()]


def _keyset_chunks(rows: QuerySet) -> Iterator[list[tuple]]:
    """`rows` (values_list starting with the pk, ordered by pk) CHUNK at a time, each chunk its own query
    from the last pk seen: no server-side cursor held open across the writes in between."""
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


# A candidate (item, product, identifier field) pair packed in one int, twice: sorted by item, and by product.
_PRODUCT_BITS, _KIND_BITS = 40, 3


def _pair_groups(packed: list[int], shift: int) -> Iterator[tuple[int, list[int]]]:
    """(key, the other pks) for each key (the high part) with more than one pair in the sorted `packed`."""
    mask = (1 << shift) - 1
    index = 0
    while index < len(packed):
        key = packed[index] >> shift
        end = index
        while end < len(packed) and packed[end] >> shift == key:
            end += 1
        if end - index > 1:
            yield key, [value & mask for value in packed[index:end]]
        index = end


def _link_by_identifiers(*, store: Store, now: datetime) -> tuple[int, int]:
    """Step 3 of `walmart_items_link`. Memory: one int per candidate pair, twice (by item, by product), and
    the notes of the ambiguous items; the catalog is read CHUNK products at a time."""
    candidates = WalmartItem.objects.filter(store=store, link_status=Item.NEW).exclude(gtin="")
    if not candidates.exists():
        return 0, 0
    products = (
        Product.objects.exclude(upc="", gtin="", ean="", isbn="")
        .exclude(Exists(Listing.objects.filter(store=store, product_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", *IDENTIFIER_FIELDS)
    )
    by_item: list[int] = []  # item << (40 + 3) | product << 3 | field
    by_product: list[int] = []  # product << 40 | item
    for chunk in _keyset_chunks(products):
        keys_by_product = {
            row[0]: product_identifier_keys(dict(zip(IDENTIFIER_FIELDS, row[1:], strict=True))) for row in chunk
        }
        wanted = {key for keys in keys_by_product.values() for key in keys}
        found: dict[str, list[int]] = defaultdict(list)
        for gtin, item_pk in candidates.filter(gtin__in=wanted).values_list("gtin", "pk") if wanted else ():
            found[gtin].append(item_pk)
        for product_pk, keys in keys_by_product.items():
            for key, field_name in keys.items():
                for item_pk in found.get(key, ()):
                    kind = IDENTIFIER_FIELDS.index(field_name)
                    by_item.append(item_pk << (_PRODUCT_BITS + _KIND_BITS) | product_pk << _KIND_BITS | kind)
                    by_product.append(product_pk << _PRODUCT_BITS | item_pk)
    by_item.sort()
    by_product.sort()
    # An item several products hold, or a product several items claim: ambiguous (few; named in the note).
    products_of_item = {
        item_pk: [pair >> _KIND_BITS for pair in pairs]
        for item_pk, pairs in _pair_groups(by_item, _PRODUCT_BITS + _KIND_BITS)
    }
    items_of_product = dict(_pair_groups(by_product, _PRODUCT_BITS))
    del by_product
    named = {pk for pks in products_of_item.values() for pk in pks} | set(items_of_product)
    product_skus = dict(Product.objects.filter(pk__in=named).values_list("pk", "sku")) if named else {}
    notes: dict[int, str] = {}
    for item_pk, product_pks in products_of_item.items():
        skus = ", ".join(sorted(product_skus[pk] for pk in product_pks))
        notes[item_pk] = f"{len(product_pks)} catalog products share its identifier ({skus}): link one by hand."
    claimed = [pk for pks in items_of_product.values() for pk in pks]
    item_skus = dict(WalmartItem.objects.filter(pk__in=claimed).values_list("pk", "sku")) if claimed else {}
    for product_pk, item_pks in items_of_product.items():
        others = ", ".join(sorted(item_skus[pk] for pk in item_pks))
        for item_pk in item_pks:
            notes.setdefault(
                item_pk,
                f"Catalog product {product_skus[product_pk]} matches {len(item_pks)} Walmart items ({others}): "
                "link one by hand.",
            )
    product_mask = (1 << _PRODUCT_BITS) - 1
    links = (
        (
            pair >> (_PRODUCT_BITS + _KIND_BITS),
            (pair >> _KIND_BITS) & product_mask,
            IDENTIFIER_FIELDS[pair & ((1 << _KIND_BITS) - 1)],
        )
        for pair in by_item
        if pair >> (_PRODUCT_BITS + _KIND_BITS) not in notes
    )
    linked = 0
    for chunk in _chunked(links):
        linked += _links_write(store=store, links=chunk, now=now)
    _notes_write(notes)
    return linked, len(notes)


def _notes_write(notes: dict[int, str]) -> None:
    """Mark items Ambiguous with their own note: one UPDATE ... FROM (VALUES ...) per CHUNK items."""
    table = connection.ops.quote_name(WalmartItem._meta.db_table)
    for chunk in _chunked(sorted(notes.items())):
        values = ", ".join(["(%s, %s)"] * len(chunk))
        # Only the quoted table name and placeholders are formatted in; every value is a parameter.
        sql = (
            f"UPDATE {table} SET link_status = %s, link_note = noted.column2 "  # noqa: S608
            f"FROM (VALUES {values}) AS noted WHERE {table}.id = noted.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [Item.AMBIGUOUS, *(value for pair in chunk for value in pair)])


# --- the operator's actions ----------------------------------------------------------------------------------


def walmart_item_link(*, item: WalmartItem, product: Product, actor=None) -> Listing:
    """Link one Unmanaged item to `product` (the operator's choice), then re-process the store's orders that
    were waiting for its SKU. Raises ValidationError (nothing written) when the item is linked already, or
    the product or the SKU is already offered in the store."""
    now = timezone.now()
    with transaction.atomic():
        StoreOnboarding.objects.select_for_update().filter(pk=onboarding_get(store=item.store).pk).first()
        item = WalmartItem.objects.select_related("store").get(pk=item.pk)
        if item.link_status == Item.LINKED:
            raise ValidationError(f"Walmart SKU {item.sku} is already linked.")
        existing = Listing.objects.filter(store=item.store, product=product).first()
        if existing is not None:
            raise ValidationError(
                f"Product {product.sku} is already offered in this store as Walmart SKU {existing.walmart_sku}."
            )
        if Listing.objects.filter(store=item.store, walmart_sku=item.sku).exists():
            raise ValidationError(f"Walmart SKU {item.sku} is already the SKU of a listing in this store.")
        _links_write(store=item.store, links=[(item.pk, product.pk, "manual")], now=now)
        listing = Listing.objects.get(store=item.store, walmart_sku=item.sku)
        orders_relink_queue(store=item.store, skus=[item.sku])
    return listing


def walmart_item_product_create(*, item: WalmartItem, actor=None) -> Listing:
    """Create a catalog product from an Unmanaged item (its SKU, name, brand, price, Walmart's quantity and
    GTIN) and link the item to it. Raises ProductInvalid (e.g. a product with that SKU exists) or
    ValidationError, with nothing written."""
    values: dict[str, Any] = {
        "sku": item.sku,
        "name": item.product_name or item.sku,
        "brand": item.brand,
        "price": str(item.price if item.price is not None else "0.00"),
        "quantity": max(0, item.quantity or 0),
    }
    if item.gtin:
        values["gtin"] = item.gtin
    with transaction.atomic():
        if item.link_status == Item.LINKED:
            raise ValidationError(f"Walmart SKU {item.sku} is already linked.")
        product = product_create(actor=actor, reason="import", **values)
        listing = walmart_item_link(item=item, product=product, actor=actor)
        WalmartItem.objects.filter(pk=item.pk).update(link_method=WalmartItem.LinkMethod.CREATED)
    return listing


def walmart_items_ignore(*, items: QuerySet[WalmartItem], ignored: bool = True) -> int:
    """Ignore Unmanaged items (they stay out of the Unmanaged list and auto-link), or bring ignored ones back.
    Linked items are left alone. Returns how many changed."""
    if ignored:
        return items.filter(link_status__in=WalmartItem.UNMANAGED_STATUSES).update(link_status=Item.IGNORED)
    return items.filter(link_status=Item.IGNORED).update(link_status=Item.UNMANAGED, link_note="")


def walmart_items_products_create(*, items: QuerySet[WalmartItem], actor=None) -> tuple[int, list[str]]:
    """Create a product from each Unmanaged item (see `walmart_item_product_create`); an item that cannot be
    (its SKU is a product already, ...) is reported and the others go on. Returns (created, errors)."""
    created, errors = 0, []
    for item in items.filter(link_status__in=WalmartItem.UNMANAGED_STATUSES).select_related("store").order_by("pk"):
        try:
            walmart_item_product_create(item=item, actor=actor)
        except (ValidationError, ValueError) as error:
            errors.append(f"{item.sku}: {error}")
        else:
            created += 1
    return created, errors


def orders_relink_queue(*, store: Store, skus: Iterable[str] | None = None) -> int:
    """After commit, queue the re-processing of the store's orders with a line whose Walmart SKU had no listing
    and now has one (`skus`: only those). Returns how many orders were queued."""
    from onboarding.tasks import orders_relink_task
    from orders.models import OrderLine

    lines = OrderLine.objects.filter(order__store=store, listing__isnull=True).filter(
        Exists(Listing.objects.filter(store=store, walmart_sku=OuterRef("sku")))
    )
    if skus is not None:
        lines = lines.filter(sku__in=list(skus))
    order_ids = sorted(set(lines.values_list("order_id", flat=True)))
    for order_id in order_ids:
        enqueue_on_commit(orders_relink_task, order_id)
    return len(order_ids)


def order_relink(*, order_pk: int) -> None:
    """Read one order again from Walmart and store it: lines whose Walmart SKU is now linked get their listing
    and their stock reserved (once: the intake reserves a stored line only while nothing is reserved for it).
    Raises WalmartError."""
    from orders.models import Order
    from orders.services import order_refresh

    order_refresh(order=Order.objects.select_related("store").get(pk=order_pk), actor="system")


def walmart_item_for_sku(*, store: Store, sku: str, product_name: str = "") -> WalmartItem:
    """The store's Walmart item with this SKU; one is recorded (Unmanaged) when no import has seen it yet,
    e.g. an order's SKU, so that it can be linked. Raises ValidationError for an empty or too long SKU."""
    sku = (sku or "").strip()
    if not sku or len(sku) > 50:
        raise ValidationError("A Walmart SKU has 1 to 50 characters.")
    item, _ = WalmartItem.objects.get_or_create(
        store=store,
        sku=sku,
        defaults={
            "product_name": product_name[:300],
            "imported_at": timezone.now(),
            "link_status": Item.UNMANAGED,
            "link_note": "Seen in an order; not imported from Walmart yet.",
        },
    )
    return item


# --- the first push ------------------------------------------------------------------------------------------


def first_push_confirm(*, store: Store, actor=None) -> int:
    """The operator confirms the first push of a newly linked store: its held listings join the sync (a run
    of each stream is queued after commit), and later links join it at once. Returns how many listings
    were released. Safe to re-run."""
    with transaction.atomic():
        onboarding = StoreOnboarding.objects.select_for_update().get(pk=onboarding_get(store=store).pk)
        if onboarding.first_push_confirmed_at is None:
            onboarding.first_push_confirmed_at = timezone.now()
            onboarding.first_push_confirmed_by = _user(actor)
            onboarding.save(update_fields=["first_push_confirmed_at", "first_push_confirmed_by"])
        released = Listing.objects.filter(store=store, sync_held=True).update(
            sync_held=False, updated_at=timezone.now()
        )
        # The planner's dirty set does not follow sync_held: the next runs rescan the store instead.
        from sync.services import sync_rescan_request

        sync_rescan_request(store_id=store.pk, streams=["inventory", "price"])
        _sync_nudge(store)
    return released


# --- the store's connection ----------------------------------------------------------------------------------


def store_live_refresh(*, store: Store, client=None) -> bool | None:
    """Read whether the Walmart store is live from the partner profile (`GET /v3/settings/partnerprofile`,
    the ACCOUNT configuration) and set `store.is_live` from it. A sandbox keeps its manual switch (Walmart's
    sandbox does not tell), and so does a store whose profile does not say. Returns what Walmart said (None:
    nothing). Raises WalmartError."""
    from channel_manager.walmart import walmart_client_for_store

    if store.environment == Store.Environment.SANDBOX:
        return None
    client = client or walmart_client_for_store(store)
    is_live = client.settings.partner_profile().is_store_live
    if is_live is not None and is_live != store.is_live:
        Store.objects.filter(pk=store.pk).update(is_live=is_live, updated_at=timezone.now())
        store.is_live = is_live
        if is_live:
            Listing.objects.filter(store=store, status=Listing.Status.MATCH_IN_STAGE).update(
                status=Listing.Status.MATCH, updated_at=timezone.now()
            )
    return is_live


def store_connected_handle(*, store_id: int) -> None:
    """After a successful connection: whether the store is live, from Walmart; the store's first import from
    Walmart when it has never had one."""
    store = Store.objects.get(pk=store_id)
    try:
        store_live_refresh(store=store)
    except WalmartError as error:
        logger.warning("store %s: could not read whether the store is live: %s", store.pk, error_text(error))
    store_first_connection_import(store=store)
