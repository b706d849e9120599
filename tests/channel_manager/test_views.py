"""The stores page, Add store, the store view and its Channel Settings, driven through the real forms."""

import pytest
import responses
from django.urls import reverse

from channel_manager.models import Store, StoreMembership
from tests.conftest import STORE_SECRET
from tests.factories import StoreFactory, StoreMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_STORE = {
    "name": "Acme Walmart",
    "environment": "sandbox",
    "client_id": "acme-client-id",
    "client_secret": "acme-client-secret-123",
    "notification_email": "alerts@acme.example",
    "is_live": "on",
}


def test_stores_page_lists_only_the_users_stores_with_their_status(operator_client, store, other_store):
    # given
    Store.objects.filter(pk=store.pk).update(connection_status=Store.ConnectionStatus.ERROR, connection_error="401")
    # when
    response = operator_client.get(reverse("store_list"))
    # then
    assert response.status_code == 200
    assert [s.name for s in response.context["stores"]] == ["Main Walmart store"]
    content = response.content.decode()
    assert "Channel Manager Marketplace Stores" in content
    assert 'aria-label="View Main Walmart store"' in content
    assert reverse("store_detail", args=[store.pk]) in content
    assert '<span class="status status-error">Error</span>' in content
    assert "Someone else" not in content


def test_superuser_sees_every_store(superuser_client, store, other_store):
    response = superuser_client.get(reverse("store_list"))
    assert [s.name for s in response.context["stores"]] == ["Main Walmart store", "Someone else's store"]


def test_stores_page_without_stores_offers_to_add_one(operator_client, operator):
    response = operator_client.get(reverse("store_list"))
    assert list(response.context["stores"]) == []
    assert "No stores yet." in response.content.decode()


def test_add_store_creates_it_with_encrypted_secret_and_makes_the_creator_a_member(operator_client, operator):
    # when
    response = operator_client.post(reverse("store_create"), NEW_STORE)
    # then
    store = Store.objects.get(name="Acme Walmart")
    assert response.status_code == 302
    assert response["Location"] == reverse("store_connection", args=[store.pk])
    assert (store.environment, store.client_id, store.notification_email, store.is_live) == (
        "sandbox",
        "acme-client-id",
        "alerts@acme.example",
        True,
    )
    assert store.client_secret == "acme-client-secret-123"
    assert "acme-client-secret-123" not in store.client_secret_encrypted
    assert store.connection_status == Store.ConnectionStatus.NOT_TESTED
    assert list(StoreMembership.objects.filter(store=store).values_list("user__username", flat=True)) == ["operator"]


def test_add_store_unchecked_live_switch_stages_offers(operator_client):
    operator_client.post(reverse("store_create"), {**NEW_STORE, "is_live": ""})
    assert Store.objects.get(name="Acme Walmart").is_live is False


def test_add_store_with_the_name_of_one_of_your_stores_is_rejected_and_nothing_is_written(operator_client, store):
    # when: the name of a store the operator belongs to, in another case
    response = operator_client.post(reverse("store_create"), {**NEW_STORE, "name": store.name.upper()})
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [f"You already have a store named {store.name.upper()!r}."]
    assert Store.objects.count() == 1
    assert StoreMembership.objects.count() == 1


def test_the_name_of_another_operators_store_is_not_revealed(operator_client, other_store):
    # given: a store of another operator; when: the same name is chosen
    response = operator_client.post(reverse("store_create"), {**NEW_STORE, "name": other_store.name})
    # then: it is accepted like any free name, so the answer says nothing about the other store
    assert response.status_code == 302
    created = Store.objects.exclude(pk=other_store.pk).get()
    assert created.name == other_store.name
    assert list(created.memberships.values_list("user__username", flat=True)) == ["operator"]
    assert list(other_store.memberships.all()) == []


def test_add_store_without_secret_is_rejected_and_the_typed_secret_is_not_rendered_back(operator_client):
    # when: the client id is missing, the secret is typed
    response = operator_client.post(reverse("store_create"), {**NEW_STORE, "client_id": ""})
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"client_id": ["This field is required."]}
    assert "acme-client-secret-123" not in response.content.decode()
    assert Store.objects.count() == 0

    response = operator_client.post(reverse("store_create"), {**NEW_STORE, "client_secret": "   "})
    assert response.context["form"].errors == {"client_secret": ["This field is required."]}
    assert Store.objects.count() == 0


def test_add_store_rejects_an_unknown_environment(operator_client):
    response = operator_client.post(reverse("store_create"), {**NEW_STORE, "environment": "staging"})
    assert response.context["form"].errors == {
        "environment": ["Select a valid choice. staging is not one of the available choices."]
    }
    assert Store.objects.count() == 0


def test_store_view_without_tab_pages_shows_the_store_summary_and_settings_button(operator_client, store, settings):
    settings.ROOT_URLCONF = "tests.channel_manager.urls_without_tabs"
    response = operator_client.get(reverse("store_detail", args=[store.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1>Main Walmart store</h1>" in content
    assert f'href="{reverse("store_settings", args=[store.pk])}">Channel Settings</a>' in content


def test_store_view_opens_on_the_first_tab_that_exists(operator_client, store, settings):
    # given: a URL conf where only the orders app has its list page
    settings.ROOT_URLCONF = "tests.channel_manager.urls_with_orders_tab"
    # when
    response = operator_client.get(f"/stores/{store.pk}/")
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/stores/{store.pk}/orders/"


def test_store_tabs_link_the_tabs_that_exist(operator_client, store, settings):
    settings.ROOT_URLCONF = "tests.channel_manager.urls_with_orders_tab"
    response = operator_client.get(f"/stores/{store.pk}/settings/")
    content = response.content.decode()
    assert f'<a href="/stores/{store.pk}/orders/">Orders</a>' in content
    assert ">Listings</a>" not in content
    assert ">Returns</a>" not in content


def test_channel_settings_links_connection_and_general(operator_client, store):
    response = operator_client.get(reverse("store_settings", args=[store.pk]))
    assert response.status_code == 200
    links = {link.title: link.url for link in response.context["sections"]}
    assert links["Walmart Connection"] == reverse("store_connection", args=[store.pk])
    assert links["General"] == reverse("store_general_settings", args=[store.pk])
    assert f'href="{links["Walmart Connection"]}"' in response.content.decode()


def test_connection_page_shows_client_id_and_a_masked_secret(operator_client, store):
    response = operator_client.get(reverse("store_connection", args=[store.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert f"<code>{store.client_id}</code>" in content
    assert "&bull;&bull;&bull;&bull;" in content
    assert STORE_SECRET not in content
    assert store.client_secret_encrypted not in content
    assert f'action="{reverse("store_connection_test", args=[store.pk])}"' in content


def test_change_credentials_replaces_both_and_resets_the_connection_status(operator_client, store):
    # given
    Store.objects.filter(pk=store.pk).update(connection_status="error", connection_error="401 Unauthorized")
    # when
    response = operator_client.post(
        reverse("store_connection", args=[store.pk]),
        {"environment": "production", "client_id": "new-id", "client_secret": "new-secret-456"},
    )
    # then
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.environment, store.client_id, store.client_secret) == ("production", "new-id", "new-secret-456")
    assert (store.connection_status, store.connection_error, store.connection_checked_at) == ("not_tested", "", None)


def test_change_credentials_without_secret_changes_nothing(operator_client, store):
    before = Store.objects.values().get(pk=store.pk)
    response = operator_client.post(
        reverse("store_connection", args=[store.pk]),
        {"environment": "production", "client_id": "new-id", "client_secret": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"client_secret": ["This field is required."]}
    assert Store.objects.values().get(pk=store.pk) == before
    assert f"<code>{before['client_id']}</code>" in response.content.decode()


def test_connection_test_reports_the_outcome_recorded_on_the_store(operator_client, store):
    # given: Walmart refuses the store's credentials
    with responses.RequestsMock() as walmart:
        walmart.add(
            responses.POST,
            store.api_base_url + "/v3/token",
            status=401,
            json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "description": "Unauthorized client"}]},
        )
        # when
        response = operator_client.post(reverse("store_connection_test", args=[store.pk]), follow=True)
    # then
    assert response.redirect_chain == [(reverse("store_connection", args=[store.pk]), 302)]
    store.refresh_from_db()
    assert store.connection_status == Store.ConnectionStatus.ERROR
    assert store.connection_error.startswith(
        "Walmart rejected the Client ID / Client Secret: UNAUTHORIZED.GMP_GATEWAY_API: Unauthorized client"
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"Walmart did not accept the connection: {store.connection_error}"
    ]


def test_connection_test_is_post_only(operator_client, store):
    assert operator_client.get(reverse("store_connection_test", args=[store.pk])).status_code == 405


def test_general_settings_turn_streams_off_and_set_the_email(operator_client, store):
    # when: only inventory and orders stay on
    response = operator_client.post(
        reverse("store_general_settings", args=[store.pk]),
        {"notification_email": "ops@example.com", "inventory_enabled": "on", "orders_enabled": "on"},
    )
    # then
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.notification_email == "ops@example.com"
    assert (
        store.is_live,
        store.listings_enabled,
        store.inventory_enabled,
        store.price_enabled,
        store.orders_enabled,
        store.returns_enabled,
    ) == (False, False, True, False, True, False)


def test_general_settings_reject_a_bad_email_and_change_nothing(operator_client, store):
    before = Store.objects.values().get(pk=store.pk)
    response = operator_client.post(reverse("store_general_settings", args=[store.pk]), {"notification_email": "x"})
    assert response.context["form"].errors == {"notification_email": ["Enter a valid email address."]}
    assert Store.objects.values().get(pk=store.pk) == before


@pytest.mark.parametrize("url_name", ["store_detail", "store_settings", "store_connection", "store_general_settings"])
def test_non_member_gets_404_and_cannot_change_anything(operator_client, other_store, url_name):
    before = Store.objects.values().get(pk=other_store.pk)
    url = reverse(url_name, args=[other_store.pk])
    assert operator_client.get(url).status_code == 404
    response = operator_client.post(
        url, {"environment": "sandbox", "client_id": "stolen", "client_secret": "x", "notification_email": ""}
    )
    assert response.status_code in {404, 405}
    assert Store.objects.values().get(pk=other_store.pk) == before


def test_non_member_cannot_test_another_stores_connection(operator_client, other_store):
    assert operator_client.post(reverse("store_connection_test", args=[other_store.pk])).status_code == 404


def test_missing_store_is_404(operator_client, store):
    assert operator_client.get(reverse("store_settings", args=[store.pk + 1000])).status_code == 404


def test_member_of_two_stores_sees_both(client):
    user = UserFactory(username="multi")
    first, second = StoreFactory(name="A"), StoreFactory(name="B")
    StoreMembershipFactory(store=first, user=user)
    StoreMembershipFactory(store=second, user=user)
    client.force_login(user)
    response = client.get(reverse("store_list"))
    assert [s.name for s in response.context["stores"]] == ["A", "B"]
