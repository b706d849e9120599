"""A URL conf where, of the store view's tabs, only Orders exists (the listings and returns apps have no pages)."""

from django.http import HttpResponse
from django.urls import include, path

from channel_manager.urls import account_urlpatterns


def order_list(request, store_id: int) -> HttpResponse:
    return HttpResponse(f"orders of store {store_id}")


urlpatterns = [
    path("accounts/", include(account_urlpatterns)),
    path("", include("channel_manager.core_urls")),
    path("", include(([path("stores/<int:store_id>/orders/", order_list, name="order_list")], "orders"))),
]
