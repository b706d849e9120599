"""Admin: every action of every model admin checks a permission. Staff who may only view a model get none
of its actions (and a POST of one changes nothing); staff holding the permissions an action names get it."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _actions():
    """(model admin, action name, permissions it needs) for every action of every registered admin."""
    found = []
    for model_admin in admin.site._registry.values():
        for action in model_admin.actions or []:
            function = action if callable(action) else getattr(model_admin, action)
            name = getattr(function, "__name__", str(action))
            found.append((model_admin, name, tuple(getattr(function, "allowed_permissions", ()))))
    return found


def _staff(*codenames_by_model):
    user = UserFactory(is_staff=True)
    for model, codename in codenames_by_model:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=model._meta.app_label, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)  # a fresh instance: no permission cache


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_every_admin_action_names_the_permissions_it_needs():
    unchecked = [f"{type(model_admin).__name__}.{name}" for model_admin, name, needs in _actions() if not needs]
    assert _actions(), "no admin action found"
    assert unchecked == []


@pytest.mark.parametrize(
    ("model_admin", "name", "needs"),
    _actions(),
    ids=[f"{type(model_admin).__name__}.{name}" for model_admin, name, _ in _actions()],
)
def test_an_admin_action_is_offered_only_with_its_permissions(model_admin, name, needs):
    model = model_admin.model
    viewer = _staff((model, f"view_{model._meta.model_name}"))
    holder = _staff(
        (model, f"view_{model._meta.model_name}"), *[(model, f"{need}_{model._meta.model_name}") for need in needs]
    )
    assert name not in model_admin.get_actions(_request(viewer))
    assert name in model_admin.get_actions(_request(holder))
