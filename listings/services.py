"""Writes of the listings app: the catalog, its import, listings in a store, matching them to Walmart items,
and reading their life on Walmart back.

Every catalog change goes through `product_create` / `product_update` / `listings.catalog_import`, which set
quantities with `listings.quantities.product_quantities_write` and announce, inside their transaction,
`listings.signals.product_quantities_set` (the inventory app logs the stock movements) and
`products_changed` (the sync engine nudges its planners after commit). Listings imports no app above it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from channel_manager.columns import column_name
from channel_manager.models import Feed, Store
from channel_manager.timeline import actor_name
from channel_manager.walmart import error_text, walmart_client_for_store
from channel_manager.work import enqueue_on_commit

# The import's home is `listings.catalog_import`; the name stays importable from here for existing callers.
from listings.catalog_import import catalog_import_run as catalog_import_run
from listings.catalog_io import (
    FIELDS_REQUIRED_FOR_NEW,
    PRODUCT_FIELDS,
    CatalogFileInvalid,
    FieldError,
    product_fields_clean,
)
from listings.identifiers import match_identifier
from listings.models import ImportJob, Listing, Product, StoreAttributeMapping
from listings.quantities import product_quantities_write
from listings.signals import (
    QuantityChange,
    product_quantities_set_send,
    products_changed_send,
    read_back_stores_wanted,
    walmart_item_event,
    walmart_items_read_send,
)

logger = logging.getLogger(__name__)

MATCH_FEED_MAX_ITEMS = 10_000  # Walmart: at most 10,000 items per item feed.
MATCH_FEED_HEADER = {"sellingChannel": "mpsetupbymatch", "processMode": "REPLACE", "locale": "en", "version": "1.0"}
LISTING_ADD_BATCH_SIZE = 20_000
STATUS_UPDATE_CHUNK = 2000


# --- products ------------------------------------------------------------------------------------


class ProductInvalid(ValueError):
    """Some product fields were refused; `errors` lists each (field, message). Nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))


def product_create(*, actor=None, reason: str = "catalog_edit", **values) -> Product:
    """Create a product from raw values (strings as typed, or numbers). `sku`, `name` and `price` are
    required; a missing quantity means 0. The quantity is set through the stock service, so it is logged.

    Atomic. Raises ProductInvalid (every bad field, including a SKU that exists) with nothing written.
    """
    unknown = sorted(set(values) - PRODUCT_FIELDS - {"sku"})
    if unknown:
        raise ProductInvalid([FieldError(name, "unknown field.") for name in unknown])
    values.setdefault("quantity", 0)
    for required in ("sku", *FIELDS_REQUIRED_FOR_NEW):
        values.setdefault(required, "")
    clean, errors = product_fields_clean(values, fields=list(values))
    if not errors and Product.objects.filter(sku=clean["sku"]).exists():
        errors.append(FieldError("sku", f"A product with SKU {clean['sku']} already exists."))
    if errors:
        raise ProductInvalid(errors)
    with transaction.atomic():
        product = Product.objects.create(**clean)
        changes = [QuantityChange(product.pk, 0, product.quantity)] if product.quantity else []
        product_quantities_set_send(sender=Product, changes=changes, reason=reason, actor=actor_name(actor))
        products_changed_send(sender=Product, product_ids=[product.pk], fields=clean)
    return product


def product_update(*, product: Product, actor=None, reason: str = "catalog_edit", **changes) -> Product:
    """Change some fields of `product` from raw values; only the given fields are touched. A quantity
    change goes through the stock service (logged as `reason`). The SKU can change if the new one is free.

    Atomic and safe to re-run (the same values change nothing). Raises ProductInvalid with nothing written.
    """
    unknown = sorted(set(changes) - PRODUCT_FIELDS - {"sku"})
    if unknown:
        raise ProductInvalid([FieldError(name, "unknown field.") for name in unknown])
    clean, errors = product_fields_clean(changes, fields=list(changes))
    if not errors and "sku" in clean and Product.objects.filter(sku=clean["sku"]).exclude(pk=product.pk).exists():
        errors.append(FieldError("sku", f"Another product already has SKU {clean['sku']}."))
    if errors:
        raise ProductInvalid(errors)
    quantity = clean.pop("quantity", None)
    with transaction.atomic():
        changed_fields = [name for name, value in clean.items() if getattr(product, name) != value]
        for name in changed_fields:
            setattr(product, name, clean[name])
        if changed_fields:
            product.save(update_fields=[*changed_fields, "updated_at"])
        if quantity is not None:
            quantity_changes = product_quantities_write(quantities={product.pk: quantity})
            product.quantity = quantity
            product_quantities_set_send(
                sender=Product, changes=quantity_changes, reason=reason, actor=actor_name(actor)
            )
        products_changed_send(sender=Product, product_ids=[product.pk], fields=changed_fields)
    return product


# --- catalog import ------------------------------------------------------------------------------


def import_file_format(filename: str) -> str:
    """csv or jsonl from the file name; raises CatalogFileInvalid for anything else."""
    extension = os.path.splitext(filename.lower())[1]
    if extension == ".csv":
        return ImportJob.Format.CSV
    if extension in (".jsonl", ".ndjson"):
        return ImportJob.Format.JSONL
    raise CatalogFileInvalid(f"Upload a .csv or a .jsonl (JSON Lines) file, not {filename!r}.")


def import_job_create(*, uploaded_file: File, actor=None, run: bool = True) -> ImportJob:
    """Store the uploaded file (default storage, under MEDIA_ROOT) and record an ImportJob; with `run`,
    enqueue `catalog_import_task` after commit. Raises CatalogFileInvalid for a file type we do not read."""
    from listings.tasks import catalog_import_task

    filename = os.path.basename(uploaded_file.name or "")
    file_format = import_file_format(filename)
    with transaction.atomic():
        job = ImportJob(
            original_filename=filename[:255],
            file_format=file_format,
            file_size=uploaded_file.size or 0,
            created_by=actor if actor is not None and getattr(actor, "pk", None) else None,
        )
        job.file.save(filename, uploaded_file, save=False)
        job.save()
        if run:
            enqueue_on_commit(catalog_import_task, job.pk)
    return job


def import_jobs_rerun(*, jobs: QuerySet[ImportJob]) -> int:
    """Queue finished or stuck imports to run again from their stored file (after commit). Safe: an import
    upserts by SKU, so rows already imported come back as unchanged. Returns how many were queued."""
    from listings.tasks import catalog_import_task

    ids = list(jobs.values_list("pk", flat=True))
    ImportJob.objects.filter(pk__in=ids).update(status=ImportJob.Status.PENDING, finished_at=None)
    for pk in ids:
        enqueue_on_commit(catalog_import_task, pk)
    return len(ids)


# --- Map Attributes ------------------------------------------------------------------------------


class MatchNotConfigured(Exception):
    """The store has no identifier mapped (Channel Settings > Map Attributes); nothing was sent."""


def attribute_mapping_save(*, store: Store, identifiers: list[str], actor=None) -> StoreAttributeMapping:
    """Set which catalog identifiers `store` matches on, highest priority first. Safe to re-run (upsert on
    the one-to-one store). Raises ValueError for an empty list, an unknown or a repeated identifier."""
    allowed = set(StoreAttributeMapping.Identifier.values)
    if not identifiers:
        raise ValueError("Map at least one identifier.")
    unknown = [name for name in identifiers if name not in allowed]
    if unknown:
        raise ValueError(f"Unknown identifier(s): {', '.join(unknown)}.")
    if len(set(identifiers)) != len(identifiers):
        raise ValueError("Each identifier can be mapped only once.")
    mapping, _ = StoreAttributeMapping.objects.update_or_create(
        store=store,
        defaults={"identifiers": list(identifiers), "updated_by": actor if getattr(actor, "pk", None) else None},
    )
    return mapping


def _mapped_identifiers(store: Store) -> list[str]:
    mapping = StoreAttributeMapping.objects.filter(store=store).first()
    if mapping is None or not mapping.identifiers:
        raise MatchNotConfigured(
            f"Store {store.name} has no product identifier mapped. Open Channel Settings > Map Attributes and "
            "choose which identifiers (UPC, GTIN, EAN, ISBN, ISSN) Walmart should match your products on."
        )
    return list(mapping.identifiers)


# --- adding products to a store ------------------------------------------------------------------


def listings_add(*, store: Store, products: QuerySet[Product] | Iterable[int]) -> int:
    """Offer the given products (a queryset, e.g. "all that match this filter", or ids) in `store` as
    Draft listings, each with the product's SKU as its Walmart SKU. Idempotent: a product already listed in
    the store keeps its listing untouched (the unique (store, product) constraint decides, so two concurrent
    adds cannot duplicate). A product whose SKU is already the Walmart SKU of another product's listing in
    the store (a linked Walmart item) is not added: one Walmart SKU is one offer. Returns how many listings
    were created. Atomic.

    One `INSERT ... SELECT ... ON CONFLICT DO NOTHING` per 20,000 products (SQLite and PostgreSQL): the
    rows never pass through Python, which is what makes 100,000 products take seconds, not minutes. The
    column values are the model's own defaults, read from the model, so a new field with a default is
    picked up without touching this code.
    """
    if isinstance(products, QuerySet):
        product_sql, product_params = products.order_by().values("pk").query.sql_with_params()
        with transaction.atomic():
            return _listings_insert(store=store, product_filter=f"IN ({product_sql})", params=list(product_params))
    product_ids = sorted({int(pk) for pk in products})
    created = 0
    with transaction.atomic():
        for start in range(0, len(product_ids), LISTING_ADD_BATCH_SIZE):
            chunk = product_ids[start : start + LISTING_ADD_BATCH_SIZE]
            created += _listings_insert(
                store=store, product_filter=f"IN ({', '.join(['%s'] * len(chunk))})", params=chunk
            )
    return created


def _listings_insert(*, store: Store, product_filter: str, params: list) -> int:
    quote = connection.ops.quote_name
    now = timezone.now()
    columns = [quote("store_id"), quote("product_id"), quote("walmart_sku")]
    expressions = ["%s", "product.id", "product.sku"]
    values: list = [store.pk]
    for model_field in Listing._meta.concrete_fields:
        if model_field.primary_key or model_field.name in ("store", "product", "walmart_sku") or model_field.null:
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value = now
        else:
            value = model_field.get_default()
        columns.append(quote(column_name(model_field)))
        expressions.append("%s")
        values.append(model_field.get_db_prep_save(value, connection))
    # Only quoted model names and literal SQL are formatted in; every value is a query parameter.
    sql = (
        f"INSERT INTO {quote(Listing._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(expressions)} FROM {quote(Product._meta.db_table)} product "
        f"WHERE product.id {product_filter} AND NOT EXISTS (SELECT 1 FROM {quote(Listing._meta.db_table)} taken "
        f"WHERE taken.{quote('store_id')} = %s AND taken.{quote('walmart_sku')} = product.sku) "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *params, store.pk])
        return max(cursor.rowcount, 0)


def listings_reset_to_draft(*, listings: QuerySet[Listing]) -> int:
    """Put listings back to Draft (any status): the error and the match feed are cleared; what Walmart last
    told us (item id, published and lifecycle status) is kept. Returns how many changed. Safe to re-run."""
    return listings.exclude(status=Listing.Status.DRAFT, error_description="", match_feed=None).update(
        status=Listing.Status.DRAFT, error_description="", match_feed=None, updated_at=timezone.now()
    )


# --- matching ------------------------------------------------------------------------------------

NO_MATCH_MARKERS = ("no match", "not found", "does not exist", "no item", "no walmart item", "could not find")


@dataclass(frozen=True)
class MatchResult:
    submitted: int
    feeds: int
    refused: int
    skipped: int


def _match_item(listing: Listing, identifiers: list[str]) -> tuple[dict | None, str]:
    """(feed item, "") or (None, why it cannot be sent)."""
    product = listing.product
    for name in identifiers:
        value = getattr(product, name)
        if value:
            id_type, product_id = match_identifier(name, value)
            break
    else:
        labels = ", ".join(name.upper() for name in identifiers)
        return None, (
            f"Not sent: this product has none of the identifiers store matches on ({labels}). Add one to the "
            "product, or change Channel Settings > Map Attributes, then Re-match."
        )
    if product.shipping_weight is None:
        return None, "Not sent: Walmart needs the shipping weight to match. Set it on the product, then Re-match."
    price = listing.price_override if listing.price_override is not None else product.price
    item = {
        "sku": listing.walmart_sku,
        "productIdentifiers": {"productIdType": id_type, "productId": product_id},
        "price": float(price),
        "ShippingWeight": float(product.shipping_weight),
    }
    return item, ""


def listings_match(*, store: Store, listings: QuerySet[Listing], actor=None) -> MatchResult:
    """Send the Draft and Error listings among `listings` to Walmart for matching (Setup by match,
    `POST /v3/feeds?feedType=MP_ITEM_MATCH`).

    Listings that cannot be sent (no mapped identifier, no shipping weight) go to Error with what to do.
    The others go to Processing and are grouped into feeds of at most 10,000 items; each feed is saved as
    a PENDING `Feed` row with its payload in the same transaction, and `match_feed_submit_task` sends it
    after commit. Listings in any other status are skipped (so a double click sends nothing twice).
    Raises MatchNotConfigured (nothing changed) when the store has no mapped identifier or its listings
    sync is off.
    """
    from listings.tasks import match_feed_submit_task

    if not store.listings_enabled:
        raise MatchNotConfigured(
            f"The listings sync of store {store.name} is off: turn it on in Channel Settings > General "
            "to match products."
        )
    identifiers = _mapped_identifiers(store)
    now = timezone.now()
    submitted = refused = feeds_created = 0
    requested = listings.filter(store=store).count()
    feed_ids: list[int] = []
    with transaction.atomic():
        candidate_ids = list(
            listings.filter(store=store, status__in=[Listing.Status.DRAFT, Listing.Status.ERROR])
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # One chunk of listings in memory at a time: 100,000 listings never sit in memory together.
        for start in range(0, len(candidate_ids), MATCH_FEED_MAX_ITEMS):
            chunk_ids = candidate_ids[start : start + MATCH_FEED_MAX_ITEMS]
            items: list[tuple[int, dict]] = []
            refusals: list[Listing] = []
            for listing in Listing.objects.filter(pk__in=chunk_ids).select_related("product").order_by("pk"):
                item, reason = _match_item(listing, identifiers)
                if item is None:
                    listing.status = Listing.Status.ERROR
                    listing.error_description = reason
                    listing.updated_at = now
                    refusals.append(listing)
                else:
                    items.append((listing.pk, item))
            Listing.objects.bulk_update(
                refusals, ["status", "error_description", "updated_at"], batch_size=STATUS_UPDATE_CHUNK
            )
            refused += len(refusals)
            if not items:
                continue
            feed = Feed.objects.create(
                store=store,
                feed_type=Feed.FeedType.ITEM_MATCH,
                status=Feed.Status.PENDING,
                item_count=len(items),
                payload={"MPItemFeedHeader": dict(MATCH_FEED_HEADER), "MPItem": [{"Item": item} for _, item in items]},
            )
            ids = [pk for pk, _ in items]
            for id_start in range(0, len(ids), STATUS_UPDATE_CHUNK):
                Listing.objects.filter(pk__in=ids[id_start : id_start + STATUS_UPDATE_CHUNK]).update(
                    status=Listing.Status.PROCESSING,
                    error_description="",
                    match_feed=feed,
                    match_submitted_at=now,
                    updated_at=now,
                )
            feed_ids.append(feed.pk)
            submitted += len(items)
            feeds_created += 1
        for feed_id in feed_ids:
            enqueue_on_commit(match_feed_submit_task, feed_id)
    return MatchResult(
        submitted=submitted, feeds=feeds_created, refused=refused, skipped=requested - len(candidate_ids)
    )


def match_feed_submit(*, feed: Feed) -> Feed:
    """Send a PENDING item-match feed to Walmart and save Walmart's feed id (status RECEIVED).

    Safe to re-run: a feed that already has a Walmart feed id is not sent again. A refusal by Walmart
    (a 4xx other than 429) marks the feed ERROR and its Processing listings Error with Walmart's message;
    a retryable failure (429, 5xx, connection) is raised for the task to retry. Re-sending a match feed
    whose acknowledgement was lost is harmless: Walmart matches the same SKU to the same item.
    """
    from walmart_client.errors import WalmartConnectionError, WalmartError, WalmartRateLimited, WalmartServerError

    feed = Feed.objects.select_related("store").get(pk=feed.pk)
    if feed.walmart_feed_id or feed.status != Feed.Status.PENDING:
        return feed
    client = walmart_client_for_store(feed.store)
    try:
        ack = client.feeds.submit(feed_type=Feed.FeedType.ITEM_MATCH, payload=feed.payload)
    except (WalmartRateLimited, WalmartServerError, WalmartConnectionError):
        raise
    except WalmartError as error:
        match_feed_fail(feed=feed, message=f"Walmart refused the match feed: {error_text(error, with_codes=False)}")
        return feed
    now = timezone.now()
    Feed.objects.filter(pk=feed.pk, walmart_feed_id__isnull=True).update(
        walmart_feed_id=ack.feed_id,
        status=Feed.Status.RECEIVED,
        correlation_id=(getattr(ack, "correlation_id", "") or "")[:64],
        submitted_at=now,
    )
    feed.refresh_from_db()
    return feed


def match_feed_fail(*, feed: Feed, message: str) -> int:
    """Mark a match feed ERROR and its still-Processing listings Error with `message`. Returns how many
    listings changed. Safe to re-run."""
    now = timezone.now()
    with transaction.atomic():
        Feed.objects.filter(pk=feed.pk).update(status=Feed.Status.ERROR, error=message, completed_at=now)
        return Listing.objects.filter(match_feed=feed, status=Listing.Status.PROCESSING).update(
            status=Listing.Status.ERROR, error_description=message, updated_at=now
        )


def _no_match_explained(description: str, id_type: str, product_id: str) -> str:
    return (
        f"{description} — No Walmart item has {id_type} {product_id}. Walmart adds your offer only to an item "
        "that already exists in its catalog: check the identifier on the product (a typo, or the code of "
        "another size or pack), or create the item in Seller Center (Add Items > Full item setup), then Re-match."
    )


def _item_result_message(result, sent: dict) -> str:
    descriptions = [str(error.description or error.code) for error in (result.errors or [])]
    text = "; ".join(descriptions) or f"Walmart reported {result.status} without a message."
    id_type, product_id = sent.get(result.sku, ("", ""))
    if id_type and any(marker in text.lower() for marker in NO_MATCH_MARKERS):
        return _no_match_explained(text, id_type, product_id)
    return text


def match_feed_poll(*, feed: Feed) -> Feed:
    """Read a submitted item-match feed's status from Walmart (`GET /v3/feeds/{feedId}`); once Walmart
    has processed it, apply every item's result to its Processing listing: SUCCESS -> Match (or
    Match - Match in Stage when the store is not live) with Walmart's item id; any error -> Error with
    Walmart's message ("no item has this identifier" explained). Items Walmart did not report go to Error.

    Safe to re-run: only listings still Processing in this feed are changed, so a listing reset to Draft
    meanwhile is left alone. Retryable Walmart failures are raised.
    """
    feed = Feed.objects.select_related("store").get(pk=feed.pk)
    if not feed.walmart_feed_id or feed.completed_at is not None:
        return feed
    client = walmart_client_for_store(feed.store)
    status = client.feeds.status(feed.walmart_feed_id, include_details=False)
    now = timezone.now()
    Feed.objects.filter(pk=feed.pk).update(
        status=status.feed_status if status.feed_status in Feed.Status.values else feed.status,
        items_received=status.items_received or 0,
        items_succeeded=status.items_succeeded or 0,
        items_failed=status.items_failed or 0,
        items_processing=status.items_processing or 0,
        last_polled_at=now,
    )
    if status.feed_status not in (Feed.Status.PROCESSED, Feed.Status.ERROR) or (status.items_processing or 0) > 0:
        timeout = timedelta(hours=getattr(settings, "LISTINGS_MATCH_FEED_TIMEOUT_HOURS", 24))
        if feed.submitted_at and now - feed.submitted_at > timeout:
            match_feed_fail(
                feed=feed,
                message=f"Walmart did not finish processing match feed {feed.walmart_feed_id} within "
                f"{timeout.total_seconds() / 3600:.0f} hours. Re-match to send it again.",
            )
        feed.refresh_from_db()
        return feed
    sent = {
        entry["Item"]["sku"]: (
            entry["Item"]["productIdentifiers"]["productIdType"],
            entry["Item"]["productIdentifiers"]["productId"],
        )
        for entry in feed.payload.get("MPItem", [])
    }
    listings = {
        listing.walmart_sku: listing
        for listing in Listing.objects.filter(match_feed=feed, status=Listing.Status.PROCESSING).select_related("store")
    }
    changed: list[Listing] = []
    for result in client.feeds.iter_item_results(feed.walmart_feed_id):
        sku = result.sku or ""  # a result without a SKU matches no listing
        listing = listings.pop(sku, None)
        if listing is None:
            continue
        if result.status == "SUCCESS":
            listing.status = Listing.Status.MATCH if feed.store.is_live else Listing.Status.MATCH_IN_STAGE
            listing.error_description = ""
            listing.walmart_item_id = (getattr(result, "item_id", None) or listing.walmart_item_id or "")[:50]
        elif result.status == "INPROGRESS":
            listings[sku] = listing
            continue
        else:
            listing.status = Listing.Status.ERROR
            listing.error_description = _item_result_message(result, sent)
        listing.last_synced_at = now
        listing.updated_at = now
        changed.append(listing)
    feed_error = ""
    if status.feed_status == Feed.Status.ERROR:
        feed_error = "Walmart could not process the match feed"
        ingestion = getattr(status, "ingestion_errors", None) or getattr(status, "errors", None) or []
        if ingestion:
            feed_error += ": " + "; ".join(str(getattr(error, "description", "") or error) for error in ingestion)
        feed_error += ". Re-match to send it again."
    for listing in listings.values():
        listing.status = Listing.Status.ERROR
        listing.error_description = feed_error or (
            f"Walmart processed match feed {feed.walmart_feed_id} but reported no result for this SKU. Re-match."
        )
        listing.updated_at = now
        changed.append(listing)
    with transaction.atomic():
        Listing.objects.bulk_update(
            changed,
            ["status", "error_description", "walmart_item_id", "last_synced_at", "updated_at"],
            batch_size=STATUS_UPDATE_CHUNK,
        )
        Feed.objects.filter(pk=feed.pk).update(completed_at=now, error=feed_error)
    feed.refresh_from_db()
    return feed


def match_feeds_open() -> QuerySet[Feed]:
    return Feed.objects.filter(feed_type=Feed.FeedType.ITEM_MATCH, completed_at__isnull=True)


def match_feeds_poll_all(*, resend_after: timedelta = timedelta(minutes=2)) -> tuple[list[int], list[int]]:
    """The work of the every-minute schedule: (ids of submitted feeds to poll, ids of PENDING feeds never
    acknowledged by Walmart for `resend_after`, to send again). Stores whose listings sync is off are left
    alone until it is on again. A PENDING feed older than LISTINGS_MATCH_FEED_TIMEOUT_HOURS (24) is given
    up here: it and its listings go to Error, so nothing is resent forever."""
    now = timezone.now()
    timeout = timedelta(hours=getattr(settings, "LISTINGS_MATCH_FEED_TIMEOUT_HOURS", 24))
    feeds = match_feeds_open().filter(store__listings_enabled=True)
    unsent = feeds.filter(walmart_feed_id__isnull=True, status=Feed.Status.PENDING)
    for feed in unsent.filter(created_at__lt=now - timeout):
        match_feed_fail(
            feed=feed,
            message=f"Could not send for matching within {timeout.total_seconds() / 3600:.0f} hours. "
            "Re-match to try again.",
        )
    to_poll = list(feeds.filter(walmart_feed_id__isnull=False).values_list("pk", flat=True))
    to_resend = list(
        unsent.filter(created_at__lt=now - resend_after, created_at__gte=now - timeout).values_list("pk", flat=True)
    )
    return to_poll, to_resend


# --- the listing's life on Walmart ---------------------------------------------------------------


def _item_value(item, *names, default=""):
    for name in names:
        value = getattr(item, name, None)
        if value not in (None, ""):
            return value
    return default


def _apply_item(listing: Listing, item, now) -> None:
    reasons = _item_value(item, "unpublished_reasons", default=[]) or []
    listing.published_status = str(_item_value(item, "published_status"))[:30]
    listing.unpublished_reasons = [str(reason) for reason in reasons]
    listing.lifecycle_status = str(_item_value(item, "lifecycle_status"))[:30]
    item_id = str(_item_value(item, "item_id", "wpid"))
    if item_id:
        listing.walmart_item_id = item_id[:50]
    if listing.status == Listing.Status.MATCH_IN_STAGE and listing.store.is_live:
        listing.status = Listing.Status.MATCH
    elif listing.status == Listing.Status.ERROR and listing.lifecycle_status.upper() != "RETIRED":
        # Walmart has the SKU set up after all (matched in Seller Center, or a result we missed)
        listing.status = Listing.Status.MATCH if listing.store.is_live else Listing.Status.MATCH_IN_STAGE
        listing.error_description = ""
    listing.last_synced_at = now
    listing.updated_at = now


READ_BACK_FIELDS = [
    "published_status",
    "unpublished_reasons",
    "lifecycle_status",
    "walmart_item_id",
    "status",
    "error_description",
    "last_synced_at",
    "updated_at",
]


def listings_reread(*, listings: QuerySet[Listing]) -> tuple[int, int]:
    """Read each listing's item back from Walmart (`GET /v3/items/{sku}`): published or unpublished (with
            Walmart's reasons), lifecycle status, item id. A staged listing of a store that went live becomes
            Match; an Error listing Walmart does have becomes Match. A SKU Walmart does not know goes to Error (an
    Error listing keeps its message). Draft and Processing listings are skipped (they are
        not on Walmart yet). Returns (read, not found). Safe to re-run.
            Retryable Walmart failures are raised; what was read before them is saved."""
    from walmart_client.errors import WalmartNotFound

    now = timezone.now()
    read = missing = 0
    by_store: dict[int, list[Listing]] = {}
    readable = listings.exclude(status__in=[Listing.Status.DRAFT, Listing.Status.PROCESSING])
    for listing in readable.select_related("store").order_by("store_id", "pk"):
        by_store.setdefault(listing.store_id, []).append(listing)
    for group in by_store.values():
        client = walmart_client_for_store(group[0].store)
        changed: list[Listing] = []
        try:
            for listing in group:
                try:
                    item = client.items.get(listing.walmart_sku)
                except WalmartNotFound:
                    if listing.status != Listing.Status.ERROR:  # an Error keeps the message that explains it
                        listing.status = Listing.Status.ERROR
                        listing.error_description = (
                            f"Walmart has no item with SKU {listing.walmart_sku} (never matched, or retired). "
                            "Re-match to offer it again."
                        )
                    listing.published_status = ""
                    listing.lifecycle_status = ""
                    listing.last_synced_at = now
                    listing.updated_at = now
                    missing += 1
                else:
                    _apply_item(listing, item, now)
                    read += 1
                changed.append(listing)
        finally:
            Listing.objects.bulk_update(changed, READ_BACK_FIELDS, batch_size=STATUS_UPDATE_CHUNK)
    return read, missing


@dataclass(frozen=True)
class ReadBack:
    """Where a store's read-back got to: listings updated so far, items read so far, when it started, and the
    cursor to go on from with the time Walmart asked to wait (`resume_cursor` None: every page was read)."""

    updated: int
    items: int
    started_at: datetime
    resume_cursor: str | None = None
    wait_seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.resume_cursor is None


READ_BACK_PAGE_SIZE = 200  # the most `GET /v3/items` gives per cursor page


def store_listings_reconcile(
    *, store: Store, cursor: str = "*", started_at: datetime | None = None, updated: int = 0, items: int = 0
) -> ReadBack:
    """The scheduled read-back of one store: page through every item Walmart has for the seller (`GET /v3/items`,
    cursor pages of 200) and update the store's listings by Walmart SKU, one page at a time (published status
    and reasons, lifecycle, item id; staged -> Match once the store is live). Each page is also announced
    (`walmart_items_read`, so the store's Walmart items and Unmanaged list follow), and the end of a complete
    read (`complete=True`). Memory: one page. When Walmart's rate limit stops it, it returns where to go on
    from (`resume_cursor`, after `wait_seconds`; the task reschedules itself: nothing sleeps) with the counts
    so far; `started_at` and the counts are passed back in then. Safe to re-run; listings Walmart does not list
    are left as they are (the per-listing Re-read says why). Raises WalmartError other than a rate limit."""
    from walmart_client.errors import WalmartRateLimited

    started_at = started_at or timezone.now()
    client = walmart_client_for_store(store)
    next_cursor: str | None = cursor
    while next_cursor is not None:
        try:
            page, following = client.items.page(cursor=next_cursor, page_size=READ_BACK_PAGE_SIZE)
        except WalmartRateLimited as error:
            wait = float(getattr(error, "retry_after", None) or 60)
            return ReadBack(
                updated=updated, items=items, started_at=started_at, resume_cursor=next_cursor, wait_seconds=wait
            )
        updated += _read_back_page(store, page)
        items += len(page)
        walmart_items_read_send(sender=Listing, store=store, items=page, started_at=started_at, complete=False)
        next_cursor = following
    walmart_items_read_send(sender=Listing, store=store, items=[], started_at=started_at, complete=True)
    return ReadBack(updated=updated, items=items, started_at=started_at)


def _read_back_page(store: Store, items: list) -> int:
    """Update the store's listings for one page of Walmart items (one SELECT by Walmart SKU, one bulk UPDATE)."""
    if not items:
        return 0
    now = timezone.now()
    by_sku = {item.sku: item for item in items}
    listings = list(
        Listing.objects.filter(store=store, walmart_sku__in=list(by_sku))
        .exclude(status__in=[Listing.Status.DRAFT, Listing.Status.PROCESSING])
        .select_related("store")
    )
    for listing in listings:
        _apply_item(listing, by_sku[listing.walmart_sku], now)
    Listing.objects.bulk_update(listings, READ_BACK_FIELDS, batch_size=STATUS_UPDATE_CHUNK)
    return len(listings)


def stores_to_reconcile() -> list[int]:
    """The stores read back hourly: those with matched listings, and those an app above asks for
    (`read_back_stores_wanted`, e.g. a store whose Walmart items were imported)."""
    matched = set(
        Store.objects.filter(listings_enabled=True)
        .filter(Q(listings__status=Listing.Status.MATCH) | Q(listings__status=Listing.Status.MATCH_IN_STAGE))
        .values_list("pk", flat=True)
    )
    for _receiver, wanted in read_back_stores_wanted.send(sender=Listing):
        matched.update(int(pk) for pk in wanted or ())
    enabled = Store.objects.filter(pk__in=matched, listings_enabled=True).values_list("pk", flat=True)
    return sorted(enabled)


TASK_CHUNK = 500


def _enqueue_in_chunks(task, listings: QuerySet[Listing]) -> int:
    ids = list(listings.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), TASK_CHUNK):
        chunk = ids[start : start + TASK_CHUNK]
        enqueue_on_commit(task, chunk)
    return len(ids)


def listings_retire_queue(*, listings: QuerySet[Listing]) -> int:
    """Queue `listings_retire_task` (after commit, 500 listings per task) for the given listings.
    Returns how many were queued."""
    from listings.tasks import listings_retire_task

    return _enqueue_in_chunks(listings_retire_task, listings)


def listings_reread_queue(*, listings: QuerySet[Listing]) -> int:
    """Queue `listings_reread_task` (after commit, 500 listings per task). Returns how many were queued."""
    from listings.tasks import listings_reread_task

    return _enqueue_in_chunks(listings_reread_task, listings)


def listings_retire(*, listings: QuerySet[Listing]) -> tuple[int, int]:
    """Retire matched listings on Walmart (`DELETE /v3/items/{sku}`: unpublished and deactivated) and put
    them back to Draft with lifecycle RETIRED, so they can be matched again later. Listings that were never
    matched are skipped. Returns (retired, skipped). A listing is saved as soon as Walmart confirms it,
    so a retryable failure (raised) midway loses nothing; retiring twice is harmless on Walmart's side."""
    from walmart_client.errors import WalmartNotFound

    retired = skipped = 0
    for listing in listings.select_related("store").order_by("store_id", "pk"):
        if listing.status not in (Listing.Status.MATCH, Listing.Status.MATCH_IN_STAGE) and not listing.walmart_item_id:
            skipped += 1
            continue
        client = walmart_client_for_store(listing.store)
        try:
            client.items.retire(listing.walmart_sku)
        except WalmartNotFound:
            pass
        now = timezone.now()
        Listing.objects.filter(pk=listing.pk).update(
            status=Listing.Status.DRAFT,
            error_description="",
            match_feed=None,
            lifecycle_status="RETIRED",
            published_status="UNPUBLISHED",
            retired_at=now,
            last_synced_at=now,
            updated_at=now,
        )
        retired += 1
    return retired, skipped


def listing_offer_event_apply(*, store: Store, envelope: dict) -> int:
    """Apply one of Walmart's item events to the store's listing with that Walmart SKU, within seconds of the
    change (the hourly read-back stays the fallback): OFFER_PUBLISHED / OFFER_UNPUBLISHED set the published
    status, reasons, lifecycle and item id; BUY_BOX_CHANGED the buy box (winning price, whether this seller
    wins). An event older than what the listing already knows (Walmart does not promise order) is skipped.
    Then `walmart_item_event` is sent (with or without a listing), so the store's Walmart items follow too.
    Returns how many listings changed (0 or 1). Raises ValueError for a delivery that is not such an event."""
    from walmart_client.events import BuyBoxChanged, OfferPublished, OfferUnpublished, parse_event

    event = parse_event(envelope)
    payload = event.payload
    if not isinstance(payload, OfferPublished | OfferUnpublished | BuyBoxChanged):
        raise ValueError(f"{event.event_type} is not an item event")
    changed = 0
    at = event.event_time or timezone.now()
    with transaction.atomic():
        listing = (
            Listing.objects.select_for_update()
            .select_related("store")
            .filter(store=store, walmart_sku=payload.sku)
            .first()
        )
        if listing is not None and isinstance(payload, BuyBoxChanged):
            if listing.buy_box_changed_at is None or at >= listing.buy_box_changed_at:
                winning = payload.winning_offer
                changed = Listing.objects.filter(pk=listing.pk).update(
                    buy_box_price=winning.price if winning is not None else None,
                    buy_box_won=payload.seller_wins,
                    buy_box_changed_at=at,
                    updated_at=timezone.now(),
                )
        elif isinstance(payload, OfferPublished | OfferUnpublished) and (
            listing is not None and (listing.last_synced_at is None or at >= listing.last_synced_at)
        ):
            reasons = list(payload.reasons.values()) if isinstance(payload, OfferUnpublished) else []
            item = _OfferState(
                published_status=payload.published_status or "",
                unpublished_reasons=reasons,
                lifecycle_status=payload.lifecycle_status or listing.lifecycle_status,
                item_id=payload.item_id or "",
            )
            _apply_item(listing, item, at)
            listing.updated_at = timezone.now()
            Listing.objects.bulk_update([listing], READ_BACK_FIELDS)
            changed = 1
        walmart_item_event.send(sender=Listing, store=store, event=event)
    return changed


@dataclass(frozen=True)
class _OfferState:
    """What an offer event says about the item, in the read-back's names."""

    published_status: str
    unpublished_reasons: list[str]
    lifecycle_status: str
    item_id: str
