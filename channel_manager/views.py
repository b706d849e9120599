"""Dashboard pages of the core: the stores page, add store, the store view and its Channel Settings.

Thin: selectors load (a store the user may not see is a 404), forms validate, services write.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channel_manager.connection import store_connection_test
from channel_manager.forms import (
    MemberAddForm,
    MemberChangeForm,
    StoreCreateForm,
    StoreCredentialsForm,
    StoreGeneralSettingsForm,
)
from channel_manager.http import AuthenticatedHttpRequest
from channel_manager.models import Store, StoreMembership
from channel_manager.selectors import Role, store_get, store_list
from channel_manager.services import (
    MembershipRefused,
    StoreNameTaken,
    store_create,
    store_credentials_change,
    store_member_add,
    store_member_remove,
    store_member_role_set,
    store_settings_update,
)
from channel_manager.settings_sections import settings_links

# The store view's tabs, in order: (tab, label, URL name taking the store id). A tab whose app has
# not registered its page yet is simply not shown.
STORE_TABS = (
    ("listings", "Listings", "listings:listing_list"),
    ("orders", "Orders", "orders:order_list"),
    ("returns", "Returns", "returns:return_list"),
)


def _posted(request: HttpRequest):
    """The submitted data for a bound form, or None (an unbound form) on GET."""
    return request.POST if request.method == "POST" else None


def home(request: HttpRequest) -> HttpResponse:
    return redirect("store_list")


@require_GET
def store_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "channel_manager/store_list.html", {"stores": store_list(user=request.user)})


@sensitive_post_parameters("client_secret")
@require_http_methods(["GET", "POST"])
def store_create_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StoreCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            store = store_create(user=request.user, **form.cleaned_data)
        except StoreNameTaken as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Store {store.name} added. Test its connection to Walmart.")
            return redirect("store_connection", store_id=store.pk)
    return render(request, "channel_manager/store_create.html", {"form": form})


@require_GET
def store_detail_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """The store view opens on its first tab; until an app provides one, a summary page is shown."""
    store = store_get(user=request.user, store_id=store_id)
    for _tab, _label, url_name in STORE_TABS:
        try:
            return redirect(reverse(url_name, args=[store.pk]))
        except NoReverseMatch:
            continue
    return render(request, "channel_manager/store_detail.html", {"store": store, "active_tab": None})


@require_GET
def store_settings_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    return render(
        request,
        "channel_manager/store_settings.html",
        {"store": store, "sections": settings_links(store_id=store.pk), "active_tab": "settings"},
    )


@sensitive_post_parameters("client_secret")
@require_http_methods(["GET", "POST"])
def store_connection_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """Walmart Connection: the credentials in use (secret masked) and the Change Credentials form."""
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    form = StoreCredentialsForm(_posted(request), initial={"environment": store.environment})
    if request.method == "POST" and form.is_valid():
        store_credentials_change(store=store, **form.cleaned_data)
        messages.success(request, "Credentials saved. Test the connection to check them with Walmart.")
        return redirect("store_connection", store_id=store.pk)
    return render(
        request,
        "channel_manager/store_connection.html",
        {"store": store, "form": form, "active_tab": "settings", "show_form": request.method == "POST"},
    )


@require_POST
def store_connection_test_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """Ask Walmart for a token with the stored credentials and record the outcome on the store."""
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    store_connection_test(store=store)
    store.refresh_from_db(fields=["connection_status", "connection_error", "connection_checked_at"])
    if store.connection_status == Store.ConnectionStatus.CONNECTED:
        messages.success(request, "Connected to Walmart.")
    else:
        messages.error(request, f"Walmart did not accept the connection: {store.connection_error or 'no details'}")
    return redirect("store_connection", store_id=store.pk)


@require_http_methods(["GET", "POST"])
def store_general_settings_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """General: notification email, store live, and the per-stream on/off switches."""
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    form = StoreGeneralSettingsForm(_posted(request), instance=Store.objects.get(pk=store.pk))
    if request.method == "POST" and form.is_valid():
        store_settings_update(store=store, **form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("store_general_settings", store_id=store.pk)
    return render(
        request, "channel_manager/store_general_settings.html", {"store": store, "form": form, "active_tab": "settings"}
    )


@require_http_methods(["GET", "POST"])
def store_members_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """Members (managers only): who may see the store and their role; add a user, change a role, remove."""
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    add_form = MemberAddForm(request.POST if request.POST.get("action") == "add" else None)
    change_form = MemberChangeForm(request.POST if request.POST.get("action") == "change" else None)
    if request.method == "POST":
        try:
            if add_form.is_valid():
                membership = store_member_add(store=store, user=add_form.user, role=add_form.cleaned_data["role"])
                messages.success(request, f"{membership.user.get_username()} is a {membership.get_role_display()}.")
                return redirect("store_members", store_id=store.pk)
            if change_form.is_valid():
                membership = get_object_or_404(
                    StoreMembership.objects.select_related("user"),
                    pk=change_form.cleaned_data["membership"],
                    store=store,
                )
                if change_form.cleaned_data["remove"]:
                    store_member_remove(membership=membership)
                    messages.success(request, f"{membership.user.get_username()} is no longer a member.")
                else:
                    store_member_role_set(membership=membership, role=change_form.cleaned_data["role"])
                    messages.success(request, f"{membership.user.get_username()} is a {membership.get_role_display()}.")
                return redirect("store_members", store_id=store.pk)
        except MembershipRefused as error:
            messages.error(request, str(error))
            return redirect("store_members", store_id=store.pk)
        for form in (add_form, change_form):
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, str(message))
    members = StoreMembership.objects.filter(store=store).select_related("user").order_by("user__username")
    return render(
        request,
        "channel_manager/store_members.html",
        {
            "store": store,
            "members": members,
            "add_form": add_form,
            "roles": StoreMembership.Role.choices,
            "active_tab": "settings",
        },
    )


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachable: 200 with each check, or 503 naming what failed."""
    from channel_manager.health import health_checks

    checks = health_checks(database_connection=connection)
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)
