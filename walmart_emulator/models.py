"""Tables of the Walmart emulator: Walmart's side of the world, kept apart from the product's own models.

Nothing here has a foreign key to another app: the emulator is a stand-in for a remote system and must
behave like one (the product only ever reaches it over HTTP).
"""

from decimal import Decimal

from django.db import models


class EmulatorClock(models.Model):
    """One row: how far the emulator's clock runs ahead of real time (tests and the demo move it)."""

    offset_seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"clock offset {self.offset_seconds:+.0f}s"


class Seller(models.Model):
    """A Walmart seller account (partner) with its API keys and its fault settings."""

    name = models.CharField(max_length=100, unique=True)
    partner_id = models.CharField(max_length=20, unique=True)
    client_id = models.CharField(max_length=64, unique=True)
    client_secret = models.CharField(max_length=128)
    is_live = models.BooleanField(default=True, help_text="Not live: matched offers are staged.")
    simulate_orders = models.BooleanField(default=False, help_text="The demo trickle places orders for it.")
    ship_node = models.CharField(max_length=20, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    # Faults on demand (see walmart_emulator.faults).
    fault_error_share = models.FloatField(default=0.0, help_text="Share (0..1) of requests answered 500/503.")
    fault_error_status = models.PositiveSmallIntegerField(default=500)
    fault_latency_ms = models.PositiveIntegerField(default=0)
    fault_hang_seconds = models.FloatField(default=0.0, help_text="Sleep this long before answering (0: off).")
    fault_throttle_storm = models.BooleanField(default=False, help_text="Answer every request with 429.")
    fault_lost_answer_share = models.FloatField(
        default=0.0, help_text="Share (0..1) of writes applied, then the connection dropped."
    )
    fault_remaining = models.PositiveIntegerField(
        null=True, blank=True, help_text="Faults still to inject (empty: no limit)."
    )

    class Meta:
        ordering = ["name"]
        permissions = [("use_inspector", "Can use the emulator's inspection pages (orders, faults, clock)")]

    def __str__(self) -> str:
        return self.name


class AccessToken(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="tokens")
    token = models.CharField(max_length=200, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.seller_id} until {self.expires_at:%H:%M:%S}"


class CatalogItem(models.Model):
    """An item in Walmart's catalog; sellers match offers to it by identifier."""

    item_id = models.CharField(max_length=20, unique=True)
    gtin = models.CharField(max_length=14, unique=True, help_text="GTIN-14 (UPC/EAN/ISBN-13 zero-padded).")
    upc = models.CharField(max_length=12, blank=True, default="")
    title = models.CharField(max_length=300)
    brand = models.CharField(max_length=100, blank=True, default="")
    product_type = models.CharField(max_length=100, blank=True, default="")
    price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.gtin} {self.title}"


class Offer(models.Model):
    """A seller's SKU on a catalog item, with Walmart-side price and quantity (default ship node)."""

    class PublishedStatus(models.TextChoices):
        PUBLISHED = "PUBLISHED"
        UNPUBLISHED = "UNPUBLISHED"
        STAGE = "STAGE"
        IN_PROGRESS = "IN_PROGRESS"
        SYSTEM_PROBLEM = "SYSTEM_PROBLEM"

    class LifecycleStatus(models.TextChoices):
        ACTIVE = "ACTIVE"
        RETIRED = "RETIRED"
        ARCHIVED = "ARCHIVED"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="offers")
    sku = models.CharField(max_length=50)
    catalog_item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="offers")
    wpid = models.CharField(max_length=20)
    product_name = models.CharField(max_length=300)
    condition = models.CharField(max_length=40, default="New")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    shipping_weight = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("0"))
    published_status = models.CharField(max_length=20, choices=PublishedStatus.choices)
    unpublished_reason = models.CharField(max_length=300, blank=True, default="")
    lifecycle_status = models.CharField(max_length=20, choices=LifecycleStatus.choices, default="ACTIVE")
    # Walmart's inventory at the seller's default ship node (see walmart_emulator/inventory.py for the rules
    # and their sources): `quantity` is inputQty, `reserved_quantity` is reservedQty, availToSellQty is
    # derived (`available_to_sell`).
    quantity = models.IntegerField(
        default=0,
        help_text="inputQty: every unit at the default node, including units sold and not yet shipped "
        "(what PUT /v3/inventory and the inventory feed set).",
    )
    reserved_quantity = models.PositiveIntegerField(
        default=0, help_text="reservedQty: units customers ordered that are neither shipped nor cancelled."
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["seller", "sku"], name="wme_offer_seller_sku_unique")]
        # The items and inventories listings page a seller's offers by primary key.
        indexes = [models.Index(fields=["seller", "id"], name="wme_offer_seller_pk")]

    def __str__(self) -> str:
        return f"{self.sku} ({self.published_status})"

    @property
    def available_to_sell(self) -> int:
        """availToSellQty: inputQty - reservedQty (never below zero)."""
        return max(0, self.quantity - self.reserved_quantity)


class Feed(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "RECEIVED"
        INPROGRESS = "INPROGRESS"
        PROCESSED = "PROCESSED"
        ERROR = "ERROR"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="feeds")
    feed_id = models.CharField(max_length=64, unique=True)
    feed_type = models.CharField(max_length=40)
    ship_node = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    payload = models.TextField()
    payload_bytes = models.PositiveIntegerField(default=0)
    items_received = models.PositiveIntegerField(default=0)
    items_succeeded = models.PositiveIntegerField(default=0)
    items_failed = models.PositiveIntegerField(default=0)
    ingestion_errors = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="wme_feed_status_due")]

    def __str__(self) -> str:
        return f"{self.feed_type} {self.feed_id} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.PROCESSED, self.Status.ERROR)


class FeedItemResult(models.Model):
    class Status(models.TextChoices):
        SUCCESS = "SUCCESS"
        DATA_ERROR = "DATA_ERROR"
        SYSTEM_ERROR = "SYSTEM_ERROR"

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="item_results")
    index = models.PositiveIntegerField()
    sku = models.CharField(max_length=100, blank=True, default="")
    wpid = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["feed", "index"]
        constraints = [models.UniqueConstraint(fields=["feed", "index"], name="wme_feed_item_index_unique")]

    def __str__(self) -> str:
        return f"{self.feed_id}#{self.index} {self.sku} {self.status}"


class Order(models.Model):
    """A Walmart purchase order. `is_open` is true while some quantity is neither shipped nor cancelled."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="orders")
    purchase_order_id = models.CharField(max_length=20, unique=True)
    customer_order_id = models.CharField(max_length=20)
    customer_email_id = models.CharField(max_length=100)
    order_type = models.CharField(max_length=20, default="REGULAR")
    order_date = models.DateTimeField()
    last_modified = models.DateTimeField()
    phone = models.CharField(max_length=20)
    estimated_ship_date = models.DateTimeField()
    estimated_delivery_date = models.DateTimeField()
    method_code = models.CharField(max_length=20)
    postal_address = models.JSONField()
    is_open = models.BooleanField(default=True)
    snapshot = models.JSONField(
        default=dict,
        blank=True,
        help_text="The order as Walmart's API shows it, re-rendered in every change's transaction.",
    )

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["seller", "order_date"], name="wme_order_seller_date"),
            models.Index(fields=["is_open", "estimated_ship_date"], name="wme_order_open_esd"),
        ]

    def __str__(self) -> str:
        return self.purchase_order_id


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    sku = models.CharField(max_length=50)
    product_name = models.CharField(max_length=300)
    condition = models.CharField(max_length=40, default="New")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    product_amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="PRODUCT charge of the line.")
    product_tax = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    status_date = models.DateTimeField()
    intent_to_cancel = models.BooleanField(default=False)
    seller_order_id = models.CharField(max_length=30, blank=True, default="")

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [models.UniqueConstraint(fields=["order", "line_number"], name="wme_line_number_unique")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number} {self.sku} x{self.quantity}"


class LineStatus(models.Model):
    """A quantity of one order line in one status (a line can be 1 Shipped + 1 Cancelled)."""

    class Status(models.TextChoices):
        CREATED = "Created"
        ACKNOWLEDGED = "Acknowledged"
        SHIPPED = "Shipped"
        DELIVERED = "Delivered"
        CANCELLED = "Cancelled"

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="statuses")
    status = models.CharField(max_length=20, choices=Status.choices)
    quantity = models.PositiveIntegerField()
    cancellation_reason = models.CharField(max_length=60, blank=True, default="")
    carrier = models.CharField(max_length=60, blank=True, default="")
    other_carrier = models.CharField(max_length=60, blank=True, default="")
    method_code = models.CharField(max_length=20, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    tracking_url = models.CharField(max_length=500, blank=True, default="")
    ship_datetime = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True, help_text="When the seller reported the shipment.")

    class Meta:
        ordering = ["line", "pk"]

    def __str__(self) -> str:
        return f"{self.line_id} {self.status} x{self.quantity}"


class LineRefund(models.Model):
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="refunds")
    refund_id = models.CharField(max_length=40)
    charge_type = models.CharField(max_length=20)
    charge_name = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Negative, like Walmart's.")
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    reason = models.CharField(max_length=100)
    comments = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["line", "pk"]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount}"


class ReturnOrder(models.Model):
    class Status(models.TextChoices):
        INITIATED = "INITIATED"
        DELIVERED = "DELIVERED"
        COMPLETED = "COMPLETED"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="returns")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    return_order_id = models.CharField(max_length=20, unique=True)
    customer_order_id = models.CharField(max_length=20)
    customer_first_name = models.CharField(max_length=50)
    customer_last_name = models.CharField(max_length=50)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INITIATED)
    return_order_date = models.DateTimeField()
    return_by_date = models.DateTimeField()
    last_modified = models.DateTimeField()
    auto_refund_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.return_order_id


class ReturnLine(models.Model):
    return_order = models.ForeignKey(ReturnOrder, on_delete=models.CASCADE, related_name="lines")
    return_order_line_number = models.PositiveIntegerField()
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    refunded_quantity = models.PositiveIntegerField(default=0)
    return_reason = models.CharField(max_length=40)
    refund_channel = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        ordering = ["return_order", "return_order_line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_order", "return_order_line_number"], name="wme_return_line_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.return_order_id}/{self.return_order_line_number}"


class WebhookSubscription(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="subscriptions")
    subscription_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=60)
    event_version = models.CharField(max_length=10, default="V1")
    resource_name = models.CharField(max_length=30)
    event_url = models.URLField(max_length=500)
    status = models.CharField(max_length=10, default="ACTIVE")
    auth_details = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "event_type", "event_url"], name="wme_subscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.event_url}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        DELIVERED = "DELIVERED"
        FAILED = "FAILED"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=60)
    body = models.TextField(help_text="The exact bytes sent (and signed).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} {self.status}"


class RateLimitBucket(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="buckets")
    family = models.CharField(max_length=60)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()
    updated_epoch = models.FloatField(default=0.0, help_text="updated_at as epoch seconds (fast path).")

    class Meta:
        ordering = ["seller", "family"]
        constraints = [models.UniqueConstraint(fields=["seller", "family"], name="wme_bucket_unique")]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.family} {self.tokens:.1f}"


class ReportRequest(models.Model):
    """An on-request report (`POST /v3/reports/reportRequests`); the file is made when the request is due."""

    class Status(models.TextChoices):
        RECEIVED = "RECEIVED"
        INPROGRESS = "INPROGRESS"
        READY = "READY"
        ERROR = "ERROR"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="report_requests")
    request_id = models.CharField(max_length=40, unique=True)
    report_type = models.CharField(max_length=40)
    report_version = models.CharField(max_length=10)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    payload = models.JSONField(default=dict, blank=True, help_text="rowFilters / excludeColumns as sent.")
    submitted_at = models.DateTimeField()
    due_at = models.DateTimeField()
    generated_at = models.DateTimeField(null=True, blank=True)
    file = models.BinaryField(null=True, blank=True, help_text="The report as Walmart serves it: a zipped CSV.")
    row_count = models.PositiveIntegerField(default=0)
    error_description = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="wme_report_status_due")]

    def __str__(self) -> str:
        return f"{self.report_type} {self.request_id} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.READY, self.Status.ERROR)
