"""Dashboard pages of the inventory and price sync: a store's Sync page, the dry-run preview (page and
JSON, built by the same `sync_plan` the real send uses), "sync now" / "reconcile now", and the store's
sync settings (safety buffer, cap, feed limits fallback, price rule).

Thin: a store the user is not a member of is a 404 (`store_get`); services do the writes.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channel_manager.selectors import Role, store_get
from channel_manager.walmart import store_rate_limits
from pricing.forms import PriceRuleForm
from pricing.selectors import price_rule_get
from pricing.services import price_rule_save
from sync.forms import StoreSyncSettingsForm
from sync.models import SyncStream
from sync.planning import value_text
from sync.selectors import (
    feed_list,
    item_update_list,
    listing_sync_page,
    listing_sync_rows,
    sync_settings_get,
    sync_state_list,
)
from sync.services import (
    PlannedSync,
    sync_enqueue,
    sync_plan,
    sync_reconcile_queue,
    sync_settings_save,
)
from sync.streams import STREAMS

logger = logging.getLogger(__name__)

RATE_LIMIT_FAMILIES = (
    ("Single inventory updates", "inventory.update"),
    ("Single price updates", "prices.update"),
    ("Inventory feeds", "feeds.submit.inventory"),
    ("Price feeds", "feeds.submit.price"),
    ("Feed status", "feeds.status"),
)


def _plans(store, rate_limits=None) -> dict[str, PlannedSync]:
    """Both streams' plans as a run would make them now, from what the workers last learnt of Walmart (the
    cached partner profile and rate-limit state): a page never calls Walmart."""
    if rate_limits is None:
        rate_limits = store_rate_limits(store)
    return {stream: sync_plan(store=store, stream=stream, rate_limits=rate_limits) for stream in SyncStream.values}


def _rate_limits(known) -> list[dict]:
    rows = []
    for label, family in RATE_LIMIT_FAMILIES:
        info = known.get(family)
        rows.append(
            {
                "label": label,
                "family": family,
                "tokens_left": info.tokens_left if info else None,
                "next_replenish_at": info.next_replenish_at if info else None,
                "observed_at": info.observed_at if info else None,
            }
        )
    return rows


@require_GET
def sync_dashboard_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    only = request.GET.get("only", "")
    page = listing_sync_page(store=store, after=request.GET.get("after"), before=request.GET.get("before"), only=only)
    known = store_rate_limits(store)
    plans = _plans(store, known)
    states = sync_state_list(store=store)
    streams = [
        {"spec": spec, "planned": plans[name], "state": states[name], "enabled": getattr(store, spec.switch_field)}
        for name, spec in STREAMS.items()
    ]
    return render(
        request,
        "sync/sync_dashboard.html",
        {
            "store": store,
            "active_tab": "sync",
            "streams": streams,
            "page": page,
            "rows": listing_sync_rows(store=store, listings=page.object_list),
            "only": only,
            "feeds": feed_list(store=store, limit=10),
            "item_updates": item_update_list(store=store, limit=10),
            "rate_limits": _rate_limits(known),
        },
    )


def _plan_as_data(planned: PlannedSync) -> dict:
    """What a run would send now: the single-item calls in order, then each feed's exact payload."""
    plan = planned.plan
    return {
        "stream": planned.stream,
        "enabled": planned.enabled,
        "planned_at": planned.planned_at.isoformat(),
        "singles": [{"sku": change.sku, "value": value_text(change.value)} for change in plan.singles],
        "feeds": [feed.payload for feed in plan.feeds],
        "waiting": len(plan.waiting),
        "summary": plan.summary(),
    }


@require_GET
def sync_preview_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    plans = _plans(store)
    streams = []
    for name, spec in STREAMS.items():
        planned = plans[name]
        streams.append(
            {
                "spec": spec,
                "planned": planned,
                "enabled": planned.enabled,
                "singles": planned.plan.singles[:500],
                "feeds": [
                    {"items": len(feed.changes), "size_bytes": feed.size_bytes, "changes": feed.changes[:200]}
                    for feed in planned.plan.feeds
                ],
            }
        )
    return render(request, "sync/sync_preview.html", {"store": store, "active_tab": "sync", "streams": streams})


@require_GET
def sync_preview_json_view(request: HttpRequest, store_id: int, stream: str) -> JsonResponse:
    store = store_get(user=request.user, store_id=store_id)
    if stream not in STREAMS:
        raise Http404("No such stream.")
    planned = _plans(store)[stream]
    return JsonResponse(_plan_as_data(planned))


@require_POST
def sync_run_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    streams = [s for s in request.POST.getlist("stream") if s in STREAMS] or list(STREAMS)
    queued = 0
    with transaction.atomic():
        for stream in streams:
            queued += sync_enqueue(store_id=store.pk, stream=stream, countdown=0)
    messages.success(request, ngettext("%d sync run queued.", "%d sync runs queued.", queued) % queued)
    return redirect("sync:sync_dashboard", store_id=store.pk)


@require_POST
def sync_reconcile_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    streams = [s for s in request.POST.getlist("stream") if s in STREAMS] or list(STREAMS)
    sync_reconcile_queue(store_ids=[store.pk], streams=streams)
    messages.success(
        request,
        ngettext("%d reconciliation queued.", "%d reconciliations queued.", len(streams)) % len(streams),
    )
    return redirect("sync:sync_dashboard", store_id=store.pk)


@require_http_methods(["GET", "POST"])
def sync_settings_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    sync_settings = sync_settings_get(store=store)
    rule = price_rule_get(store=store)
    if request.method == "POST":
        settings_form = StoreSyncSettingsForm(request.POST, instance=sync_settings, prefix="sync")
        rule_form = PriceRuleForm(request.POST, instance=rule, prefix="price")
        if settings_form.is_valid() and rule_form.is_valid():
            with transaction.atomic():
                sync_settings_save(store=store, values=settings_form.cleaned_data)
                price_rule_save(store=store, values=rule_form.cleaned_data)
            messages.success(request, "Sync settings saved. The next planner run uses them.")
            return redirect("sync:sync_settings", store_id=store.pk)
    else:
        settings_form = StoreSyncSettingsForm(instance=sync_settings, prefix="sync")
        rule_form = PriceRuleForm(instance=rule, prefix="price")
    return render(
        request,
        "sync/sync_settings.html",
        {"store": store, "active_tab": "settings", "settings_form": settings_form, "rule_form": rule_form},
    )
