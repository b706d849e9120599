"""Models of the inventory app: the stock movement log and each store's open reservations.

How quantities are modelled (no double counting): `listings.Product.quantity` is the catalog's
*available to sell* quantity. A Walmart order takes its units out of it at once and puts them in the
store's reservation (`StockReservation`), until they ship (the reservation goes down; available is
unchanged) or are cancelled (back from the reservation to available). See
`inventory.services.reservations_apply`.

Walmart counts the same units its own way (`inputQty` includes the units sold and not yet shipped), so the
quantity we send a store is available + that store's open reservation - the safety buffer, capped
(`inventory.desired.quantity_desired`).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class StockMovement(models.Model):
    """One change of a product's catalog quantity: who or what moved stock, why, and the result.

    `delta` is the change actually applied (so `quantity_after - delta` is the quantity before). When an
    order reservation asks for more units than are left, stock stops at zero and the units that could not
    be taken are recorded in `shortfall` (an oversell to resolve), see `inventory.services.stock_move`.
    """

    class Reason(models.TextChoices):
        CATALOG_EDIT = "catalog_edit", _("Catalog edit")
        IMPORT = "import", _("Catalog import")
        ORDER_RESERVATION = "order_reservation", _("Order reservation")
        ORDER_CANCELLATION = "order_cancellation", _("Order cancellation")
        RETURN_TO_STOCK = "return_to_stock", _("Return to stock")
        RECONCILIATION = "reconciliation", _("Reconciliation")
        MANUAL = "manual", _("Manual adjustment")

    # No index of its own: stockmove_product_created_idx (product, -created_at) leads with the product.
    product = models.ForeignKey(
        "listings.Product", on_delete=models.CASCADE, related_name="stock_movements", db_index=False
    )
    delta = models.IntegerField(help_text=_("Units added (positive) or taken (negative), as applied."))
    quantity_after = models.PositiveIntegerField()
    shortfall = models.PositiveIntegerField(
        default=0, help_text=_("Units a reservation asked for that were not in stock (oversold).")
    )
    reason = models.CharField(max_length=30, choices=Reason.choices)
    actor = models.CharField(max_length=150, help_text=_('A username, "schedule", "webhook" or "admin".'))
    reference = models.CharField(max_length=100, blank=True, help_text=_("For example a purchase order number."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-created_at"], name="stockmove_product_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity_after__gte=0), name="stockmove_quantity_after_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.delta:+d} -> {self.quantity_after} ({self.reason})"


class StockReservation(models.Model):
    """Units of a product sold on one store's channel and neither shipped nor cancelled yet: out of the
    catalog's available quantity, still counted in the store's Walmart `inputQty`. Upserted on
    (store, product) by `inventory.services.reservations_apply` only."""

    # No index of its own: the unique (store, product) leads with the store.
    store = models.ForeignKey(
        "channel_manager.Store", on_delete=models.CASCADE, related_name="stock_reservations", db_index=False
    )
    product = models.ForeignKey("listings.Product", on_delete=models.CASCADE, related_name="stock_reservations")
    quantity = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="unique_stock_reservation_per_store_product"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_reservation_quantity_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of product {self.product_id} reserved in store {self.store_id}"
