"""The catalog (`Product`), its offers in each Walmart store (`Listing`), how a store matches products to
Walmart items (`StoreAttributeMapping`) and catalog imports (`ImportJob`, `ImportRowError`).

The catalog is the source of truth for quantity and price. A listing remembers what Walmart last confirmed
(`confirmed_quantity`, `confirmed_price`); the inventory and price planners push the difference.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Left
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """One catalog product, unique by SKU. Identifiers are stored normalised (digits only, full length, check
    digit verified: see `listings.identifiers`); an empty string means "not set"."""

    sku = models.CharField(_("SKU"), max_length=50, unique=True)
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    image_url = models.URLField(_("image URL"), max_length=1000, blank=True)
    upc = models.CharField(_("UPC"), max_length=12, blank=True)
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True)
    ean = models.CharField(_("EAN"), max_length=13, blank=True)
    isbn = models.CharField(_("ISBN"), max_length=13, blank=True)
    issn = models.CharField(_("ISSN"), max_length=8, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(default=0)
    shipping_weight = models.DecimalField(
        _("shipping weight (lb)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        # The catalog's site-wide permissions (listings/permissions.py): view_product, add_product and
        # change_product (edit), and this one for import and export.
        permissions = [("import_export_catalog", "Can import and export the catalog")]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="product_quantity_not_negative"),
            models.CheckConstraint(
                condition=Q(shipping_weight__isnull=True) | Q(shipping_weight__gte=0),
                name="product_shipping_weight_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["name"], name="product_name_idx"),
            # the Listings tab's sorts by price and by quantity (the product id breaks ties: one listing per
            # product in a store). The quantity index costs every stock move an index write and its HOT
            # update: measured in bench/bench_pages.py --write-cost (README).
            models.Index(fields=["price"], name="product_price_idx"),
            models.Index(fields=["quantity", "id"], name="product_quantity_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ListingQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Listings without a Walmart SKU get their product's SKU (the default), as `Listing.save` does."""
        objs = list(objs)
        missing = [listing for listing in objs if not listing.walmart_sku]
        if missing:
            unloaded = {listing.product_id for listing in missing if not Listing.product.is_cached(listing)}
            skus = dict(Product.objects.filter(pk__in=unloaded).values_list("pk", "sku")) if unloaded else {}
            for listing in missing:
                cached = Listing.product.is_cached(listing)
                listing.walmart_sku = listing.product.sku if cached else skus[listing.product_id]
        return super().bulk_create(objs, *args, **kwargs)


class Listing(models.Model):
    """A product offered in one Walmart store. Created in Draft; matching moves it to Processing, then to
    Match, Match - Match in Stage or Error (with Walmart's message).

    `walmart_sku` is the SKU the offer has on Walmart: the product's SKU unless the seller's Walmart catalog
    uses another one (an imported item linked to a product). Everything that talks to Walmart sends it, and
    orders and returns resolve Walmart's SKU to the product through it (unique per store). It does not follow
    later changes of the product's SKU: the offer on Walmart keeps its SKU."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PROCESSING = "processing", _("Processing")
        MATCH = "match", _("Match")
        MATCH_IN_STAGE = "match_in_stage", _("Match - Match in Stage")
        ERROR = "error", _("Error")

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="listings")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="listings")
    walmart_sku = models.CharField(
        _("Walmart SKU"), max_length=50, help_text=_("The SKU of this offer on Walmart (default: the product's SKU).")
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    error_description = models.TextField(blank=True)

    walmart_item_id = models.CharField(_("Walmart item id"), max_length=50, blank=True)
    published_status = models.CharField(max_length=30, blank=True, help_text=_("As last read from Walmart."))
    unpublished_reasons = models.JSONField(default=list, blank=True)
    lifecycle_status = models.CharField(max_length=30, blank=True, help_text=_("As last read from Walmart."))
    buy_box_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The winning offer's price (BUY_BOX_CHANGED)."),
    )
    buy_box_won = models.BooleanField(
        null=True, blank=True, help_text=_("Whether this seller's offer wins the buy box.")
    )
    buy_box_changed_at = models.DateTimeField(null=True, blank=True)
    match_feed = models.ForeignKey(
        "channel_manager.Feed", on_delete=models.SET_NULL, null=True, blank=True, related_name="match_listings"
    )
    match_submitted_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When Walmart last told us about this listing.")
    )

    # What Walmart last confirmed; the inventory and price planners push the difference.
    confirmed_quantity = models.IntegerField(null=True, blank=True)
    confirmed_quantity_at = models.DateTimeField(null=True, blank=True)
    confirmed_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    confirmed_price_at = models.DateTimeField(null=True, blank=True)
    price_override = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Price for this store only; empty means the catalog price."),
    )
    inventory_error = models.TextField(blank=True)
    price_error = models.TextField(blank=True)
    inventory_drift_at = models.DateTimeField(null=True, blank=True)
    sync_held = models.BooleanField(
        default=False,
        help_text=_(
            "Linked from an item imported from Walmart: the sync sends nothing for it until the operator confirms "
            "the store's first push."
        ),
    )
    price_drift_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ListingQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="unique_listing_per_store_product"),
            models.UniqueConstraint(fields=["store", "walmart_sku"], name="unique_listing_per_store_walmart_sku"),
            models.CheckConstraint(condition=~Q(walmart_sku=""), name="listing_walmart_sku_not_empty"),
            models.CheckConstraint(
                condition=Q(price_override__isnull=True) | Q(price_override__gte=0),
                name="listing_price_override_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "status", "id"], name="listing_store_status_idx"),
            models.Index(fields=["store", "updated_at"], name="listing_store_updated_idx"),
            models.Index(fields=["store", "last_synced_at", "id"], name="listing_store_synced_id_idx"),
            # the Listings tab's sort by error: the start of the text (a whole text can pass a B-tree's limit)
            models.Index(F("store"), Left("error_description", 100), F("id"), name="listing_store_error_idx"),
            models.Index(fields=["store", "walmart_item_id"], name="listing_store_item_idx"),
            models.Index(fields=["match_feed", "status"], name="listing_feed_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.store_id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        if not self.walmart_sku and self.product_id is not None:
            self.walmart_sku = self.product.sku
        super().save(*args, **kwargs)


class StoreAttributeMapping(models.Model):
    """Map Attributes (Channel Settings): which catalog identifiers a store matches on, in priority order.
    The first identifier a product has is the one sent to Walmart. Required before matching."""

    class Identifier(models.TextChoices):
        UPC = "upc", _("UPC")
        GTIN = "gtin", _("GTIN")
        EAN = "ean", _("EAN")
        ISBN = "isbn", _("ISBN")
        ISSN = "issn", _("ISSN")

    store = models.OneToOneField("channel_manager.Store", on_delete=models.CASCADE, related_name="attribute_mapping")
    identifiers = models.JSONField(default=list, help_text=_("Catalog identifier fields, highest priority first."))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.store_id}: {', '.join(self.identifiers) or '(none)'}"


class ImportJob(models.Model):
    """One catalog import (CSV or JSON Lines). Counters are advanced by the import task with F()."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        JSONL = "jsonl", _("JSON Lines")

    file = models.FileField(upload_to="catalog-imports/%Y/%m/%d/")
    original_filename = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=10, choices=Format.choices, default=Format.CSV)
    file_size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    bytes_read = models.PositiveBigIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0, help_text=_("Rows identical to the catalog."))
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text=_("Why the whole import failed, if it did."))
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} {self.original_filename} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.file_size:
            return 0
        return min(99, int(self.bytes_read * 100 / self.file_size))

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class ImportRowError(models.Model):
    """One bad row of an import: its row number (the header is row 1 in a CSV, the first line is row 1 in
    JSON Lines), the field and the message."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    sku = models.CharField(max_length=255, blank=True)
    field = models.CharField(max_length=50, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["job", "row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_error_job_row_idx")]

    def __str__(self) -> str:
        return f"row {self.row_number} {self.field}: {self.message}"
