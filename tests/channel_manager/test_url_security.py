"""Security over the whole URL conf: every page needs login, every form needs a CSRF token, and a store's
pages are a 404 for anyone who is not its member. Pages that apps add later are covered automatically;
the only exemptions are the short lists in urlwalk.py (PUBLIC_PAGES, MACHINE_PREFIXES)."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from channel_manager.models import Store
from tests.channel_manager.urlwalk import MACHINE_PREFIXES, PUBLIC_PAGES, url_patterns

pytestmark = pytest.mark.django_db

MACHINE_ENDPOINT_STATUSES = {400, 401, 403, 404, 405}


def test_the_walk_finds_the_core_pages():
    names = {pattern.name for pattern in url_patterns()}
    assert {"store_list", "store_create", "store_detail", "store_settings", "store_connection", "healthz"} <= names
    assert {"login", "logout", "admin:index", "admin:channel_manager_store_change"} <= names


def test_only_listed_pages_opt_out_of_login():
    # given: views marked @login_not_required
    opted_out = {
        pattern.name or pattern.route
        for pattern in url_patterns()
        if getattr(pattern.callback, "login_required", True) is False and not pattern.is_machine_endpoint
    }
    # then: each one is a listed public page
    assert opted_out <= set(PUBLIC_PAGES), f"Unlisted pages without login: {sorted(opted_out - set(PUBLIC_PAGES))}"


def test_every_page_redirects_an_anonymous_visitor_to_login(client):
    login_paths = {resolve_url(settings.LOGIN_URL), reverse("admin:login")}
    failures = []
    for pattern in url_patterns():
        url = pattern.url()
        response = client.get(url)
        if pattern.name in PUBLIC_PAGES:
            ok = response.status_code in PUBLIC_PAGES[pattern.name]
        elif pattern.is_machine_endpoint:
            # refused, or (for a human page of a machine app, like the emulator's inspector) sent to login
            ok = response.status_code in MACHINE_ENDPOINT_STATUSES or _is_login_redirect(response, login_paths)
        else:
            ok = _is_login_redirect(response, login_paths)
        if not ok:
            failures.append(f"{url} ({pattern.name}): {response.status_code} {response.get('Location', '')}")
    assert failures == []


def _is_login_redirect(response, login_paths: set[str]) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path in login_paths


def test_only_machine_endpoints_are_exempt_from_csrf():
    exempt = [
        pattern.route
        for pattern in url_patterns()
        if getattr(pattern.callback, "csrf_exempt", False) and not pattern.is_machine_endpoint
    ]
    assert exempt == []


def test_every_form_rejects_a_post_without_csrf_token(operator, store):
    # given: a logged-in member, posting without the token
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    before = list(Store.objects.values())
    failures = []
    for pattern in url_patterns():
        if pattern.is_machine_endpoint:
            continue
        url = pattern.url(**({"store_id": store.pk} if "store_id" in pattern.parameters else {}))
        response = client.post(url, {"name": "x", "client_id": "x", "client_secret": "x"})
        if response.status_code != 403:
            failures.append(f"{url}: {response.status_code}")
    # then: every POST was refused and nothing changed
    assert failures == []
    assert list(Store.objects.values()) == before


def test_login_form_rejects_a_post_without_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "operator", "password": "correct horse battery staple"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_every_store_page_is_404_for_a_non_member(operator_client, store, other_store):
    # given: store-scoped pages, asked for a store the operator is not a member of
    store_pages = [p for p in url_patterns() if "store_id" in p.parameters and not p.is_machine_endpoint]
    assert len(store_pages) >= 5
    before = list(Store.objects.values())
    failures = []
    for pattern in store_pages:
        url = pattern.url(store_id=other_store.pk)
        response = operator_client.get(url)
        if response.status_code == 405:
            response = operator_client.post(url, {"client_id": "stolen", "client_secret": "x"})
        if response.status_code != 404:
            failures.append(f"{url}: {response.status_code}")
    assert failures == []
    assert list(Store.objects.values()) == before


def test_machine_prefixes_are_paths():
    assert all(prefix.startswith("/") and prefix.endswith("/") for prefix in MACHINE_PREFIXES)
