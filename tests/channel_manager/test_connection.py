"""Test connection: token + token detail, the store marked connected or in error, missing permissions."""

from __future__ import annotations

import functools
import logging

import pytest
import requests
import responses

from channel_manager.connection import REQUIRED_PERMISSIONS, permissions_missing, store_connection_test
from channel_manager.models import Store
from walmart_client import WalmartClient

pytestmark = pytest.mark.django_db

FULL_SCOPES = {
    "content": "full_access",
    "feeds": "view_only",
    "inventory": "full_access",
    "item": "full_access",
    "lagtime": "full_access",
    "orders": "full_access",
    "price": "full_access",
    "reports": "view_only",
    "returns": "full_access",
    "rules": "full_access",
    "shipping": "full_access",
}


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def token_detail(scopes: dict, *, is_valid: bool = True) -> dict:
    return {
        "expire_at": "1560973098000",
        "issued_at": "1560972198000",
        "is_valid": is_valid,
        "is_channel_match": True,
        "scopes": scopes,
    }


def test_store_with_every_permission_is_marked_connected(store, api):
    # given
    store.connection_status = Store.ConnectionStatus.ERROR
    store.connection_error = "old failure"
    store.save()
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "tok", "expires_in": 900})
    api.add(responses.GET, base + "/v3/token/detail", json=token_detail(FULL_SCOPES))
    # when
    result = store_connection_test(store=store)
    # then
    store.refresh_from_db()
    assert result.connected is True
    assert result.error == ""
    assert result.missing_permissions == []
    assert result.scopes == FULL_SCOPES
    assert store.connection_status == Store.ConnectionStatus.CONNECTED
    assert store.connection_error == ""
    assert store.connection_checked_at == result.checked_at
    assert api.calls[1].request.headers["WM_SEC.ACCESS_TOKEN"] == "tok"


def test_missing_permissions_are_listed_and_the_store_is_in_error(store, api):
    # given a key with view-only orders and no rules scope at all
    scopes = dict(FULL_SCOPES, orders="view_only", price="no_access")
    del scopes["rules"]
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "tok", "expires_in": 900})
    api.add(responses.GET, base + "/v3/token/detail", json=token_detail(scopes))
    # when
    result = store_connection_test(store=store)
    # then
    store.refresh_from_db()
    assert result.connected is False
    assert [(m.label, m.scope, m.required, m.granted) for m in result.missing_permissions] == [
        ("Order", "orders", "full_access", "view_only"),
        ("Price", "price", "full_access", "no_access"),
        ("Rules", "rules", "full_access", "no_access"),
    ]
    assert store.connection_status == Store.ConnectionStatus.ERROR
    assert store.connection_error == (
        "The API key lacks permissions Walmart integration needs: Order (needs Full Access, has View Only), "
        "Price (needs Full Access, has No Access), Rules (needs Full Access, has No Access)."
    )


def test_rejected_credentials_mark_the_store_in_error_without_the_secret(store, api, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    base = store.api_base_url
    api.add(
        responses.POST,
        base + "/v3/token",
        status=401,
        json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "description": "Unauthorized client"}]},
    )
    # when
    result = store_connection_test(store=store)
    # then
    store.refresh_from_db()
    assert result.connected is False
    assert store.connection_status == Store.ConnectionStatus.ERROR
    assert store.connection_error.startswith(
        "Walmart rejected the Client ID / Client Secret: UNAUTHORIZED.GMP_GATEWAY_API: Unauthorized client "
        "(Walmart correlation id "
    )
    assert result.correlation_id in store.connection_error
    assert [c.request.url for c in api.calls] == [base + "/v3/token"]  # no token detail call
    secret = store.client_secret
    assert secret not in store.connection_error
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_unreachable_walmart_is_reported(store, api, settings):
    # given
    settings.WALMART_HTTP_TIMEOUT_SECONDS = 1
    api.add(responses.POST, store.api_base_url + "/v3/token", body=requests.exceptions.ConnectTimeout("no route"))
    from channel_manager.walmart import walmart_client_for_store

    client = walmart_client_for_store(store, sleep=lambda seconds: None)
    # when
    result = store_connection_test(store=store, client=client)
    # then
    store.refresh_from_db()
    assert result.connected is False
    assert store.connection_status == Store.ConnectionStatus.ERROR
    assert store.connection_error.startswith("Could not reach Walmart")


def test_invalid_token_is_an_error(store, api):
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "tok", "expires_in": 900})
    api.add(responses.GET, base + "/v3/token/detail", json=token_detail(FULL_SCOPES, is_valid=False))
    result = store_connection_test(store=store)
    store.refresh_from_db()
    assert result.connected is False
    assert store.connection_error == "Walmart reports the access token as not valid."


def test_required_permissions_follow_the_requirements_table():
    assert [(p.label, p.level) for p in REQUIRED_PERMISSIONS] == [
        ("Content", "full_access"),
        ("Get Feeds", "view_only"),
        ("Inventory", "full_access"),
        ("Items", "full_access"),
        ("Lag Time", "full_access"),
        ("Order", "full_access"),
        ("Price", "full_access"),
        ("Reports", "view_only"),
        ("Returns", "full_access"),
        ("Rules", "full_access"),
        ("Shipping", "full_access"),
    ]
    # full access satisfies a view-only requirement
    assert permissions_missing(dict(FULL_SCOPES, feeds="full_access", reports="full_access")) == []


def test_undecryptable_secret_is_reported_and_nothing_is_sent(store, api):
    Store.objects.filter(pk=store.pk).update(client_secret_encrypted="not-a-fernet-token")
    store.refresh_from_db()
    result = store_connection_test(store=store)
    store.refresh_from_db()
    assert result.connected is False
    assert store.connection_error == "The stored Client Secret cannot be decrypted; enter it again."
    assert len(api.calls) == 0


def test_missing_client_id_is_reported_and_nothing_is_sent(store, api):
    Store.objects.filter(pk=store.pk).update(client_id="")
    store.refresh_from_db()
    result = store_connection_test(store=store)
    store.refresh_from_db()
    assert result.connected is False
    assert store.connection_error == (
        "The store's Walmart credentials are incomplete: Walmart client ID and client secret are both required"
    )
    assert len(api.calls) == 0


def test_connection_test_uses_a_short_timeout_and_one_retry(store, api, settings, monkeypatch):
    # given Walmart's token endpoint answering 503 every time
    settings.WALMART_CONNECTION_TEST_TIMEOUT_SECONDS = 4
    seen_timeouts = []
    original = requests.Session.request

    def spy(self, *args, **kwargs):
        seen_timeouts.append(kwargs["timeout"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    api.add(responses.POST, store.api_base_url + "/v3/token", status=503)
    waits = []
    monkeypatch.setattr("channel_manager.walmart.WalmartClient", functools.partial(WalmartClient, sleep=waits.append))
    # when
    result = store_connection_test(store=store)
    # then two attempts (one retry after one backoff), each with the short timeout
    assert result.connected is False
    assert result.error.startswith("Walmart answered HTTP 503")
    assert seen_timeouts == [4.0, 4.0]
    assert len(waits) == 1


def test_each_connection_test_asks_walmart_for_a_new_token(store, api):
    # given
    base = store.api_base_url
    api.add(responses.POST, base + "/v3/token", json={"access_token": "tok", "expires_in": 900})
    api.add(responses.GET, base + "/v3/token/detail", json=token_detail(FULL_SCOPES))
    # when
    store_connection_test(store=store)
    store_connection_test(store=store)
    # then
    assert [c.request.url for c in api.calls].count(base + "/v3/token") == 2
