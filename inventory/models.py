"""Models of the inventory app: the stock movement log.

How quantities are modelled (no double counting): `listings.Product.quantity` is the catalog's
*available to sell* quantity. An order reservation takes its units out of it at once (a `StockMovement`
with reason `order_reservation`), a cancellation or a return puts them back. So "stock reserved by open
orders" is already out of `Product.quantity`, and the quantity Walmart should show is simply
`Product.quantity - safety buffer`, capped by the store's maximum, never below zero
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

    product = models.ForeignKey("listings.Product", on_delete=models.CASCADE, related_name="stock_movements")
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
            models.Index(fields=["reason", "reference"], name="stockmove_reason_ref_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity_after__gte=0), name="stockmove_quantity_after_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.delta:+d} -> {self.quantity_after} ({self.reason})"
