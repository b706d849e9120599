"""Root URL conf. Each app's urls.py holds its full paths (store-scoped ones under stores/<id>/...).

Every page requires login (LoginRequiredMiddleware); only the login pages, /healthz and machine
endpoints (under /walmart-emulator/ and /webhooks/) opt out. tests/channel_manager/urlwalk.py holds that
list, and tests/channel_manager/test_url_security.py walks this URL conf to enforce it.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

# Login, logout and password change. No self-service password reset: it needs outbound email, and
# staff reset passwords in admin.
account_urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urlpatterns)),
    path("", include("channel_manager.core_urls")),
    path("", include("listings.urls")),
    path("", include("sync.urls")),
    path("", include("orders.urls")),
    path("", include("returns.urls")),
    path("", include("onboarding.urls")),
]

if settings.WALMART_EMULATOR_ENABLED:
    urlpatterns.append(path("walmart-emulator/", include("walmart_emulator.urls")))
