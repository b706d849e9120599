"""Log-in throttling (django-axes, configured in settings): the page shown to a locked-out log-in.

Axes counts failed log-ins per username, on the site's and admin's log-in alike; after AXES_FAILURE_LIMIT
failures in a row the username is locked for AXES_COOLOFF_TIME, even with the right password. Each failure
is logged (username, IP address, path; never the password) and kept in admin (Axes: access attempts and
failures); deleting the account's access attempt unlocks it at once.
"""

from axes.conf import settings as axes_settings
from axes.helpers import get_client_username
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login_locked_out_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """429 with the lockout page: who is locked, for how long, and how to get unlocked sooner."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"username": get_client_username(request, credentials) or "", "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=axes_settings.AXES_HTTP_RESPONSE_CODE)
