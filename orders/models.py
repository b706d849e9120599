"""Walmart purchase orders and everything the order desk does with them.

An `Order` is one Walmart purchase order (PO) in one store, upserted on `(store, purchase_order_id)`.
Its lines mirror Walmart's per-quantity line statuses. Every push to Walmart (a `Shipment`, a
`Cancellation`) is saved as an intent row first and keeps its own status, so a failed second shipment
never hides the first. `OrderEvent` is the timeline: who or what changed the order, with Walmart's
correlation id.
"""

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channel_manager.crypto import secret_decrypt, secret_encrypt
from channel_manager.intents import PushIntent
from channel_manager.timeline import TimelineEvent

AUTO_CANCEL_DAYS_DEFAULT = 4


def webhook_token_new() -> str:
    return secrets.token_urlsafe(24)


class MethodCode(models.TextChoices):
    """Walmart's `shippingInfo.methodCode` / `trackingInfo.methodCode` enum."""

    STANDARD = "Standard", _("Standard")
    EXPRESS = "Express", _("Express")
    ONE_DAY = "OneDay", _("One day")
    FREIGHT = "Freight", _("Freight")
    WHITE_GLOVE = "WhiteGlove", _("White glove")
    VALUE = "Value", _("Value")


class CancellationReason(models.TextChoices):
    """Walmart's `cancellationReason` enum, labelled with Adobe's wording where Adobe has one."""

    PRICING_ERROR = "SELLER_CANCEL_PRICING_ERROR", _("Price or other listing errors.")
    OUT_OF_STOCK = "SELLER_CANCEL_OUT_OF_STOCK", _("The item is out of stock.")
    ADDRESS_NOT_SERVICEABLE = "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE", _("Unavailable carrier or shipping information.")
    FRAUD_STOP_SHIPMENT = (
        "SELLER_CANCEL_FRAUD_STOP_SHIPMENT",
        _("Additional information is required by our Credit or Fraud Avoidance department."),
    )
    CUSTOMER_REQUESTED = (
        "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
        _("The customer asked to cancel (intent to cancel)."),
    )


class OrderSettings(models.Model):
    """Per-store order desk settings: commerce order numbering, automatic acknowledgement, polling
    interval and watermark, the shipping-carrier mapping, and how Walmart's webhook deliveries are
    authenticated."""

    class WebhookAuth(models.TextChoices):
        HMAC = "HMAC", _("HMAC-SHA256 of the payload, keyed with the store's client secret")
        BASIC = "BASIC_AUTH", _("Basic authentication")

    store = models.OneToOneField("channel_manager.Store", on_delete=models.CASCADE, related_name="order_settings")
    commerce_order_prefix = models.CharField(
        _("commerce order number prefix"), max_length=10, default="WM", help_text=_("e.g. WM -> WM00000001")
    )
    next_commerce_number = models.PositiveBigIntegerField(default=1)
    auto_acknowledge = models.BooleanField(
        _("acknowledge new orders automatically"),
        default=True,
        help_text=_("Walmart requires an acknowledgement within 4 hours of the order."),
    )
    poll_interval_seconds = models.PositiveIntegerField(_("poll every (seconds)"), default=300)
    poll_overlap_seconds = models.PositiveIntegerField(
        _("poll window overlap (seconds)"),
        default=600,
        help_text=_("Each poll re-reads this much before the last watermark, so late writes are not missed."),
    )
    polled_through = models.DateTimeField(
        null=True, blank=True, help_text=_("Watermark: orders modified before this instant have been stored.")
    )
    last_poll_started_at = models.DateTimeField(null=True, blank=True)
    last_poll_finished_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)
    carrier_mapping = models.JSONField(
        default=dict, blank=True, help_text=_("Walmart carrier name -> the merchant's carrier name.")
    )

    webhook_token = models.CharField(max_length=64, unique=True, default=webhook_token_new, editable=False)
    webhook_auth_method = models.CharField(max_length=20, choices=WebhookAuth.choices, default=WebhookAuth.HMAC)
    webhook_auth_header = models.CharField(
        max_length=100,
        default="X-Walmart-Signature",
        help_text=_("Walmart sends the HMAC or basic credentials in this header (no underscores: servers drop them)."),
    )
    webhook_basic_username = models.CharField(max_length=100, blank=True)
    webhook_basic_password_encrypted = models.TextField(blank=True, editable=False)
    webhook_subscription_ids = models.JSONField(default=list, blank=True)

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "order settings"

    def __str__(self) -> str:
        return f"Order settings of store {self.store_id}"

    @property
    def webhook_basic_password(self) -> str:
        if not self.webhook_basic_password_encrypted:
            return ""
        return secret_decrypt(self.webhook_basic_password_encrypted, what=f"webhook password of store {self.store_id}")

    @webhook_basic_password.setter
    def webhook_basic_password(self, value: str) -> None:
        self.webhook_basic_password_encrypted = secret_encrypt(value) if value else ""

    def commerce_order_number(self, number: int) -> str:
        return f"{self.commerce_order_prefix}{number:08d}"


class Order(models.Model):
    """One Walmart purchase order, keyed on (store, purchase_order_id)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SHIPPED = "shipped", _("Shipped")
        PARTIALLY_SHIPPED = "partially_shipped", _("Partially Shipped")
        CANCELED = "canceled", _("Canceled")
        ERROR = "error", _("Error")

    # No index of its own: the unique (store, purchase_order_id) and every list index lead with the store.
    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="orders", db_index=False)
    purchase_order_id = models.CharField(_("Walmart order #"), max_length=50)
    customer_order_id = models.CharField(max_length=50, blank=True)
    commerce_order_number = models.CharField(_("commerce order #"), max_length=40)
    order_type = models.CharField(max_length=20, blank=True)

    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=20, blank=True)
    address_type = models.CharField(max_length=20, blank=True)

    order_date = models.DateTimeField(_("ordered"))
    ship_by = models.DateTimeField(_("ship by"), null=True, blank=True)
    deliver_by = models.DateTimeField(_("deliver by"), null=True, blank=True)
    method_code = models.CharField(_("ship method"), max_length=20, blank=True)

    currency = models.CharField(max_length=3, default="USD")
    product_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    order_total = models.DecimalField(_("order value"), max_digits=12, decimal_places=2, default=Decimal("0"))
    item_quantity = models.PositiveIntegerField(default=0)
    items_summary = models.CharField(max_length=500, blank=True, help_text=_("SKU x quantity, for the list."))

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    status_details = models.TextField(blank=True)
    intent_to_cancel = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledging_since = models.DateTimeField(null=True, blank=True, editable=False)
    acknowledge_maybe_applied = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("An acknowledgement was in flight (or its answer lost): read the order back before sending again."),
    )
    walmart_last_modified = models.DateTimeField(null=True, blank=True)
    provisional = models.BooleanField(
        _("awaiting Walmart's details"),
        default=False,
        help_text=_(
            "Stored from Walmart's order notification (PO_CREATED) before Walmart's copy could be read: lines and "
            "stock reserved, no customer, address, charges or line statuses yet. The next read of the order "
            "completes it; until then it cannot be shipped, cancelled or refunded."
        ),
    )
    provisional_read_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text=_("When the sweep next reads this provisional order back.")
    )
    provisional_read_attempts = models.PositiveIntegerField(default=0, editable=False)
    provisional_read_error = models.TextField(blank=True, editable=False)
    last_read_at = models.DateTimeField(null=True, blank=True, help_text=_("When Walmart last told us about it."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("last update"), auto_now=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "purchase_order_id"], name="unique_order_per_store"),
            models.UniqueConstraint(fields=["store", "commerce_order_number"], name="unique_commerce_order_number"),
        ]
        indexes = [
            models.Index(fields=["store", "-order_date", "-id"], name="order_store_date_idx"),
            models.Index(fields=["store", "status", "-order_date", "-id"], name="order_store_status_date_idx"),
            models.Index(fields=["store", "customer_order_id"], name="order_store_customer_order_idx"),
            models.Index(fields=["store", "acknowledged_at"], name="order_store_ack_idx"),
            # The Orders tab's sortable columns, each with the id as tie-breaker (one index scan per page).
            models.Index(fields=["store", "ship_by", "id"], name="order_store_ship_by_idx"),
            models.Index(fields=["store", "deliver_by", "id"], name="order_store_deliver_by_idx"),
            models.Index(fields=["store", "order_total", "id"], name="order_store_total_idx"),
            models.Index(fields=["store", "updated_at", "id"], name="order_store_updated_idx"),
            models.Index(fields=["store", "method_code", "-order_date", "-id"], name="order_store_method_date_idx"),
            # A customer-name search's rows with every sort key of the Orders tab: read index-only, in a few
            # pages per 1,000 rows, then sorted (channel_manager.listing_pages.ids_searched_first). The names
            # come from CustomerName; the list's columns are read for the page's rows only.
            models.Index(
                fields=["store", "customer_name"],
                include=[
                    "id",
                    "order_date",
                    "ship_by",
                    "deliver_by",
                    "order_total",
                    "updated_at",
                    "purchase_order_id",
                    "commerce_order_number",
                    "method_code",
                    "status",
                ],
                name="order_store_name_cover_idx",
            ),
            # Provisional orders due for a read-back (the sweep): small, whatever the history.
            models.Index(
                fields=["provisional_read_at"], name="order_provisional_read_idx", condition=Q(provisional=True)
            ),
        ]

    def __str__(self) -> str:
        return f"PO {self.purchase_order_id} ({self.commerce_order_number})"

    @property
    def auto_cancel_at(self) -> datetime | None:
        if self.ship_by is None:
            return None
        days = getattr(settings, "WALMART_AUTO_CANCEL_DAYS", AUTO_CANCEL_DAYS_DEFAULT)
        return self.ship_by + timedelta(days=days)

    def flags(self, *, now: datetime | None = None) -> list[str]:
        """Ship-by today, late, auto-cancel risk, intent to cancel: only for orders with something left to
        ship. Dates are compared in the active (operator's) time zone."""
        now = now or timezone.now()
        flags: list[str] = []
        if self.intent_to_cancel:
            flags.append("intent_to_cancel")
        if self.ship_by is None or self.status in {self.Status.SHIPPED, self.Status.CANCELED}:
            return flags
        if self.ship_by < now:
            flags.append("late")
        elif timezone.localtime(self.ship_by).date() == timezone.localtime(now).date():
            flags.append("ship_by_today")
        auto_cancel_at = self.auto_cancel_at
        if auto_cancel_at is not None and auto_cancel_at - now < timedelta(days=1):
            flags.append("auto_cancel_risk")
        return flags


class CustomerName(models.Model):
    """Every customer name the store's orders and returns have carried, once: where a contains-search of the
    Orders or Returns tab looks first (a trigram index over distinct names), before reading the rows of the
    names found through each table's (store, customer_name) covering index.

    Kept by PostgreSQL triggers on orders_order and returns_return (migration 0014): every write path, COPY
    and bulk updates included, adds the names it writes in the same transaction. Never pruned: a name that
    no row carries any more costs only its row here and matches nothing. Other databases do not keep it
    (their searches read the rows' own column)."""

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="+", db_index=False)
    customer_name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "customer_name"], name="unique_customer_name_per_store"),
        ]

    def __str__(self) -> str:
        return self.customer_name


class OrderLine(models.Model):
    """One line of a purchase order, with Walmart's quantities per line status."""

    class Status(models.TextChoices):
        CREATED = "Created", _("Created")
        ACKNOWLEDGED = "Acknowledged", _("Acknowledged")
        PARTIALLY_SHIPPED = "PartiallyShipped", _("Partially shipped")
        SHIPPED = "Shipped", _("Shipped")
        DELIVERED = "Delivered", _("Delivered")
        CANCELLED = "Cancelled", _("Cancelled")
        REFUND = "Refund", _("Refund")
        ERROR = "Error", _("Error")

    # No index of its own: the unique (order, line_number) leads with the order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_number = models.CharField(max_length=20)
    sku = models.CharField(_("SKU"), max_length=100)
    listing = models.ForeignKey(
        "listings.Listing", on_delete=models.SET_NULL, null=True, blank=True, related_name="order_lines"
    )
    product_name = models.CharField(max_length=500, blank=True)
    quantity = models.PositiveIntegerField()
    quantity_created = models.PositiveIntegerField(default=0)
    quantity_acknowledged = models.PositiveIntegerField(default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_delivered = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_refunded = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    product_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    charges = models.JSONField(default=list, blank=True)
    tracking = models.JSONField(default=list, blank=True, help_text=_("Tracking numbers Walmart holds."))
    intent_to_cancel = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    status_details = models.TextField(blank=True)
    stock_reserved = models.PositiveIntegerField(default=0, help_text=_("Units reserved through the stock service."))
    stock_released = models.PositiveIntegerField(default=0, help_text=_("Cancelled units given back to stock."))
    stock_shipped = models.PositiveIntegerField(
        default=0, help_text=_("Shipped units taken out of the store's reservation.")
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="unique_order_line_number"),
        ]
        indexes = [models.Index(fields=["sku"], name="order_line_sku_idx")]

    def __str__(self) -> str:
        return f"line {self.line_number} {self.sku} x {self.quantity}"

    @property
    def quantity_shipped_total(self) -> int:
        """Units Walmart has as shipped, including those since delivered or refunded."""
        return self.quantity_shipped + self.quantity_delivered + self.quantity_refunded

    @property
    def stock_held(self) -> int:
        """Units the store's reservation still holds for this line: reserved, neither released nor shipped."""
        return self.stock_reserved - self.stock_released - self.stock_shipped

    @property
    def quantity_open(self) -> int:
        """Units neither shipped nor cancelled on Walmart (pending local operations not subtracted)."""
        return max(0, self.quantity - self.quantity_shipped_total - self.quantity_cancelled)


class Operation(PushIntent):
    """What a shipment and a cancellation share: an intent row pushed to Walmart after commit
    (`channel_manager.intents.PushIntent`), on one order."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        ERROR = "error", _("Error")
        DISCARDED = "discarded", _("Discarded")

    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    request_maybe_applied = models.BooleanField(
        default=False,
        help_text=_("The last attempt timed out after the request was sent: read the order back before resending."),
    )

    class Meta(PushIntent.Meta):
        abstract = True


class Shipment(Operation):
    """A shipment of some lines and quantities, with its carrier and tracking, pushed to Walmart."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(_("Walmart carrier"), max_length=60, blank=True)
    merchant_carrier = models.CharField(max_length=100, blank=True)
    other_carrier = models.CharField(_("other carrier name"), max_length=100, blank=True)
    tracking_url = models.URLField(_("tracking URL"), max_length=500, blank=True)
    method_code = models.CharField(max_length=20, choices=MethodCode.choices)
    tracking_number = models.CharField(max_length=100)
    ship_date = models.DateTimeField()
    intent_to_cancel_override = models.BooleanField(
        _("ship anyway; the customer asked to cancel"),
        default=False,
        help_text=_("The operator confirmed shipping lines the customer asked to cancel (intentToCancelOverride)."),
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(tracking_number=""), name="shipment_tracking_number_required"),
            models.CheckConstraint(
                condition=~Q(carrier="") | (~Q(other_carrier="") & ~Q(tracking_url="")),
                name="shipment_carrier_or_other_with_url",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="shipment_status_next_idx")]

    def __str__(self) -> str:
        return f"Shipment {self.pk} {self.tracking_number} ({self.status})"

    @property
    def label(self) -> str:
        """How the order's timeline names it."""
        return f"Shipment {self.tracking_number}"

    @property
    def carrier_label(self) -> str:
        return self.carrier or f"{self.other_carrier} (other carrier)"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "line"], name="unique_shipment_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"line {self.line_id} x {self.quantity}"


class Cancellation(Operation):
    """A cancellation of some lines and quantities (or the whole order) with Walmart's reason."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="cancellations")
    reason = models.CharField(max_length=50, choices=CancellationReason.choices)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="cancellation_status_next_idx")]

    def __str__(self) -> str:
        return f"Cancellation {self.pk} ({self.status})"

    @property
    def label(self) -> str:
        """How the order's timeline names it."""
        return f"Cancellation {self.pk}"


class CancellationLine(models.Model):
    cancellation = models.ForeignKey(Cancellation, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="cancellation_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cancellation", "line"], name="unique_cancellation_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cancellation_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"line {self.line_id} x {self.quantity}"


class OrderEvent(TimelineEvent):
    """The order's timeline: what happened, by whom or what, with Walmart's correlation id."""

    class Actor(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        ADMIN = "admin", _("Admin action")
        SCHEDULE = "schedule", _("Schedule")
        WEBHOOK = "webhook", _("Webhook")
        SYSTEM = "system", _("System")

    # No index of its own: order_event_order_idx (order, created_at) leads with the order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.CharField(max_length=10, choices=Actor.choices)

    class Meta(TimelineEvent.Meta):
        indexes = [models.Index(fields=["order", "created_at"], name="order_event_order_idx")]


class WebhookEvent(models.Model):
    """One authenticated webhook delivery, deduplicated on Walmart's event id."""

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="webhook_events")
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=60)
    purchase_order_id = models.CharField(max_length=50, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_since = models.DateTimeField(
        null=True, blank=True, help_text=_("Claimed by a batch (committed before Walmart is read); expires.")
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text=_("Failed processing attempts."))

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["store", "event_id"], name="unique_webhook_event_per_store")]
        indexes = [
            # The store's pending events, oldest first (a batch's claim, the sweep): small, whatever the history.
            models.Index(
                fields=["store", "received_at"], name="webhook_event_pending_idx", condition=Q(processed_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class OrderStatusCount(models.Model):
    """How many orders of a store are in each status: the Orders tab's status cards, kept with F() updates
    by the services that change a status (a COUNT over a million orders is too slow for every page view).
    `orders.services.order_status_counts_rebuild` recomputes them from the orders."""

    store = models.ForeignKey("channel_manager.Store", on_delete=models.CASCADE, related_name="order_status_counts")
    status = models.CharField(max_length=20, choices=Order.Status.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "status"], name="unique_order_status_count")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.status}: {self.count}"
