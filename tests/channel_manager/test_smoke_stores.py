import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_operator_sees_only_their_stores(operator_client, store, other_store):
    # when
    response = operator_client.get(reverse("store_list"))
    # then
    assert response.status_code == 200
    assert [s.name for s in response.context["stores"]] == ["Main Walmart store"]


def test_non_member_gets_404_on_store_view(operator_client, other_store):
    response = operator_client.get(reverse("store_detail", args=[other_store.pk]))
    assert response.status_code == 404
