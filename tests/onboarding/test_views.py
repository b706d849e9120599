"""The Walmart items page: counts, the Unmanaged list, linking one item with the search box, creating a
product from one, bulk ignore, starting an import, the first-push preview and its confirmation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from listings.models import Listing, Product
from onboarding.models import StoreOnboarding, WalmartImport, WalmartItem
from onboarding.services import walmart_items_link
from tests.onboarding.factories import walmart_item
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_page_counts_items_by_link_status_and_lists_the_unmanaged(operator_client, store):
    ProductFactory(sku="MUG-1")
    walmart_item(store, "MUG-1")
    walmart_item(store, "LEGACY-1")
    walmart_items_link(store=store)
    response = operator_client.get(reverse("onboarding:item_list", args=[store.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="count-unmanaged">1<' in page
    assert 'data-testid="count-linked">1<' in page
    assert 'data-sku="LEGACY-1"' in page
    assert 'data-sku="MUG-1"' not in page
    assert "Linked listings wait for your confirmation before the first push to Walmart" in page


def test_an_item_is_linked_to_the_product_chosen_in_the_search_box(operator_client, store):
    product = ProductFactory(sku="CAT-7", name="Blue kettle")
    item = walmart_item(store, "LEGACY-7")
    search = operator_client.get(
        reverse("onboarding:product_search", args=[store.pk, item.pk]), {"product_sku": "kettle"}
    )
    assert f'value="{product.pk}"' in search.content.decode()
    response = operator_client.post(
        reverse("onboarding:item_link", args=[store.pk, item.pk]), {"product": product.pk, "view": "unmanaged"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.link_status, item.link_method, item.listing.product_id) == ("linked", "manual", product.pk)
    assert Listing.objects.get(store=store).walmart_sku == "LEGACY-7"


def test_linking_without_a_product_says_so_and_writes_nothing(operator_client, store):
    item = walmart_item(store, "LEGACY-7")
    response = operator_client.post(
        reverse("onboarding:item_link", args=[store.pk, item.pk]), {"product_sku": "NOPE"}, follow=True
    )
    assert "Choose a catalog product to link Walmart SKU LEGACY-7 to." in response.content.decode()
    assert not Listing.objects.exists()


def test_a_product_is_created_from_an_item_and_bulk_ignore_counts(operator_client, store):
    item = walmart_item(store, "LEGACY-1", quantity=3)
    walmart_item(store, "LEGACY-2")
    walmart_item(store, "LEGACY-3")
    operator_client.post(reverse("onboarding:item_create", args=[store.pk, item.pk]))
    assert Product.objects.get(sku="LEGACY-1").quantity == 3
    response = operator_client.post(
        reverse("onboarding:item_action", args=[store.pk]),
        {"action": "ignore", "view": "unmanaged", "all_matching": "1"},
        follow=True,
    )
    assert "2 items ignored." in response.content.decode()
    assert WalmartItem.objects.filter(link_status="ignored").count() == 2


def test_import_starts_once_while_running(operator_client, store):
    url = reverse("onboarding:import_start", args=[store.pk])
    operator_client.post(url)
    response = operator_client.post(url, follow=True)
    assert WalmartImport.objects.filter(store=store).count() == 1
    assert "An import from Walmart is already running." in response.content.decode()
    progress = operator_client.get(
        reverse("onboarding:import_progress", args=[store.pk, WalmartImport.objects.get().pk])
    )
    assert 'data-testid="walmart-import-status">Pending<' in progress.content.decode()


def test_the_first_push_page_previews_then_confirms(operator_client, store):
    ProductFactory(sku="MUG-1", quantity=10, price=Decimal("4.00"))
    walmart_item(store, "MUG-1", quantity=3, price="4.00")
    walmart_items_link(store=store)
    url = reverse("onboarding:first_push", args=[store.pk])
    page = operator_client.get(url).content.decode()
    assert 'data-testid="quantity-changes">1<' in page
    assert 'data-testid="price-changes">0<' in page
    operator_client.post(url)
    assert StoreOnboarding.objects.get(store=store).first_push_confirmed_at is not None
    assert Listing.objects.get(store=store).sync_held is False
