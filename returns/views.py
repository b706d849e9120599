"""Pages of the returns app: the Returns tab, the return detail with the Refund form, Retry and Re-read
buttons, and Channel Settings > Returns. Thin: selectors read, services write."""

import logging
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channel_manager.listing_pages import (
    choice_labels,
    column_headers,
    in_operator_timezone,
    list_query_from_request,
    minute_text,
    status_cards,
    text_cut,
)
from channel_manager.numbers import query_int
from channel_manager.selectors import Role, store_get
from channel_manager.walmart import error_text
from channel_manager.work import status_after_save
from returns import selectors, services
from returns.forms import RefundForm, ReturnSettingsForm
from returns.mapping import deadline_text
from returns.models import Return, deadline_warning_hours

logger = logging.getLogger(__name__)
STATUS_CARDS = list(Return.Status.choices)
COLUMNS = [
    ("rma", "RMA #"),
    ("commerce_order", "Commerce Order #"),
    ("requested", "Requested"),
    ("return_by", "Return By"),
    (None, "Items"),
    ("amount", "Refund amount"),
    ("deadline", "Auto-refund in"),
    ("status", "Status"),
    (None, "Status Details"),
]


def _context(store, **extra) -> dict:
    return {"store": store, "active_tab": "returns", "timezone_name": str(timezone.get_current_timezone()), **extra}


@require_GET
@in_operator_timezone
def return_list_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    query = list_query_from_request(
        request, statuses=Return.Status.values, sorts=selectors.RETURN_SORTS, default_sort=selectors.DEFAULT_SORT
    )
    counts = selectors.return_status_counts(store=store)
    page = selectors.return_page(store=store, query=query, counts=counts)
    now = timezone.now()
    return_url_prefix = reverse("returns:return_list", args=[store.pk])
    order_url_prefix = reverse("orders:order_list", args=[store.pk])
    labels = choice_labels(Return.Status.choices)
    rows = [
        (item, _return_row(item, now=now, prefix=return_url_prefix, order_prefix=order_url_prefix, labels=labels))
        for item in page.rows
    ]
    return_settings = services.return_settings_ensure(store=store)
    due_soon = selectors.returns_due_soon_count(store=store, now=now, within=timedelta(hours=deadline_warning_hours()))
    return render(
        request,
        "returns/return_list.html",
        _context(
            store,
            rows=rows,
            page=page,
            query=query,
            status_cards=status_cards(STATUS_CARDS, counts, query=query),
            column_headers=column_headers(COLUMNS, query=query),
            return_settings=return_settings,
            due_soon=due_soon,
            warning_hours=int(deadline_warning_hours()),
        ),
    )


def _return_row(item: Return, *, now, prefix: str, order_prefix: str, labels: dict[str, str]) -> dict:
    """One row of the Returns tab, formatted here rather than with template tags and filters (200 rows
    render in a fraction of the time); the template escapes the values."""
    return {
        "detail_url": f"{prefix}{item.pk}/",
        "order_url": f"{order_prefix}{item.order.pk}/" if item.order else "",
        "requested": minute_text(item.requested_at, "—"),
        "return_by": minute_text(item.return_by, "—"),
        "amount": f"{item.charged_total} {item.currency}",
        "time_left": deadline_text(item.time_left(now=now)),
        "flag": item.deadline_flag(now=now),
        "status_label": labels[item.status],
        "details": text_cut(item.status_details),
    }


def _detail(request: HttpRequest, store, return_order: Return, form: RefundForm | None = None) -> HttpResponse:
    available = services.refund_available(return_order=return_order)
    lines = list(return_order.lines.all())
    form = form or RefundForm(lines=lines, available=available)
    now = timezone.now()
    return render(
        request,
        "returns/return_detail.html",
        _context(
            store,
            return_order=return_order,
            form=form,
            rows=form.line_rows(),
            can_refund=any(available.values()),
            restockable=[(line, line.quantity - line.restocked_quantity) for line in lines],
            can_restock=any(line.quantity > line.restocked_quantity for line in lines),
            time_left=deadline_text(return_order.time_left(now=now)),
            deadline_flag=return_order.deadline_flag(now=now),
        ),
    )


@require_http_methods(["GET", "POST"])
@in_operator_timezone
def return_detail_view(request: HttpRequest, store_id: int, return_id: int) -> HttpResponse:
    """The return, its lines, refunds and timeline; POST submits the Refund form."""
    refunding = request.method == "POST"
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR if refunding else Role.VIEWER)
    return_order = selectors.return_get(store=store, return_id=return_id)
    if request.method == "GET":
        return _detail(request, store, return_order)
    form = RefundForm(
        request.POST,
        lines=list(return_order.lines.all()),
        available=services.refund_available(return_order=return_order),
    )
    if form.is_valid():
        try:
            refunds = services.refund_create(
                return_order=return_order,
                lines=form.refund_lines(),
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            for refund in refunds:
                messages.success(
                    request,
                    f"Refund {refund.pk} of {refund.total} {return_order.currency}: {status_after_save(refund)}.",
                )
            return redirect("returns:return_detail", store_id=store.pk, return_id=return_order.pk)
    return _detail(request, store, selectors.return_get(store=store, return_id=return_id), form=form)


@require_POST
def return_restock_view(request: HttpRequest, store_id: int, return_id: int) -> HttpResponse:
    """Return units to stock without a refund (units Walmart refunded itself)."""
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    return_order = selectors.return_get(store=store, return_id=return_id)
    quantities = {}
    for line in return_order.lines.all():
        raw = request.POST.get(f"restock_{line.pk}", "").strip()
        if raw:
            quantities[line.pk] = query_int(raw, default=-1, min_value=0)
    try:
        moved = services.return_restock(return_order=return_order, quantities=quantities, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{moved} unit{'s' if moved != 1 else ''} returned to stock.")
    return redirect("returns:return_detail", store_id=store.pk, return_id=return_order.pk)


@require_POST
def refund_retry_view(request: HttpRequest, store_id: int, return_id: int, refund_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    return_order = selectors.return_get(store=store, return_id=return_id)
    refund = selectors.refund_get(return_order=return_order, refund_id=refund_id)
    if services.refund_retry(refund=refund, actor=services.Actor.OPERATOR, user=request.user):
        messages.success(request, f"Refund {refund.pk} sent again: {status_after_save(refund)}.")
    else:
        messages.error(request, f"Refund {refund.pk} is not in Error; nothing to retry.")
    return redirect("returns:return_detail", store_id=store.pk, return_id=return_order.pk)


@require_POST
def return_refresh_view(request: HttpRequest, store_id: int, return_id: int) -> HttpResponse:
    from walmart_client.errors import WalmartError

    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    return_order = selectors.return_get(store=store, return_id=return_id)
    try:
        services.return_refresh(return_order=return_order, actor=services.Actor.OPERATOR, user=request.user)
    except WalmartError as error:
        messages.error(request, f"Walmart could not be read: {error_text(error)}")
    else:
        messages.success(request, f"Return {return_order.return_order_id} re-read from Walmart.")
    return redirect("returns:return_detail", store_id=store.pk, return_id=return_order.pk)


@require_POST
def returns_poll_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """ "Read returns now": the scheduled read, run at once for this store."""
    from walmart_client.errors import WalmartError

    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    try:
        result = services.returns_poll(store=store, actor=services.Actor.OPERATOR)
    except WalmartError as error:
        messages.error(request, f"Walmart could not be read: {error_text(error)}")
    else:
        messages.success(request, f"Returns read from Walmart: {result.created} new, {result.updated} updated.")
    return redirect("returns:return_list", store_id=store.pk)


@require_http_methods(["GET", "POST"])
def return_settings_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    return_settings = services.return_settings_ensure(store=store)
    form = ReturnSettingsForm(request.POST or None, instance=return_settings)
    if request.method == "POST" and form.is_valid():
        try:
            services.return_settings_update(
                store=store,
                poll_interval_seconds=form.cleaned_data["poll_interval_seconds"],
                poll_overlap_seconds=form.cleaned_data["poll_overlap_seconds"],
            )
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, "Returns settings saved.")
            return redirect("returns:return_settings", store_id=store.pk)
    return render(
        request,
        "returns/return_settings.html",
        {"store": store, "active_tab": "settings", "form": form, "return_settings": return_settings},
    )
