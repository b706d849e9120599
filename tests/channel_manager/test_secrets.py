"""The Walmart client secret: encrypted at rest, rotated under a new key, a wrong key fails loudly, and the
secret (or its ciphertext) never reaches a page, the admin, a log line or an error message."""

import logging
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from channel_manager.crypto import SecretDecryptionError, secret_decrypt, secret_encrypt
from channel_manager.models import Store
from channel_manager.services import encrypted_fields, encrypted_secrets_rotate
from tests.channel_manager.urlwalk import url_patterns
from tests.conftest import STORE_SECRET
from tests.factories import StoreFactory, StoreMembershipFactory

pytestmark = pytest.mark.django_db

NEW_KEY = Fernet.generate_key().decode()
UNRELATED_KEY = Fernet.generate_key().decode()


def _raw_ciphertext(store: Store) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret_encrypted FROM channel_manager_store WHERE id = %s", [store.pk])
        return cursor.fetchone()[0]


def test_secret_round_trips_encrypted(store):
    # when
    ciphertext = _raw_ciphertext(store)
    # then: the database holds a Fernet token, not the secret, and it decrypts back
    assert ciphertext != STORE_SECRET
    assert STORE_SECRET not in ciphertext
    assert ciphertext.startswith("gAAAAA")
    assert Store.objects.get(pk=store.pk).client_secret == STORE_SECRET


def test_encrypting_twice_gives_different_tokens():
    assert secret_encrypt("same") != secret_encrypt("same")


def test_a_wrong_key_fails_loudly_without_the_secret(store, settings):
    # given: only a key the secret was not encrypted with
    settings.FIELD_ENCRYPTION_KEYS = [UNRELATED_KEY]
    # when
    with pytest.raises(SecretDecryptionError) as raised:
        Store.objects.get(pk=store.pk).client_secret  # noqa: B018
    # then
    message = str(raised.value)
    assert "Main Walmart store" in message
    assert "cannot be decrypted" in message
    assert STORE_SECRET not in message
    assert store.client_secret_encrypted not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True


def test_a_missing_key_is_a_configuration_error_not_a_fallback(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS is not set"):
        secret_encrypt("anything")


def test_a_malformed_key_is_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        secret_decrypt("gAAAAAtoken")


def test_every_encrypted_field_is_found():
    assert (Store, "client_secret_encrypted") in encrypted_fields()


def test_rotation_re_encrypts_every_secret_under_the_first_key(store, other_store, settings):
    # given: a new key first, the old ones kept after it
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    before = {store.pk: _raw_ciphertext(store), other_store.pk: _raw_ciphertext(other_store)}
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *old_keys]
    # when
    rotated = encrypted_secrets_rotate()
    # then: readable with the new key alone
    assert rotated == 2
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    for row in (store, other_store):
        assert _raw_ciphertext(row) != before[row.pk]
        assert Fernet(NEW_KEY).decrypt(_raw_ciphertext(row).encode()).decode() == STORE_SECRET
        assert Store.objects.get(pk=row.pk).client_secret == STORE_SECRET


def test_rotation_command_reports_the_count(store, settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert out.getvalue() == "Re-encrypted 1 secret under the first key.\n"
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert Store.objects.get(pk=store.pk).client_secret == STORE_SECRET


def test_rotation_with_an_undecryptable_secret_rewrites_nothing(store, settings):
    # given: one store readable, one encrypted under a key that is no longer configured
    test_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    stranger = StoreFactory(name="Encrypted elsewhere")
    settings.FIELD_ENCRYPTION_KEYS = [UNRELATED_KEY]
    stranger.client_secret = "lost-secret"
    stranger.save()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *test_keys]
    before = {row.pk: _raw_ciphertext(row) for row in (store, stranger)}
    # when
    with pytest.raises(CommandError) as raised:
        call_command("rotate_encryption_keys", stdout=StringIO())
    # then: a clear error naming the row, not the secret, and no row rewritten
    message = str(raised.value)
    assert message.startswith(f"channel_manager.Store {stranger.pk}: client_secret_encrypted cannot be decrypted")
    assert "Nothing was rotated" in message
    assert "lost-secret" not in message
    assert {row.pk: _raw_ciphertext(row) for row in (store, stranger)} == before


def test_rotation_without_keys_is_a_clear_error(store, settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS is not set"):
        call_command("rotate_encryption_keys", stdout=StringIO())


@pytest.fixture
def every_page(superuser, store) -> dict[str, str]:
    """Every page of the URL conf, GET as a superuser who is also a member of `store`: url -> body."""
    StoreMembershipFactory(store=store, user=superuser)
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    pages = [
        reverse("admin:channel_manager_store_change", args=[store.pk]),
        reverse("admin:channel_manager_store_changelist"),
        reverse("admin:channel_manager_store_history", args=[store.pk]),
        reverse("admin:channel_manager_storemembership_changelist"),
    ]
    for pattern in url_patterns():
        if pattern.is_machine_endpoint or pattern.name == "logout":
            continue
        ids = {name: store.pk for name in pattern.parameters if name in {"store_id", "object_id", "pk", "id"}}
        pages.append(pattern.url(**ids))
    responses = {url: client.get(url) for url in pages}
    # the walk is not vacuous: the store's pages and its admin page rendered
    assert responses[reverse("admin:channel_manager_store_change", args=[store.pk])].status_code == 200
    assert responses[reverse("store_connection", args=[store.pk])].status_code == 200
    return {url: _body(response) for url, response in responses.items()}


def test_secret_and_its_ciphertext_never_appear_on_any_page_or_admin_page(every_page, store):
    plaintext_leaks = [url for url, body in every_page.items() if STORE_SECRET in body]
    # the encrypted value is no one's business either (an admin page listing every field would show it)
    ciphertext_leaks = [url for url, body in every_page.items() if store.client_secret_encrypted in body]
    assert {"secret": plaintext_leaks, "ciphertext": ciphertext_leaks} == {"secret": [], "ciphertext": []}


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def test_secret_is_not_logged_while_stores_are_added_and_changed(operator_client, store, caplog):
    with caplog.at_level(logging.DEBUG):
        operator_client.post(
            reverse("store_create"),
            {"name": "Logged", "environment": "sandbox", "client_id": "id-1", "client_secret": "log-me-not-1"},
        )
        operator_client.post(
            reverse("store_connection", args=[store.pk]),
            {"environment": "sandbox", "client_id": "id-2", "client_secret": "log-me-not-2"},
        )
    assert Store.objects.get(name="Logged").client_secret == "log-me-not-1"
    assert "log-me-not" not in caplog.text


def test_proxy_models_are_not_rotated_twice(store, settings):
    # given: proxies of Store (an app's admin view of stores) share its table
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    # then: one row, rotated once
    assert [(model, name) for model, name in encrypted_fields() if model._meta.db_table == Store._meta.db_table] == [
        (Store, "client_secret_encrypted")
    ]
    assert encrypted_secrets_rotate() == 1
