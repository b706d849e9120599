"""The core shared by every app: the Walmart store (one seller account = one sales channel) and who
may operate it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from channel_manager.crypto import secret_decrypt, secret_encrypt


class Store(models.Model):
    """One connected Walmart seller account. The client secret is stored encrypted and never shown."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        SANDBOX = "sandbox", _("Sandbox")
        EMULATOR = "emulator", _("Emulator")

    class ConnectionStatus(models.TextChoices):
        NOT_TESTED = "not_tested", _("Not tested")
        CONNECTED = "connected", _("Connected")
        ERROR = "error", _("Error")

    name = models.CharField(max_length=100, unique=True)
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

    @property
    def api_base_url(self) -> str:
        if self.environment == self.Environment.PRODUCTION:
            return settings.WALMART_PRODUCTION_BASE_URL
        if self.environment == self.Environment.SANDBOX:
            return settings.WALMART_SANDBOX_BASE_URL
        return (self.emulator_base_url or settings.WALMART_EMULATOR_BASE_URL).rstrip("/")


class StoreMembership(models.Model):
    """Which user may see and operate which store."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="unique_store_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store}"
