"""A URL conf with only the core pages: none of the store view's tabs (Listings, Orders, Returns) exists."""

from django.urls import include, path

from channel_manager.urls import account_urlpatterns

urlpatterns = [
    path("accounts/", include(account_urlpatterns)),
    path("", include("channel_manager.core_urls")),
]
