"""Root URL conf. Each app's urls.py holds its full paths (store-scoped ones under stores/<id>/...)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("channel_manager.core_urls")),
    path("", include("listings.urls")),
    path("", include("inventory.urls")),
    path("", include("pricing.urls")),
    path("", include("orders.urls")),
    path("", include("returns.urls")),
]

if settings.WALMART_EMULATOR_ENABLED:
    urlpatterns.append(path("walmart-emulator/", include("walmart_emulator.urls")))
