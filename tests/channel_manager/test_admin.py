"""Admin for stores (secret hidden, replaceable), memberships, and the read-only feed ledger."""

import pytest
from django.urls import reverse

from channel_manager.models import Feed, Store, StoreMembership
from tests.conftest import STORE_SECRET

pytestmark = pytest.mark.django_db


def _store_form(store: Store | None = None, **overrides) -> dict:
    data = {
        "name": store.name if store else "Admin store",
        "notification_email": "",
        "is_live": "on",
        "environment": store.environment if store else "sandbox",
        "emulator_base_url": "",
        "client_id": store.client_id if store else "admin-client",
        "new_client_secret": "",
        "listings_enabled": "on",
        "inventory_enabled": "on",
        "price_enabled": "on",
        "orders_enabled": "on",
        "returns_enabled": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    return data | overrides


def test_change_page_has_an_empty_new_secret_field_and_no_secret(superuser_client, store):
    response = superuser_client.get(reverse("admin:channel_manager_store_change", args=[store.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert '<input type="password" name="new_client_secret"' in content
    assert 'name="client_secret_encrypted"' not in content
    assert STORE_SECRET not in content
    assert store.client_secret_encrypted not in content


def test_saving_with_an_empty_new_secret_keeps_the_old_one(superuser_client, store):
    ciphertext = store.client_secret_encrypted
    response = superuser_client.post(
        reverse("admin:channel_manager_store_change", args=[store.pk]), _store_form(store, client_id="renamed")
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.client_id == "renamed"
    assert store.client_secret_encrypted == ciphertext


def test_a_new_secret_replaces_the_old_one_and_resets_the_connection(superuser_client, store):
    Store.objects.filter(pk=store.pk).update(connection_status="connected")
    response = superuser_client.post(
        reverse("admin:channel_manager_store_change", args=[store.pk]),
        _store_form(store, new_client_secret="rotated-by-ops"),
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.client_secret == "rotated-by-ops"
    assert store.connection_status == Store.ConnectionStatus.NOT_TESTED


def test_adding_a_store_requires_a_secret(superuser_client):
    response = superuser_client.post(reverse("admin:channel_manager_store_add"), _store_form())
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"new_client_secret": ["This field is required."]}
    assert Store.objects.count() == 0


def test_adding_a_store_with_a_member(superuser_client, operator):
    data = _store_form(new_client_secret="added-in-admin") | {
        "memberships-TOTAL_FORMS": "1",
        "memberships-0-user": str(operator.pk),
        "memberships-0-role": "operator",
    }
    response = superuser_client.post(reverse("admin:channel_manager_store_add"), data)
    assert response.status_code == 302
    store = Store.objects.get(name="Admin store")
    assert store.client_secret == "added-in-admin"
    assert list(StoreMembership.objects.filter(store=store).values_list("user__username", "role")) == [
        ("operator", "operator")
    ]


def test_feed_ledger_is_read_only(superuser_client, store):
    # given
    feed = Feed.objects.create(
        store=store, feed_type=Feed.FeedType.INVENTORY, walmart_feed_id="F-1", item_count=3, payload={"a": 1}
    )
    # when
    change = superuser_client.get(reverse("admin:channel_manager_feed_change", args=[feed.pk]))
    post = superuser_client.post(
        reverse("admin:channel_manager_feed_change", args=[feed.pk]), {"status": "ERROR", "item_count": "9"}
    )
    add = superuser_client.get(reverse("admin:channel_manager_feed_add"))
    delete = superuser_client.get(reverse("admin:channel_manager_feed_delete", args=[feed.pk]))
    # then
    assert change.status_code == 200
    assert 'name="status"' not in change.content.decode()
    assert "&quot;a&quot;: 1" in change.content.decode()
    assert post.status_code == 403
    assert 'type="submit" value="Save"' not in change.content.decode()
    feed.refresh_from_db()
    assert (feed.status, feed.item_count) == (Feed.Status.PENDING, 3)
    assert (add.status_code, delete.status_code) == (403, 403)


def test_feed_ledger_filters_by_status(superuser_client, store):
    Feed.objects.create(store=store, feed_type=Feed.FeedType.PRICE, walmart_feed_id="F-ok", status="PROCESSED")
    Feed.objects.create(store=store, feed_type=Feed.FeedType.PRICE, walmart_feed_id="F-bad", status="ERROR")
    response = superuser_client.get(reverse("admin:channel_manager_feed_changelist"), {"status__exact": "ERROR"})
    assert [feed.walmart_feed_id for feed in response.context["cl"].result_list] == ["F-bad"]
