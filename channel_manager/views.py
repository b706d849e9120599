"""Dashboard pages of the core: the stores page and the store view. Thin: selectors and services do the work."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from channel_manager.selectors import store_get, store_list


def home(request: HttpRequest) -> HttpResponse:
    return redirect("store_list")


@require_GET
def store_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "channel_manager/store_list.html", {"stores": store_list(user=request.user)})


@require_GET
def store_detail_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    return render(request, "channel_manager/store_detail.html", {"store": store})


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachable: 200 with each check, or 503 naming what failed."""
    from channel_manager.health import health_checks

    checks = health_checks(database_connection=connection)
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)
