"""Reads of stores, always scoped to what a user may see, with what the user may do there."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from channel_manager.models import Store, StoreMembership

Role = StoreMembership.Role


@dataclass(frozen=True)
class StoreAccess:
    """What one user may do in one store (`store.access` on a store read through these selectors); the
    templates use it to hide what the user may not do."""

    role: str

    @property
    def can_operate(self) -> bool:
        return StoreMembership.role_allows(self.role, Role.OPERATOR)

    @property
    def can_manage(self) -> bool:
        return StoreMembership.role_allows(self.role, Role.MANAGER)


def store_list(*, user, role: str = Role.VIEWER) -> QuerySet[Store]:
    """The stores `user` may see with at least `role`: all of them for a superuser, otherwise those they
    are a member of with that role or a higher one. Each store carries `member_role`: the user's role there
    (None for a superuser who is not a member)."""
    member_role = StoreMembership.objects.filter(store=OuterRef("pk"), user=user).values("role")[:1]
    stores = Store.objects.annotate(member_role=Subquery(member_role))
    if user.is_superuser:
        return stores
    roles = [value for value in Role.values if StoreMembership.role_allows(value, role)]
    return stores.filter(memberships__user=user, memberships__role__in=roles)


def store_role(*, user, store: Store) -> str | None:
    """`user`'s role in `store` (a superuser is a manager everywhere); None when not a member."""
    if user.is_superuser:
        return Role.MANAGER
    if hasattr(store, "member_role"):
        return store.member_role
    return StoreMembership.objects.filter(store=store, user=user).values_list("role", flat=True).first()


def store_get(*, user, store_id: int, role: str = Role.VIEWER) -> Store:
    """One store `user` may see, with `store.access`. Http404 when the user is not a member (never 403, so
    a store's existence does not leak); PermissionDenied (403) when the user's role there is below `role`."""
    store = store_list(user=user).filter(pk=store_id).first()
    role_here = store_role(user=user, store=store) if store is not None else None
    if store is None or role_here is None:
        raise Http404("No such store.")
    access = StoreAccess(role=role_here)
    if not StoreMembership.role_allows(access.role, role):
        raise PermissionDenied(f"Your role in this store does not allow this ({Role(role).label} needed).")
    store.access = access
    return store
