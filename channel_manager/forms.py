"""Forms of the core pages. They validate input only; services do the writes.

A client secret field is always a PasswordInput that never renders its value back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from channel_manager.models import Store, StoreMembership
from channel_manager.services import STORE_SETTINGS_FIELDS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _client_secret_field(*, label: StrOrPromise, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted; never shown again."),
    )


class StoreCreateForm(forms.ModelForm):
    """Add store: name, environment, Walmart Client ID and Client Secret, notification email, store live."""

    client_secret = _client_secret_field(label=_("Client Secret"))

    class Meta:
        model = Store
        fields = ["name", "environment", "client_id", "client_secret", "notification_email", "is_live"]
        labels = {"name": _("Store name"), "notification_email": _("Notification email")}
        help_texts = {
            "environment": _(
                "Production and Sandbox are Walmart's; Emulator (demo and tests) is the built-in stand-in."
            ),
            "notification_email": _("Receives Channel Manager notifications for this store."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["environment"]).choices = Store.environment_choices()


class StoreCredentialsForm(forms.Form):
    """Change Credentials: a new Client ID and Client Secret (and the Walmart environment they belong to).

    A plain form, so an invalid submission never touches the store being shown.
    """

    environment = forms.ChoiceField(label=_("Walmart environment"), choices=Store.environment_choices)
    client_id = forms.CharField(label=_("Client ID"), max_length=255, strip=True)
    client_secret = _client_secret_field(label=_("Client Secret"))


class StoreGeneralSettingsForm(forms.ModelForm):
    """General: notification email, Walmart store live, and the on/off switch of each sync stream."""

    class Meta:
        model = Store
        fields = list(STORE_SETTINGS_FIELDS)
        labels = {"notification_email": _("Notification email")}


class MemberAddForm(forms.Form):
    """Members: add an existing user (by username) to the store with a role."""

    username = forms.CharField(label=_("Username"), max_length=150, strip=True)
    role = forms.ChoiceField(label=_("Role"), choices=StoreMembership.Role.choices, initial=StoreMembership.Role.VIEWER)

    def clean_username(self):
        username = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active user is called %(username)s.") % {"username": username})
        self.user = user
        return username


class MemberChangeForm(forms.Form):
    """Members: a new role for one member, or their removal (`membership` is looked up in the store)."""

    membership = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    role = forms.ChoiceField(choices=StoreMembership.Role.choices, required=False)
    remove = forms.BooleanField(required=False)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("remove") and not data.get("role"):
            raise forms.ValidationError(_("Choose a role, or remove the member."))
        return data
