"""Walmart returns (RMAs), their lines, and the refunds we push back to Walmart.

A `Return` is one Walmart return order in one store, upserted on `(store, return_order_id)` and linked
to its purchase order (`orders.Order`, which shows "Return requested" through `order.returns`). Its lines
keep what the customer was charged per unit (item price and tax), how many units came back, and how many
Walmart has refunded. A `Refund` is an operator's intent, saved before anything is sent: the lines and
quantities to refund, whether each goes back to stock, the amounts, and the push's own status. The
money of a refund never exceeds what was charged, and its quantity never exceeds what was returned and
not yet refunded (`returns.services.refund_create` enforces both).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channel_manager.intents import PushIntent
from channel_manager.timeline import TimelineEvent

AUTO_REFUND_HOURS_DEFAULT = 48
DEADLINE_WARNING_HOURS_DEFAULT = 12
ZERO = Decimal("0.00")


def auto_refund_hours() -> float:
    """Walmart refunds a return on its own this many hours after it was initiated (setting
    `RETURNS_AUTO_REFUND_HOURS`: Walmart's published figure is 48 hours, not confirmed by the spec)."""
    return float(getattr(settings, "RETURNS_AUTO_REFUND_HOURS", AUTO_REFUND_HOURS_DEFAULT))


def deadline_warning_hours() -> float:
    """A return whose auto-refund is closer than this is flagged (setting `RETURNS_DEADLINE_WARNING_HOURS`)."""
    return float(getattr(settings, "RETURNS_DEADLINE_WARNING_HOURS", DEADLINE_WARNING_HOURS_DEFAULT))


class ReturnSettings(models.Model):
    """Per-store returns intake: how often Walmart's returns are read, the overlap of each window, and
    the watermark (advanced only after a read has committed)."""

    store = models.OneToOneField("channel_manager.Store", on_delete=models.CASCADE, related_name="return_settings")
    poll_interval_seconds = models.PositiveIntegerField(_("read returns every (seconds)"), default=900)
    poll_overlap_seconds = models.PositiveIntegerField(
        _("window overlap (seconds)"),
        default=1800,
        help_text=_("Each read goes back this far before the last watermark, so late writes are not missed."),
    )
    polled_through = models.DateTimeField(
        null=True, blank=True, help_text=_("Watermark: returns modified before this instant have been stored.")
    )
    last_poll_started_at = models.DateTimeField(null=True, blank=True)
    last_poll_finished_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "return settings"

    def __str__(self) -> str:
        return f"Return settings of store {self.store_id}"


class Return(models.Model):
    """One Walmart return order (RMA), keyed on (store, return_order_id)."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        REFUNDED = "refunded", _("Refunded")
        ERROR = "error", _("Error")

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="returns")
    return_order_id = models.CharField(_("RMA #"), max_length=50)
    customer_order_id = models.CharField(_("customer order #"), max_length=50, blank=True)
    purchase_order_id = models.CharField(_("Walmart order #"), max_length=50, blank=True)
    order = models.ForeignKey("orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="returns")
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.CharField(max_length=254, blank=True)
    return_type = models.CharField(max_length=20, blank=True)
    refund_mode = models.CharField(max_length=40, blank=True)
    return_channel = models.CharField(max_length=40, blank=True)
    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    return_by = models.DateTimeField(_("return by"), null=True, blank=True)
    refund_deadline = models.DateTimeField(
        _("auto-refund at"), null=True, blank=True, help_text=_("Walmart refunds the return itself after this.")
    )
    currency = models.CharField(max_length=3, default="USD")
    walmart_refund_total = models.DecimalField(
        _("refund amount (Walmart)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    charged_total = models.DecimalField(
        _("refund amount"),
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        help_text=_("What was charged for the returned units (item price and tax): the most that can be refunded."),
    )
    refunded_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    item_quantity = models.PositiveIntegerField(default=0)
    items_summary = models.CharField(max_length=500, blank=True, help_text=_("SKU x quantity, for the list."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    status_details = models.TextField(blank=True)
    refunded_by_walmart = models.BooleanField(
        default=False, help_text=_("Walmart refunded units on its own (auto-refund or Seller Center).")
    )
    walmart_last_modified = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True, help_text=_("When Walmart last told us about it."))
    raw = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text=_("Walmart's last answer for this return.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("last modified"), auto_now=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "return_order_id"], name="unique_return_per_store"),
        ]
        indexes = [
            models.Index(fields=["store", "-requested_at", "-id"], name="return_store_requested_idx"),
            models.Index(fields=["store", "status", "-requested_at", "-id"], name="return_store_status_idx"),
            models.Index(fields=["store", "purchase_order_id"], name="return_store_po_idx"),
            models.Index(fields=["store", "customer_order_id"], name="return_store_customer_idx"),
            # the Returns tab's sorts, and its count of returns close to Walmart's auto-refund
            models.Index(fields=["store", "order", "id"], name="return_store_order_idx"),
            models.Index(fields=["store", "return_by", "id"], name="return_store_return_by_idx"),
            models.Index(fields=["store", "refund_deadline", "id"], name="return_store_deadline_idx"),
            models.Index(fields=["store", "charged_total", "id"], name="return_store_amount_idx"),
            models.Index(fields=["store", "updated_at", "id"], name="return_store_updated_idx"),
            # A customer-name search's rows with every sort key of the Returns tab, read index-only (as the
            # Orders tab's order_store_name_cover_idx).
            models.Index(
                fields=["store", "customer_name"],
                include=[
                    "id",
                    "return_order_id",
                    "order",
                    "requested_at",
                    "return_by",
                    "refund_deadline",
                    "charged_total",
                    "status",
                    "updated_at",
                ],
                name="return_store_name_cover_idx",
            ),
            models.Index(
                fields=["store", "refund_deadline"], condition=~Q(status="refunded"), name="return_store_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"RMA {self.return_order_id}"

    def time_left(self, *, now: datetime | None = None) -> timedelta | None:
        """Time until Walmart's auto-refund, for a return still waiting for a refund; None otherwise."""
        if self.refund_deadline is None or self.status == self.Status.REFUNDED:
            return None
        return self.refund_deadline - (now or timezone.now())

    def deadline_flag(self, *, now: datetime | None = None) -> str:
        """ "overdue" (Walmart may refund at any moment), "close" (under the warning hours) or ""."""
        left = self.time_left(now=now)
        if left is None:
            return ""
        if left <= timedelta(0):
            return "overdue"
        if left < timedelta(hours=deadline_warning_hours()):
            return "close"
        return ""


class ReturnLine(models.Model):
    """One line of a return: the units the customer sent back and what they were charged per unit."""

    return_order = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    return_order_line_number = models.PositiveIntegerField()
    purchase_order_id = models.CharField(max_length=50, blank=True)
    purchase_order_line_number = models.CharField(max_length=20, blank=True)
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_lines"
    )
    sku = models.CharField(_("SKU"), max_length=100)
    product_name = models.CharField(max_length=500, blank=True)
    quantity = models.PositiveIntegerField(help_text=_("Units returned."))
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    unit_tax = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    item_price = models.DecimalField(
        max_digits=12, decimal_places=2, default=ZERO, help_text=_("Item price charged for the returned units.")
    )
    tax = models.DecimalField(
        max_digits=12, decimal_places=2, default=ZERO, help_text=_("Tax charged for the returned units.")
    )
    refunded_quantity = models.PositiveIntegerField(
        default=0,
        help_text=_("Units refunded: Walmart's count, or ours once a refund was accepted, whichever is more."),
    )
    refunded_by_walmart_quantity = models.PositiveIntegerField(
        default=0, help_text=_("Units Walmart refunded on its own (auto-refund, Seller Center), never through us.")
    )
    restocked_quantity = models.PositiveIntegerField(default=0, help_text=_("Units put back in stock."))
    return_reason = models.CharField(max_length=60, blank=True)
    refund_channel = models.CharField(max_length=40, blank=True, help_text=_("Who refunded, as Walmart says."))
    is_return_for_exception = models.BooleanField(
        default=False,
        help_text=_("An item outside Walmart's returns program (HAZMAT, OTHER, FREIGHT): refunded as an order refund."),
    )
    exception_item_type = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["return_order", "return_order_line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_order", "return_order_line_number"], name="unique_return_line_number"
            ),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=models.F("quantity")), name="return_line_refunded_within_returned"
            ),
        ]
        indexes = [models.Index(fields=["sku"], name="return_line_sku_idx")]

    def __str__(self) -> str:
        return f"return line {self.return_order_line_number} {self.sku} x {self.quantity}"

    @property
    def unit_total(self) -> Decimal:
        return self.unit_price + self.unit_tax

    @property
    def charged_total(self) -> Decimal:
        return self.item_price + self.tax


class Refund(PushIntent):
    """An operator's refund of some return lines: saved first, pushed to Walmart by a task after commit,
    retried with backoff and a cap, with its own status (`channel_manager.intents.PushIntent`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        ERROR = "error", _("Error")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        RETURN_REFUND = "return_refund", _("Return refund")
        ORDER_REFUND = "order_refund", _("Order refund")

    return_order = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="refunds")
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.RETURN_REFUND)
    purchase_order_id = models.CharField(max_length=50, blank=True, help_text=_("For an order refund."))
    reason = models.CharField(max_length=100, default="Customer returned item", help_text=_("Walmart's refund reason."))
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text=_("Item price refunded (positive)."))
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, help_text=_("Tax refunded (positive)."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    request_maybe_applied = models.BooleanField(
        default=False,
        help_text=_("The last attempt may have reached Walmart: read the return back before sending again."),
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(tax__gte=0), name="refund_amounts_not_negative"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="refund_status_next_idx")]

    def __str__(self) -> str:
        return f"Refund {self.pk} {self.total} ({self.status})"

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    return_line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="refund_lines")
    quantity = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    back_to_stock = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["refund", "return_line"], name="unique_refund_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="refund_line_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(tax__gte=0), name="refund_line_amounts_not_negative"),
        ]

    def __str__(self) -> str:
        return f"return line {self.return_line_id} x {self.quantity}"

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


class ReturnEvent(TimelineEvent):
    """The return's timeline: what happened, by whom or what, with Walmart's correlation id."""

    class Actor(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        ADMIN = "admin", _("Admin action")
        SCHEDULE = "schedule", _("Schedule")
        SYSTEM = "system", _("System")

    return_order = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="events")
    actor = models.CharField(max_length=10, choices=Actor.choices)

    class Meta(TimelineEvent.Meta):
        indexes = [models.Index(fields=["return_order", "created_at"], name="return_event_return_idx")]
