"""Bringing a seller who already sells on Walmart on board: the items they have there (`WalmartItem`, one per
store and Walmart SKU), each import that read them (`WalmartImport`), and the store's first push after linking
(`StoreOnboarding`).

An imported item is linked to a catalog product (it then has a `listing` whose Walmart SKU is the item's SKU),
or Unmanaged: no product found, several candidates (ambiguous), or ignored by the operator.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WalmartImport(models.Model):
    """One read of every item of a store's Walmart account. Counters advance with F() as rows are stored."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        WAITING_REPORT = "waiting_report", _("Waiting for Walmart's reports")
        READING = "reading", _("Reading items")
        QUANTITIES = "quantities", _("Reading quantities")
        LINKING = "linking", _("Linking to the catalog")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        REPORT = "report", _("ITEM report")
        ITEMS = "items", _("Items API")

    FINISHED = (Status.DONE, Status.FAILED)

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="walmart_imports")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    reason = models.CharField(max_length=100, blank=True, help_text=_("What started it."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    report_request_id = models.CharField(max_length=100, blank=True)
    inventory_report_request_id = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Walmart's INVENTORY report; empty: quantities from GET /v3/inventories."),
    )
    expected_items = models.PositiveIntegerField(null=True, blank=True, help_text=_("Walmart's item count."))
    items_read = models.PositiveIntegerField(default=0)
    items_created = models.PositiveIntegerField(default=0)
    items_removed = models.PositiveIntegerField(default=0)
    quantities_read = models.PositiveIntegerField(default=0)
    quantities_complete = models.BooleanField(default=False, help_text=_("Every quantity is staged."))
    linked_count = models.PositiveIntegerField(default=0)
    unmanaged_count = models.PositiveIntegerField(default=0)
    ambiguous_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"], name="walmart_import_store_idx")]

    def __str__(self) -> str:
        return f"Walmart import {self.pk} of store {self.store_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def progress_percent(self) -> int:
        """Items are read (0-70 %; the quantities are read beside them), the quantities finish and are applied
        (70-85 %), then the items are linked (85-99 %); done is 100 %."""
        expected = max(self.expected_items or 0, self.items_read, 1)
        quantities = 1.0 if self.quantities_complete else min(1.0, self.quantities_read / expected)
        if self.status == self.Status.DONE:
            return 100
        if self.status == self.Status.READING:
            return int(min(1.0, self.items_read / expected) * 70)
        if self.status == self.Status.QUANTITIES:
            return 70 + int(quantities * 14)
        if self.status == self.Status.LINKING:
            return 85
        return 0


class WalmartItem(models.Model):
    """One item the seller offers on Walmart, as last imported, and what it is linked to in the catalog."""

    class LinkStatus(models.TextChoices):
        NEW = "new", _("Not linked yet")
        LINKED = "linked", _("Linked")
        UNMANAGED = "unmanaged", _("Unmanaged: no product")
        AMBIGUOUS = "ambiguous", _("Unmanaged: ambiguous")
        IGNORED = "ignored", _("Ignored")

    class LinkMethod(models.TextChoices):
        LISTING = "listing", _("Existing listing")
        SKU = "sku", _("SKU")
        UPC = "upc", _("UPC")
        GTIN = "gtin", _("GTIN")
        EAN = "ean", _("EAN")
        ISBN = "isbn", _("ISBN")
        MANUAL = "manual", _("Linked by hand")
        CREATED = "created", _("Product created from it")

    UNMANAGED_STATUSES = (LinkStatus.NEW, LinkStatus.UNMANAGED, LinkStatus.AMBIGUOUS)

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="walmart_items")
    sku = models.CharField(_("Walmart SKU"), max_length=50)
    item_id = models.CharField(_("Walmart item id"), max_length=50, blank=True)
    wpid = models.CharField(_("WPID"), max_length=50, blank=True)
    product_name = models.CharField(max_length=300, blank=True)
    brand = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=100, blank=True)
    gtin = models.CharField(
        _("GTIN"), max_length=14, blank=True, help_text=_("Walmart's GTIN or UPC as a GTIN-14, check digit verified.")
    )
    identifier_note = models.CharField(
        max_length=200, blank=True, help_text=_("Why Walmart's identifier was not used.")
    )
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    quantity = models.IntegerField(
        null=True, blank=True, help_text=_("inputQty summed over ship nodes (INVENTORY report or GET /v3/inventories).")
    )
    published_status = models.CharField(max_length=30, blank=True)
    lifecycle_status = models.CharField(max_length=30, blank=True)
    status_change_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When Walmart's status above was read (import, read-back or event).")
    )
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
    buy_box_offers = models.PositiveIntegerField(null=True, blank=True, help_text=_("Offers on the item."))
    buy_box_changed_at = models.DateTimeField(null=True, blank=True)
    link_status = models.CharField(max_length=20, choices=LinkStatus.choices, default=LinkStatus.NEW)
    link_method = models.CharField(max_length=20, choices=LinkMethod.choices, blank=True)
    link_note = models.TextField(blank=True, help_text=_("Why it is not linked."))
    listing = models.OneToOneField(
        "listings.Listing", on_delete=models.SET_NULL, null=True, blank=True, related_name="walmart_item"
    )
    last_import = models.ForeignKey(WalmartImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    imported_at = models.DateTimeField()
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="unique_walmart_item_per_store_sku"),
            models.CheckConstraint(
                condition=~Q(link_status="linked") | Q(listing__isnull=False), name="walmart_item_linked_has_listing"
            ),
        ]
        indexes = [
            models.Index(fields=["store", "link_status", "sku"], name="walmart_item_store_link_idx"),
            models.Index(fields=["store", "gtin"], name="walmart_item_store_gtin_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} @ {self.store_id} ({self.link_status})"


class StoreOnboarding(models.Model):
    """Per store: whether the operator has confirmed the first push after items were linked. Until then,
    listings created by linking are held out of the sync (`Listing.sync_held`)."""

    store = models.OneToOneField("channel_manager.Store", on_delete=models.CASCADE, related_name="onboarding")
    first_push_confirmed_at = models.DateTimeField(null=True, blank=True)
    first_push_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_import_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Onboarding of store {self.store_id}"


class ImportedQuantity(models.Model):
    """A quantity read during an import (the INVENTORY report or `GET /v3/inventories`, one row per SKU and ship
    node), staged apart from the items so that quantities and items can be read side by side; applied to the
    items before they are linked, then deleted."""

    walmart_import = models.ForeignKey(WalmartImport, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=50)
    quantity = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["walmart_import", "sku"], name="imported_quantity_import_idx")]

    def __str__(self) -> str:
        return f"{self.sku} = {self.quantity} (import {self.walmart_import_id})"
