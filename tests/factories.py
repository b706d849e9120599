"""factory-boy factories shared by every app's tests."""

import factory
from django.contrib.auth import get_user_model

from channel_manager.models import Store, StoreMembership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda number: f"operator{number}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda number: f"Walmart store {number}")
    environment = Store.Environment.EMULATOR
    client_id = factory.Sequence(lambda number: f"client-{number}")
    client_secret = "s3cret-value-never-shown"


class StoreMembershipFactory(factory.django.DjangoModelFactory):
    """A member with every right in the store (manager) unless a role is given."""

    class Meta:
        model = StoreMembership

    store = factory.SubFactory(StoreFactory)
    user = factory.SubFactory(UserFactory)
    role = StoreMembership.Role.MANAGER


def catalog_group_join(user, group: str = "Catalog importers"):
    """Put `user` in one of the catalog groups created on migrate (listings/permissions.py)."""
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=group))
    return user
