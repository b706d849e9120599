"""Reads of stores, always scoped to what a user may see."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from channel_manager.models import Store


def store_list(*, user) -> QuerySet[Store]:
    """The stores `user` may see: all of them for a superuser, otherwise those they are a member of."""
    if user.is_superuser:
        return Store.objects.all()
    return Store.objects.filter(memberships__user=user)


def store_get(*, user, store_id: int) -> Store:
    """One store `user` may see; Http404 otherwise (never 403, so a store's existence does not leak)."""
    return get_object_or_404(store_list(user=user), pk=store_id)
