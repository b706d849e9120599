"""Test a store's Walmart connection: get a token, read the key's permissions, record the outcome.

https://developer.walmart.com/us-marketplace/reference/gettokendetail
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from channel_manager.crypto import SecretDecryptionError
from channel_manager.models import Store
from channel_manager.signals import store_connected
from walmart_client import MemoryTokenCache, WalmartClient
from walmart_client.errors import WalmartAuthError, WalmartConnectionError, WalmartError

logger = logging.getLogger(__name__)

ACCESS_LEVELS = {"no_access": 0, "view_only": 1, "full_access": 2}
ACCESS_LABELS = {"no_access": "No Access", "view_only": "View Only", "full_access": "Full Access"}


@dataclass(frozen=True, slots=True)
class RequiredPermission:
    label: str  # as Seller Center's API key page names it
    scope: str  # as GET /v3/token/detail names it
    level: str  # full_access | view_only


# The API key configuration Walmart integrations need (channel-manager-docs/walmart-requirements.md,
# "API key configuration for Walmart"), mapped to the scope names of GET /v3/token/detail.
REQUIRED_PERMISSIONS: tuple[RequiredPermission, ...] = (
    RequiredPermission("Content", "content", "full_access"),
    RequiredPermission("Get Feeds", "feeds", "view_only"),
    RequiredPermission("Inventory", "inventory", "full_access"),
    RequiredPermission("Items", "item", "full_access"),
    RequiredPermission("Lag Time", "lagtime", "full_access"),
    RequiredPermission("Order", "orders", "full_access"),
    RequiredPermission("Price", "price", "full_access"),
    RequiredPermission("Reports", "reports", "view_only"),
    RequiredPermission("Returns", "returns", "full_access"),
    RequiredPermission("Rules", "rules", "full_access"),
    RequiredPermission("Shipping", "shipping", "full_access"),
)


@dataclass(frozen=True, slots=True)
class MissingPermission:
    label: str
    scope: str
    required: str
    granted: str  # the level Walmart reported, "no_access" when the scope is absent

    def __str__(self) -> str:
        return (
            f"{self.label} (needs {ACCESS_LABELS[self.required]}, has {ACCESS_LABELS.get(self.granted, self.granted)})"
        )


@dataclass(frozen=True, slots=True)
class ConnectionTestResult:
    connected: bool
    checked_at: datetime
    error: str = ""
    scopes: dict[str, str] = field(default_factory=dict)
    missing_permissions: list[MissingPermission] = field(default_factory=list)
    correlation_id: str | None = None


def permissions_missing(scopes: dict[str, str]) -> list[MissingPermission]:
    """Each required permission the scopes do not grant at the required level, in the table's order."""
    missing = []
    for permission in REQUIRED_PERMISSIONS:
        granted = scopes.get(permission.scope, "no_access")
        if ACCESS_LEVELS.get(granted, 0) < ACCESS_LEVELS[permission.level]:
            missing.append(MissingPermission(permission.label, permission.scope, permission.level, granted))
    return missing


def _describe(error: WalmartError) -> str:
    details = "; ".join(str(e) for e in error.errors)
    reference = f" (Walmart correlation id {error.correlation_id})" if error.correlation_id else ""
    if isinstance(error, WalmartAuthError) and error.endpoint == "POST /v3/token":
        text = "Walmart rejected the Client ID / Client Secret"
    elif isinstance(error, WalmartAuthError):
        text = "Walmart refused the access token's permission check"
    elif isinstance(error, WalmartConnectionError):
        text = "Could not reach Walmart"
    else:
        text = f"Walmart answered HTTP {error.status}" if error.status else "Walmart call failed"
    return text + (f": {details}" if details else "") + reference + "."


def store_connection_test(*, store: Store, client: WalmartClient | None = None) -> ConnectionTestResult:
    """Check `store`'s credentials against Walmart and record the outcome on the store.

    Gets a new token (never a cached one) and `GET /v3/token/detail`; the store becomes CONNECTED (error
    cleared) when both work and the key grants every permission in `REQUIRED_PERMISSIONS`, ERROR with a
    readable message (never the secret) otherwise; `connection_checked_at` is set either way. Safe to
    re-run. Never raises for a Walmart failure (it is recorded); `client` is injectable for tests.
    """
    from channel_manager.walmart import walmart_client_for_store

    now = timezone.now()
    scopes: dict[str, str] = {}
    missing: list[MissingPermission] = []
    correlation_id = None
    try:
        # Runs inside a web request: a short timeout and one retry, not a worker's patience. A private token
        # cache, so the test always asks Walmart for a new token with the credentials as they are now.
        client = client or walmart_client_for_store(
            store,
            token_cache=MemoryTokenCache(),
            timeout=float(getattr(settings, "WALMART_CONNECTION_TEST_TIMEOUT_SECONDS", 15.0)),
            max_retries=1,
        )
        detail = client.auth.token_detail()
        correlation_id = client.last_correlation_id
        scopes = detail.scopes
        missing = permissions_missing(scopes)
        if not detail.is_valid:
            error = "Walmart reports the access token as not valid."
        elif missing:
            error = "The API key lacks permissions Walmart integration needs: " + ", ".join(map(str, missing)) + "."
        else:
            error = ""
    except SecretDecryptionError:
        error = "The stored Client Secret cannot be decrypted; enter it again."
    except WalmartError as exc:
        error = _describe(exc)
        correlation_id = exc.correlation_id
    except ValueError as exc:  # e.g. an empty client id
        error = f"The store's Walmart credentials are incomplete: {exc}"
    connected = not error
    store.connection_status = Store.ConnectionStatus.CONNECTED if connected else Store.ConnectionStatus.ERROR
    store.connection_error = error
    store.connection_checked_at = now
    Store.objects.filter(pk=store.pk).update(
        connection_status=store.connection_status, connection_error=error, connection_checked_at=now
    )
    logger.info("walmart connection test store=%s connected=%s correlation_id=%s", store.pk, connected, correlation_id)
    if connected:
        store_connected.send(sender=Store, store=store)
    return ConnectionTestResult(
        connected=connected,
        checked_at=now,
        error=error,
        scopes=scopes,
        missing_permissions=missing,
        correlation_id=correlation_id,
    )
