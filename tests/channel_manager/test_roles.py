"""Store roles on the dashboard: managers manage members (a store always keeps one manager), and each page
hides what the user's role or catalog permissions do not allow."""

import pytest
from django.urls import reverse

from channel_manager.models import StoreMembership
from tests.factories import StoreMembershipFactory, UserFactory, catalog_group_join
from tests.listings.factories import ProductFactory
from tests.returns.factories import shipped_order

pytestmark = pytest.mark.django_db

Role = StoreMembership.Role


def _member(store, role, username=None):
    user = UserFactory(username=username or f"member-{role}")
    StoreMembershipFactory(store=store, user=user, role=role)
    return user


def _roles(store) -> dict[str, str]:
    return dict(StoreMembership.objects.filter(store=store).values_list("user__username", "role"))


def test_a_manager_adds_a_member_sets_a_role_and_removes_them(operator_client, store):
    UserFactory(username="newcomer")
    url = reverse("store_members", args=[store.pk])
    # add
    response = operator_client.post(url, {"action": "add", "username": "newcomer", "role": "viewer"})
    assert response.status_code == 302
    assert _roles(store) == {"operator": "manager", "newcomer": "viewer"}
    # set a role
    membership = StoreMembership.objects.get(store=store, user__username="newcomer")
    operator_client.post(url, {"action": "change", "membership": membership.pk, "role": "operator"})
    assert _roles(store) == {"operator": "manager", "newcomer": "operator"}
    # remove
    operator_client.post(url, {"action": "change", "membership": membership.pk, "remove": "1"})
    assert _roles(store) == {"operator": "manager"}
    page = operator_client.get(url).content.decode()
    assert 'data-member="operator"' in page
    assert 'data-member="newcomer"' not in page


def test_the_last_manager_can_be_neither_demoted_nor_removed(operator_client, store):
    url = reverse("store_members", args=[store.pk])
    membership = StoreMembership.objects.get(store=store, user__username="operator")
    for data in ({"role": "viewer"}, {"remove": "1"}):
        response = operator_client.post(url, {"action": "change", "membership": membership.pk, **data}, follow=True)
        assert "A store keeps at least one manager" in response.content.decode()
    assert _roles(store) == {"operator": "manager"}


def test_an_unknown_username_is_refused_and_nothing_is_added(operator_client, store):
    url = reverse("store_members", args=[store.pk])
    response = operator_client.post(url, {"action": "add", "username": "nobody", "role": "viewer"}, follow=True)
    assert "No active user is called nobody." in response.content.decode()
    assert _roles(store) == {"operator": "manager"}


def test_a_membership_of_another_store_cannot_be_changed_from_this_one(operator_client, store, other_store):
    foreign = StoreMembershipFactory(store=other_store, user=UserFactory(username="foreigner"), role=Role.MANAGER)
    url = reverse("store_members", args=[store.pk])
    response = operator_client.post(url, {"action": "change", "membership": foreign.pk, "remove": "1"})
    assert response.status_code == 404
    assert StoreMembership.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_members_page_is_for_managers_only(client, store, role):
    client.force_login(_member(store, role))
    url = reverse("store_members", args=[store.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "add", "username": f"member-{role}", "role": "manager"}).status_code == 403
    assert _roles(store)[f"member-{role}"] == role


def test_order_page_shows_actions_to_operators_only(client, store):
    order = shipped_order(store, quantity=2)
    order_url = reverse("orders:order_detail", args=[store.pk, order.pk])
    client.force_login(_member(store, Role.VIEWER))
    viewer_page = client.get(order_url).content.decode()
    client.force_login(_member(store, Role.OPERATOR))
    operator_page = client.get(order_url).content.decode()
    refresh = reverse("orders:order_refresh", args=[store.pk, order.pk])
    assert refresh not in viewer_page
    assert refresh in operator_page
    assert reverse("store_settings", args=[store.pk]) not in operator_page  # Channel Settings: managers


def test_listings_tab_shows_the_action_bar_to_operators_only(client, store):
    url = reverse("listings:listing_list", args=[store.pk])
    client.force_login(_member(store, Role.VIEWER))
    assert 'id="id_action"' not in client.get(url).content.decode()
    client.force_login(_member(store, Role.OPERATOR))
    assert 'id="id_action"' in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("group", "shown"),
    [
        ("Catalog viewers", set()),
        ("Catalog editors", {"product_create", "product_edit"}),
        ("Catalog importers", {"product_create", "product_edit", "import", "export"}),
    ],
)
def test_catalog_page_shows_what_the_permissions_allow(client, group, shown):
    product = ProductFactory(sku="SHOWN-1")
    client.force_login(catalog_group_join(UserFactory(username="catalog-user"), group))
    page = client.get(reverse("listings:product_list")).content.decode()
    links = {
        "product_create": reverse("listings:product_create"),
        "product_edit": reverse("listings:product_edit", args=[product.pk]),
        "import": reverse("listings:import"),
        "export": reverse("listings:export"),
    }
    assert {name for name, url in links.items() if f'href="{url}' in page} == shown
    assert "SHOWN-1" in page


def test_a_user_without_catalog_permission_sees_no_product(client, store):
    ProductFactory(sku="HIDDEN-1")
    client.force_login(_member(store, Role.MANAGER))
    assert client.get(reverse("listings:product_list")).status_code == 403
    assert client.get(reverse("listings:export")).status_code == 403


def test_import_jobs_belong_to_their_user_and_staff_see_all(client, operator, superuser):
    from listings.models import ImportJob

    mine = ImportJob.objects.create(file="a.csv", original_filename="mine.csv", created_by=operator, status="done")
    other_user = catalog_group_join(UserFactory(username="other-importer"))
    theirs = ImportJob.objects.create(
        file="b.csv", original_filename="theirs.csv", created_by=other_user, status="done"
    )
    client.force_login(operator)
    assert client.get(reverse("listings:import_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("listings:import_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("listings:import_errors_csv", args=[theirs.pk])).status_code == 404
    page = client.get(reverse("listings:import")).content.decode()
    assert "mine.csv" in page
    assert "theirs.csv" not in page
    client.force_login(superuser)
    assert client.get(reverse("listings:import_detail", args=[theirs.pk])).status_code == 200
