"""The core shared by every app: the Walmart store (one seller account = one sales channel) and who
may operate it."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from channel_manager.crypto import secret_decrypt, secret_encrypt

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from channel_manager.selectors import StoreAccess


def emulator_base_url_error(url: str) -> str:
    """Why `url` may not be a store's emulator URL ('' when it may): the emulator runs on this machine, so
    only http(s) on a loopback address (127.0.0.0/8, ::1, localhost) or at the host and port of the
    configured WALMART_EMULATOR_BASE_URL, with no credentials in it. Anything else would let staff make the
    server call arbitrary hosts (issue 14)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname or "", parts.port
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in ("http", "https") or not hostname:
        return "Enter an http(s) URL."
    if parts.username is not None or parts.password is not None:
        return "The emulator's URL cannot carry a user name or password."
    configured = urlsplit(settings.WALMART_EMULATOR_BASE_URL)
    if (hostname, port) == (configured.hostname, configured.port):
        return ""
    if hostname == "localhost":
        return ""
    try:
        if ipaddress.ip_address(hostname).is_loopback:
            return ""
    except ValueError:
        pass
    return (
        f"The emulator runs on this machine: use a loopback address (127.0.0.1, ::1, localhost) or "
        f"{configured.scheme}://{configured.netloc}."
    )


class Store(models.Model):
    access: StoreAccess  # what the reading user may do here: set by channel_manager.selectors.store_get
    """One connected Walmart seller account. The client secret is stored encrypted and never shown."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        SANDBOX = "sandbox", _("Sandbox")
        EMULATOR = "emulator", _("Emulator")

    class ConnectionStatus(models.TextChoices):
        NOT_TESTED = "not_tested", _("Not tested")
        CONNECTED = "connected", _("Connected")
        ERROR = "error", _("Error")

    # Unique among the stores one user belongs to (channel_manager.services.store_create), not across the
    # installation: a global constraint would tell an operator the names of other operators' stores.
    name = models.CharField(max_length=100)
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    emulator_base_url = models.URLField(
        blank=True,
        help_text=_("Only for the emulator environment; empty means WALMART_EMULATOR_BASE_URL."),
    )
    client_id = models.CharField(_("Client ID"), max_length=255)
    client_secret_encrypted = models.TextField(editable=False)
    notification_email = models.EmailField(blank=True)
    is_live = models.BooleanField(
        _("Walmart store is live"),
        default=True,
        help_text=_("When the Walmart store is not live, matched offers are staged (Match - Match in Stage)."),
    )

    listings_enabled = models.BooleanField(_("Listings sync"), default=True)
    inventory_enabled = models.BooleanField(_("Inventory sync"), default=True)
    price_enabled = models.BooleanField(_("Price sync"), default=True)
    orders_enabled = models.BooleanField(_("Orders sync"), default=True)
    returns_enabled = models.BooleanField(_("Returns sync"), default=True)

    connection_status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.NOT_TESTED
    )
    connection_error = models.TextField(blank=True)
    connection_checked_at = models.DateTimeField(null=True, blank=True)

    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="StoreMembership", related_name="stores", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Store {self.pk} {self.name!r} {self.environment}>"

    @property
    def client_secret(self) -> str:
        """The decrypted secret. Raises SecretDecryptionError (never the secret) with a wrong key."""
        return secret_decrypt(self.client_secret_encrypted, what=f"client secret of store {self.name!r}")

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.client_secret_encrypted = secret_encrypt(value)

    @classmethod
    def environment_choices(cls) -> list[tuple[str, StrOrPromise]]:
        """The environments a store may be given here: the Emulator only where the emulator is installed
        (local and test settings), never in production."""
        if settings.WALMART_EMULATOR_ENABLED:
            return list(cls.Environment.choices)
        return [choice for choice in cls.Environment.choices if choice[0] != cls.Environment.EMULATOR]

    @property
    def api_base_url(self) -> str:
        if self.environment == self.Environment.PRODUCTION:
            return settings.WALMART_PRODUCTION_BASE_URL
        if self.environment == self.Environment.SANDBOX:
            return settings.WALMART_SANDBOX_BASE_URL
        return (self.emulator_base_url or settings.WALMART_EMULATOR_BASE_URL).rstrip("/")

    def clean(self) -> None:
        super().clean()
        error = emulator_base_url_error(self.emulator_base_url)
        if error:
            raise ValidationError({"emulator_base_url": error})


class StoreMembership(models.Model):
    """Which user may see which store, and what they may do there (their role).

    Roles build on each other: a viewer reads the store's pages; an operator also ships, cancels,
    refunds, runs listing actions and syncs; a manager also changes the store's settings, credentials and
    members. Superusers act as managers of every store.
    """

    class Role(models.TextChoices):
        VIEWER = "viewer", _("Viewer (read only)")
        OPERATOR = "operator", _("Operator (ship, cancel, refund, listing actions)")
        MANAGER = "manager", _("Manager (store settings, credentials, members)")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="unique_store_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store} ({self.get_role_display()})"

    @classmethod
    def role_allows(cls, role: str | None, needed: str) -> bool:
        """Whether `role` (None: not a member) includes everything `needed` may do."""
        order = list(cls.Role.values)
        return role is not None and order.index(role) >= order.index(needed)


class Feed(models.Model):
    """One bulk feed to Walmart (item match, inventory, price), recorded *before* it is sent.

    The row is the intent: it is created as PENDING with its payload, then submitted; Walmart's feed id
    is saved as soon as Walmart answers, and the status is polled until PROCESSED or ERROR. A feed left
    PENDING with no Walmart feed id was never acknowledged by Walmart and can be resent safely.
    """

    class FeedType(models.TextChoices):
        ITEM_MATCH = "MP_ITEM_MATCH", _("Item match")
        INVENTORY = "inventory", _("Inventory")
        PRICE = "price", _("Price")
        LAG_TIME = "lagtime", _("Lag time")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Pending (not yet accepted by Walmart)")
        RECEIVED = "RECEIVED", _("Received")
        INPROGRESS = "INPROGRESS", _("In progress")
        PROCESSED = "PROCESSED", _("Processed")
        ERROR = "ERROR", _("Error")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="feeds")
    feed_type = models.CharField(max_length=20, choices=FeedType.choices)
    walmart_feed_id = models.CharField(max_length=100, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    item_count = models.PositiveIntegerField(default=0)
    payload = models.JSONField(default=dict, blank=True, help_text=_("What was (or will be) sent."))
    items_received = models.PositiveIntegerField(default=0)
    items_succeeded = models.PositiveIntegerField(default=0)
    items_failed = models.PositiveIntegerField(default=0)
    items_processing = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "walmart_feed_id"],
                condition=models.Q(walmart_feed_id__isnull=False),
                name="unique_walmart_feed_id_per_store",
            )
        ]
        indexes = [models.Index(fields=["store", "feed_type", "status"])]

    def __str__(self) -> str:
        return f"{self.get_feed_type_display()} feed {self.walmart_feed_id or '(pending)'}"

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.RECEIVED, self.Status.INPROGRESS}
