"""Pages of the orders app: the Orders tab, the order detail with ship / cancel / retry, Channel
Settings (Shipping Carriers, Orders, Webhooks), and Walmart's webhook endpoint. Thin: selectors read,
services write."""

import json
import logging
from collections.abc import Callable
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
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
from orders import selectors, services
from orders.forms import CancelForm, CarrierMappingForm, OrderSettingsForm, ShipForm
from orders.models import Cancellation, Order, OrderEvent, OrderSettings, Shipment

logger = logging.getLogger(__name__)
STATUS_CARDS = [(value, label) for value, label in Order.Status.choices]
ORDER_COLUMNS = [
    ("walmart_order", "Walmart Order #"),
    ("commerce_order", "Commerce Order #"),
    (None, "Items"),
    ("value", "Order Value"),
    ("ordered", "Ordered"),
    ("ship_by", "Ship By"),
    ("deliver_by", "Deliver By"),
    ("method", "Ship Method"),
    ("updated", "Last Update"),
    ("status", "Status"),
    (None, "Status Details"),
]


def _store_tabs_template() -> str | None:
    try:
        get_template("channel_manager/_store_tabs.html")
    except TemplateDoesNotExist:
        return None
    return "channel_manager/_store_tabs.html"


def _base_context(store, **extra) -> dict:
    return {"store": store, "active_tab": "orders", "store_tabs_template": _store_tabs_template(), **extra}


def _returns_url(store_id: int) -> str | None:
    try:
        return reverse("returns:return_list", args=[store_id])
    except NoReverseMatch:
        return None


@require_GET
@in_operator_timezone
def order_list_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    query = list_query_from_request(
        request, statuses=Order.Status.values, sorts=selectors.ORDER_SORTS, default_sort=selectors.DEFAULT_SORT
    )
    counts = selectors.order_status_counts(store=store)
    page = selectors.order_page(store=store, query=query, counts=counts)
    now = timezone.now()
    detail_url_prefix = reverse("orders:order_list", args=[store.pk])
    returns_url = _returns_url(store.pk)
    labels = choice_labels(Order.Status.choices)
    rows = [
        (order, _order_row(order, now=now, detail_url_prefix=detail_url_prefix, returns_url=returns_url, labels=labels))
        for order in page.rows
    ]
    return render(
        request,
        "orders/order_list.html",
        _base_context(
            store,
            rows=rows,
            page=page,
            counts=counts,
            status_cards=status_cards(STATUS_CARDS, counts, query=query),
            column_headers=column_headers(ORDER_COLUMNS, query=query),
            query=query,
            timezone_name=str(timezone.get_current_timezone()),
        ),
    )


FLAG_HTML = {
    "intent_to_cancel": '<span class="status status-error">Intent to cancel</span> ',
    "late": '<span class="status status-error">Late</span> ',
    "ship_by_today": '<span class="status status-pending">Ship by today</span> ',
    "auto_cancel_risk": (
        '<span class="status status-error" title="Walmart auto-cancels lines not shipped by ship-by + 4 days">'
        "Auto-cancel risk</span> "
    ),
}


AWAITING_HTML = (
    '<span class="status status-pending awaiting-walmart" title="Stored from Walmart\'s order notification: the '
    "customer, address, charges and line statuses come with Walmart's copy of the order\">Awaiting Walmart's "
    "details</span> "
)


def _order_row(order: Order, *, now, detail_url_prefix: str, returns_url: str | None, labels: dict[str, str]) -> dict:
    """One row of the Orders tab, formatted here rather than with template filters and tags (200 rows
    render in a fraction of the time). The template escapes the values; the details cell is built with
    format_html."""
    details: list[str] = [mark_safe(FLAG_HTML[flag]) for flag in order.flags(now=now) if flag in FLAG_HTML]  # noqa: S308
    if getattr(order, "has_return", False):  # annotated by selectors.order_list
        if returns_url:
            details.append(
                format_html(
                    '<a href="{}?q={}" class="return-requested">Return requested</a> ',
                    returns_url,
                    quote(order.purchase_order_id),
                )
            )
        else:
            details.append("Return requested ")
    if order.provisional:
        details.insert(0, mark_safe(AWAITING_HTML))  # noqa: S308 - a constant
    if order.status_details:
        details.append(format_html('<span class="error">{}</span>', text_cut(order.status_details)))
    return {
        "detail_url": f"{detail_url_prefix}{order.pk}/",
        "value": "awaiting Walmart" if order.provisional else f"{order.order_total} {order.currency}",
        "ordered": minute_text(order.order_date),
        "ship_by": minute_text(order.ship_by, "—"),
        "deliver_by": minute_text(order.deliver_by, "—"),
        "updated": minute_text(order.updated_at),
        "status_label": labels[order.status],
        "details": format_html_join("", "{}", ((part,) for part in details)),
    }


@require_GET
@in_operator_timezone
def order_detail_view(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    order = selectors.order_get(store=store, order_id=order_id)
    remaining = services.order_line_remaining(order=order)
    return render(
        request,
        "orders/order_detail.html",
        _base_context(
            store,
            order=order,
            lines=[(line, remaining.get(line.pk, 0)) for line in order.lines.all()],
            can_ship=not order.provisional and any(remaining.values()),
            flags=order.flags(),
            returns=selectors.order_returns(order),
            returns_url=_returns_url(store.pk),
            timezone_name=str(timezone.get_current_timezone()),
        ),
    )


def _refused_while_provisional(request: HttpRequest, order: Order, action: str) -> HttpResponse | None:
    """Back to the order with the reason when it is still awaiting Walmart's details; None otherwise."""
    try:
        services.order_complete_required(order=order, action=action)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("orders:order_detail", store_id=order.store_id, order_id=order.pk)
    return None


def _apply_service_errors(form, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        for message in messages_:
            form.add_error(None if field == "__all__" or field not in form.fields else field, message)


@require_http_methods(["GET", "POST"])
@in_operator_timezone
def order_ship_view(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    order = selectors.order_get(store=store, order_id=order_id)
    refused = _refused_while_provisional(request, order, "shipped")
    if refused is not None:
        return refused
    order_settings = services.order_settings_ensure(store=store)
    remaining = services.order_line_remaining(order=order)
    form = ShipForm(
        request.POST or None,
        order=order,
        lines=list(order.lines.all()),
        remaining=remaining,
        carrier_mapping=order_settings.carrier_mapping,
    )
    if request.method == "POST" and form.is_valid():
        try:
            shipment = services.shipment_create(order=order, user=request.user, **form.service_arguments())
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"Shipment {shipment.tracking_number}: {status_after_save(shipment)}.")
            return redirect("orders:order_detail", store_id=store.pk, order_id=order.pk)
    return render(request, "orders/order_ship.html", _base_context(store, order=order, form=form))


@require_http_methods(["GET", "POST"])
@in_operator_timezone
def order_cancel_view(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    order = selectors.order_get(store=store, order_id=order_id)
    refused = _refused_while_provisional(request, order, "cancelled")
    if refused is not None:
        return refused
    remaining = services.order_line_remaining(order=order)
    only_line = query_int(request.GET.get("line"), default=0) or None
    form = CancelForm(
        request.POST or None, order=order, lines=list(order.lines.all()), remaining=remaining, only_line=only_line
    )
    if request.method == "POST" and form.is_valid():
        try:
            cancellation = services.cancellation_create(
                order=order, quantities=form.quantities(), reason=form.cleaned_data["reason"], user=request.user
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"Cancellation {cancellation.pk}: {status_after_save(cancellation)}.")
            return redirect("orders:order_detail", store_id=store.pk, order_id=order.pk)
    return render(request, "orders/order_cancel.html", _base_context(store, order=order, form=form))


def _operation(store, kind: str, operation_id: int):
    if kind not in ("shipment", "cancellation"):
        raise Http404("Unknown operation.")
    model = Shipment if kind == "shipment" else Cancellation
    return get_object_or_404(model.objects.select_related("order"), pk=operation_id, order__store=store)


@require_POST
def operation_retry_view(request: HttpRequest, store_id: int, kind: str, operation_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    operation = _operation(store, kind, operation_id)
    if services.operation_retry(operation=operation, actor=OrderEvent.Actor.OPERATOR, user=request.user):
        messages.success(request, f"Retried: now {status_after_save(operation)}.")
    else:
        messages.error(request, "Only a failed push can be retried.")
    return redirect("orders:order_detail", store_id=store.pk, order_id=operation.order_id)


@require_POST
def operation_discard_view(request: HttpRequest, store_id: int, kind: str, operation_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    operation = _operation(store, kind, operation_id)
    if services.operation_discard(operation=operation, actor=OrderEvent.Actor.OPERATOR, user=request.user):
        messages.success(request, "Discarded: its units can be shipped or cancelled again.")
    else:
        messages.error(request, "Only a failed push that cannot have reached Walmart can be discarded.")
    return redirect("orders:order_detail", store_id=store.pk, order_id=operation.order_id)


@require_POST
def order_refresh_view(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    order = get_object_or_404(Order, store=store, pk=order_id)
    try:
        services.order_refresh(order=order, actor=OrderEvent.Actor.OPERATOR, user=request.user)
    except Exception as error:  # noqa: BLE001 - shown to the operator, never a 500
        messages.error(request, f"Could not read the order from Walmart: {error_text(error)}")
    else:
        messages.success(request, "Order re-read from Walmart.")
    return redirect("orders:order_detail", store_id=store.pk, order_id=order.pk)


@require_POST
def order_acknowledge_view(request: HttpRequest, store_id: int, order_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    order = get_object_or_404(Order, store=store, pk=order_id)
    try:
        done = services.order_acknowledge(order_id=order.pk, actor=OrderEvent.Actor.OPERATOR, user=request.user)
    except Exception as error:  # noqa: BLE001 - shown to the operator, never a 500
        messages.error(request, f"Walmart refused the acknowledgement: {error_text(error)}")
    else:
        if done:
            messages.success(request, "Acknowledged on Walmart.")
        elif order.provisional:
            messages.error(
                request, "Awaiting Walmart's details: it is acknowledged once Walmart's copy of the order is read."
            )
        else:
            messages.error(request, "Already acknowledged (or being acknowledged right now).")
    return redirect("orders:order_detail", store_id=store.pk, order_id=order.pk)


# --- Channel Settings --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def carrier_mapping_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    order_settings = services.order_settings_ensure(store=store)
    form = CarrierMappingForm(request.POST or None, mapping=order_settings.carrier_mapping)
    if request.method == "POST" and form.is_valid():
        services.order_settings_update(store=store, user=request.user, carrier_mapping=form.mapping())
        messages.success(request, "Shipping carriers saved.")
        return redirect("orders:carrier_mapping", store_id=store.pk)
    return render(request, "orders/carrier_mapping.html", {"store": store, "form": form})


@require_http_methods(["GET", "POST"])
def order_settings_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    order_settings = services.order_settings_ensure(store=store)
    form = OrderSettingsForm(request.POST or None, instance=order_settings)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in OrderSettingsForm.Meta.fields}
        values["webhook_basic_password"] = form.cleaned_data.get("webhook_basic_password") or None
        services.order_settings_update(store=store, user=request.user, **values)
        messages.success(request, "Order settings saved.")
        return redirect("orders:order_settings", store_id=store.pk)
    return render(request, "orders/order_settings.html", {"store": store, "form": form, "settings": order_settings})


WEBHOOK_ENDPOINT_MISSING = (
    "This installation has no public address (set PUBLIC_BASE_URL, e.g. https://cm.example.com): Walmart would "
    "not know where to deliver the events."
)


@require_http_methods(["GET", "POST"])
def webhook_settings_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    order_settings = services.order_settings_ensure(store=store)
    endpoint = services.webhook_endpoint_url(order_settings=order_settings)
    if request.method == "POST":
        action = request.POST.get("action")
        if not endpoint and action in ("subscribe", "test"):
            messages.error(request, WEBHOOK_ENDPOINT_MISSING)
            return redirect("orders:webhook_settings", store_id=store.pk)
        try:
            if action == "subscribe":
                count = services.webhook_subscribe(store=store, event_url=endpoint)
                messages.success(request, f"Subscribed to {count} order event type(s).")
            elif action == "unsubscribe":
                count = services.webhook_unsubscribe(store=store)
                messages.success(request, f"Removed {count} subscription(s).")
            elif action == "test":
                message = services.webhook_test(store=store, event_url=endpoint)
                messages.success(request, f"Walmart's test event: {message}")
            else:
                messages.error(request, "Unknown action.")
        except Exception as error:  # noqa: BLE001 - Walmart's answer is shown, never a 500
            messages.error(request, f"Walmart refused: {error_text(error)}")
        return redirect("orders:webhook_settings", store_id=store.pk)
    subscriptions, subscriptions_error = services.webhook_subscriptions(store=store)
    return render(
        request,
        "orders/webhooks.html",
        {
            "store": store,
            "settings": order_settings,
            "endpoint": endpoint,
            "endpoint_missing": WEBHOOK_ENDPOINT_MISSING,
            "subscriptions": subscriptions,
            "subscriptions_error": subscriptions_error,
            "recent_events": store.webhook_events.order_by("-received_at")[:20],
        },
    )


# --- Walmart's webhook ---------------------------------------------------------------------------------


@login_not_required
@csrf_exempt
@require_POST
def webhook_receive_view(request: HttpRequest, token: str) -> HttpResponse:
    """Walmart's event delivery. 401 (nothing recorded) unless the delivery carries the authentication
    the subscription asked for; 200 for a new or duplicate event; the order is fetched after commit. Once the
    answer is sent, a PO_CREATED delivery's order is stored, provisional, when it is not yet (`AnsweredThen`)."""
    order_settings = OrderSettings.objects.select_related("store").filter(webhook_token=token).first()
    if order_settings is None or not services.webhook_signature_valid(
        order_settings=order_settings, body=request.body, headers=request.headers
    ):
        return JsonResponse({"error": "unauthorized"}, status=401)
    try:
        envelope = json.loads(request.body)
        if not isinstance(envelope, dict):
            raise ValueError("not an object")
        _event, created = services.webhook_event_record(store=order_settings.store, envelope=envelope)
    except ValueError as error:
        return JsonResponse({"error": f"bad payload: {error}"}, status=400)
    store = order_settings.store
    return AnsweredThen(
        {"status": "accepted" if created else "duplicate"},
        then=lambda: services.order_provisional_gather(store=store, envelope=envelope),
    )


class AnsweredThen(JsonResponse):
    """A JSON answer that runs `then` once it has been sent: the WSGI server closes a response after writing
    it (gunicorn, runserver; Django's test client too), so Walmart's sender has our 200 and goes on to its next
    delivery while `then` runs in this thread. Used for the provisional order of a PO_CREATED delivery: its event
    is committed before the answer, so a process that dies before `then` has run loses nothing (the event's
    read-back stores the order). `then` never raises here (logged)."""

    def __init__(self, data, *, then: Callable[[], object], **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.then = then

    def close(self) -> None:
        try:
            self.then()
        except Exception:  # the answer is sent: nothing to tell the sender; the event's read-back still runs
            logger.exception("Work after the webhook's answer failed")
        finally:
            super().close()
