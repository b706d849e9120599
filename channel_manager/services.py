"""Writes of the core: stores, their credentials and settings, memberships, and secret key rotation."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import models, transaction
from django.views.decorators.debug import sensitive_variables

from channel_manager.crypto import SecretDecryptionError, secret_rotate
from channel_manager.models import Store, StoreMembership

ENCRYPTED_FIELD_SUFFIX = "_encrypted"
STORE_SETTINGS_FIELDS = (
    "notification_email",
    "is_live",
    "listings_enabled",
    "inventory_enabled",
    "price_enabled",
    "orders_enabled",
    "returns_enabled",
)


class StoreNameTaken(Exception):
    """The user already belongs to a store with this name."""


@sensitive_variables("client_secret")
def store_create(
    *,
    user: User,
    name: str,
    environment: str,
    client_id: str,
    client_secret: str,
    notification_email: str = "",
    is_live: bool = True,
) -> Store:
    """Create a store with its encrypted secret and make `user` its first member, as its manager.

    Atomic: either the store and the membership exist, or neither. Raises StoreNameTaken when `user`
    already belongs to a store of that name (any case). Stores of other users never count, so the answer
    says nothing about them. The user's row is locked first, so two creates by one user run one after
    the other and cannot both pass the check.
    """
    store = Store(
        name=name,
        environment=environment,
        client_id=client_id,
        notification_email=notification_email,
        is_live=is_live,
    )
    store.client_secret = client_secret
    with transaction.atomic():
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        if Store.objects.filter(memberships__user=user, name__iexact=name).exists():
            raise StoreNameTaken(f"You already have a store named {name!r}.")
        store.save()
        StoreMembership.objects.create(store=store, user=user, role=StoreMembership.Role.MANAGER)
    return store


@sensitive_variables("client_secret")
def store_credentials_change(*, store: Store, client_id: str, client_secret: str, environment: str) -> Store:
    """Replace the store's Walmart credentials (and environment); the connection must be tested again.

    Safe to re-run. The secret is encrypted before it reaches the database and never returned.
    """
    store.client_id = client_id
    store.client_secret = client_secret
    store.environment = environment
    store.connection_status = Store.ConnectionStatus.NOT_TESTED
    store.connection_error = ""
    store.connection_checked_at = None
    store.save(
        update_fields=[
            "client_id",
            "client_secret_encrypted",
            "environment",
            "connection_status",
            "connection_error",
            "connection_checked_at",
            "updated_at",
        ]
    )
    return store


def store_settings_update(*, store: Store, **values) -> Store:
    """Update the General settings (notification email, store live, per-stream switches). Safe to re-run.

    Raises TypeError for a field that is not a General setting (credentials have their own service).
    """
    unknown = set(values) - set(STORE_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a store setting: {', '.join(sorted(unknown))}")
    for field, value in values.items():
        setattr(store, field, value)
    store.save(update_fields=[*values, "updated_at"])
    return store


class MembershipRefused(Exception):
    """A change of members that would leave the store without a manager, or name no known user."""


def store_member_add(*, store: Store, user: User, role: str = StoreMembership.Role.VIEWER) -> StoreMembership:
    """Let `user` see `store` with `role` (an existing member keeps the membership, with the new role).
    Safe to re-run: keyed on (store, user)."""
    membership, created = StoreMembership.objects.get_or_create(store=store, user=user, defaults={"role": role})
    if not created and membership.role != role:
        store_member_role_set(membership=membership, role=role)
    return membership


def store_member_role_set(*, membership: StoreMembership, role: str) -> StoreMembership:
    """Give a member another role. Raises MembershipRefused when that would leave the store without a
    manager; the store's memberships are locked first, so two managers demoting each other at once
    cannot both succeed."""
    with transaction.atomic():
        _managers_lock(membership.store_id)
        if role != StoreMembership.Role.MANAGER:
            _refuse_if_last_manager(membership)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def store_member_remove(*, membership: StoreMembership) -> None:
    """Take a member out of the store. Raises MembershipRefused for the store's last manager."""
    with transaction.atomic():
        _managers_lock(membership.store_id)
        _refuse_if_last_manager(membership)
        membership.delete()


def _managers_lock(store_id: int) -> None:
    list(StoreMembership.objects.select_for_update().filter(store_id=store_id).values_list("pk", flat=True))


def _refuse_if_last_manager(membership: StoreMembership) -> None:
    managers = StoreMembership.objects.filter(store_id=membership.store_id, role=StoreMembership.Role.MANAGER)
    if membership.role == StoreMembership.Role.MANAGER and not managers.exclude(pk=membership.pk).exists():
        raise MembershipRefused("A store keeps at least one manager: make another member manager first.")


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) holding a Fernet token: by convention, text fields named `*_encrypted`."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:  # same table as its concrete model, which is listed already
            continue
        for field in model._meta.local_concrete_fields:
            if field.name.endswith(ENCRYPTED_FIELD_SUFFIX) and isinstance(field, models.TextField | models.CharField):
                found.append((model, field.name))
    return found


def encrypted_secrets_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS; return how many.

    Covers every `*_encrypted` field of every installed model. All or nothing: one transaction with the
    rows locked, so a secret that no configured key can decrypt raises SecretDecryptionError (naming the
    model, row and field, never the secret) and nothing is rewritten. Safe to re-run: rotating a token
    already under the first key just re-encrypts it.
    """
    rotated = 0
    with transaction.atomic():
        for model, field_name in encrypted_fields():
            rows = model._default_manager.select_for_update().exclude(**{field_name: ""}).order_by("pk")
            batch = []
            for row in rows.only("pk", field_name).iterator(chunk_size=batch_size):
                try:
                    setattr(row, field_name, secret_rotate(getattr(row, field_name)))
                except SecretDecryptionError:
                    raise SecretDecryptionError(
                        f"{model._meta.label} {row.pk}: {field_name} cannot be decrypted with any key in "
                        "FIELD_ENCRYPTION_KEYS. Nothing was rotated. Add the key it was encrypted with "
                        "(after the new one), or enter that secret again, then re-run."
                    ) from None
                batch.append(row)
                if len(batch) >= batch_size:
                    model._default_manager.bulk_update(batch, [field_name])
                    rotated += len(batch)
                    batch = []
            if batch:
                model._default_manager.bulk_update(batch, [field_name])
                rotated += len(batch)
    return rotated
