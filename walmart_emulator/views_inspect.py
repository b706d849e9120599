"""Staff-only inspection pages: what Walmart's Seller Center would show, per emulated seller.

Login is required by LoginRequiredMiddleware; only staff holding the `walmart_emulator.use_inspector`
permission may open them (superusers hold every permission); anyone else gets 403. Every button is a POSTed form
(CSRF-protected) handled by `seller_action`, which calls a service and redirects back with a message.
"""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from walmart_emulator import faults, services
from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError
from walmart_emulator.forms import ClockForm, FaultForm, IntentToCancelForm, SimulateOrdersForm
from walmart_emulator.models import Feed, Offer, RateLimitBucket, Seller, WebhookDelivery
from walmart_emulator.orders import OrderSimulationError, line_quantities, order_queryset
from walmart_emulator.ratelimits import rate_limit_for, rate_limit_peek
from walmart_emulator.returns import ReturnSimulationError, return_queryset

INSPECTOR_PERMISSION = "walmart_emulator.use_inspector"


def inspector_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_staff and request.user.has_perm(INSPECTOR_PERMISSION)):
            raise PermissionDenied("Staff with the permission to use the emulator's inspection pages only.")
        return view(request, *args, **kwargs)

    return wrapper


@inspector_required
def seller_list(request):
    sellers = Seller.objects.order_by("name")
    return render(request, "walmart_emulator/seller_list.html", {"sellers": sellers, "now": emulator_now()})


@inspector_required
def seller_detail(request, seller_id: int):
    seller = get_object_or_404(Seller, pk=seller_id)
    now = emulator_now()
    orders = list(order_queryset().filter(seller=seller).order_by("-pk")[:50])
    for order in orders:
        for line in order.lines.all():
            line.quantities = {status: quantity for status, quantity in line_quantities(line).items() if quantity}
    buckets = []
    for bucket in RateLimitBucket.objects.filter(seller=seller).order_by("family"):
        limit = rate_limit_for(bucket.family)
        bucket.tokens = rate_limit_peek(seller=seller, family=bucket.family, now=now).tokens
        buckets.append(
            {
                "family": bucket.family,
                "tokens": bucket.tokens,
                "count": limit["count"],
                "seconds": limit["seconds"],
                "updated_at": bucket.updated_at,
            }
        )
    context = {
        "seller": seller,
        "now": now,
        "offers": Offer.objects.filter(seller=seller).select_related("catalog_item").order_by("sku")[:200],
        "offer_count": Offer.objects.filter(seller=seller).count(),
        "orders": orders,
        "returns": return_queryset().filter(seller=seller).order_by("-pk")[:50],
        "feeds": Feed.objects.filter(seller=seller).prefetch_related("item_results").order_by("-pk")[:20],
        "deliveries": WebhookDelivery.objects.filter(subscription__seller=seller)
        .select_related("subscription")
        .order_by("-pk")[:50],
        "subscriptions": seller.subscriptions.order_by("pk"),
        "buckets": buckets,
        "fault_form": FaultForm(instance=seller),
        "faults_active": faults.fault_any_active(seller),
        "orders_form": SimulateOrdersForm(),
        "clock_form": ClockForm(),
        "intent_form": IntentToCancelForm(),
    }
    return render(request, "walmart_emulator/seller_detail.html", context)


@inspector_required
@require_POST
def seller_action(request, seller_id: int):
    seller = get_object_or_404(Seller, pk=seller_id)
    action = request.POST.get("action")
    back = redirect("walmart_emulator:inspect_seller", seller_id=seller.pk)
    if action == "simulate_orders":
        form = SimulateOrdersForm(request.POST)
        if form.is_valid():
            placed = services.orders_simulate(seller=seller, count=form.cleaned_data["count"])
            count = len(placed)
            messages.success(request, ngettext("%d order placed.", "%d orders placed.", count) % count)
        else:
            messages.error(request, "Give a number of orders from 1 to 100.")
    elif action == "simulate_return":
        try:
            return_order = services.return_simulate(seller=seller)
            messages.success(request, f"Return {return_order.return_order_id} initiated.")
        except ReturnSimulationError as error:
            messages.error(request, str(error))
    elif action == "intent_to_cancel":
        intent_form = IntentToCancelForm(request.POST)
        try:
            if not intent_form.is_valid():
                raise EmulatorError("Give a purchase order id.")
            services.order_intent_to_cancel(
                seller=seller, purchase_order_id=intent_form.cleaned_data["purchase_order_id"]
            )
            messages.success(request, "The customer asked to cancel the open lines.")
        except EmulatorError as error:
            messages.error(request, error.description)
    elif action == "faults":
        fault_form = FaultForm(request.POST, instance=seller)
        if fault_form.is_valid():
            fault_form.save()
            messages.success(request, "Fault settings saved.")
        else:
            messages.error(request, f"Fault settings not saved: {fault_form.errors.as_text()}")
    elif action == "faults_clear":
        faults.fault_clear(seller=seller)
        messages.success(request, "Faults cleared.")
    elif action == "clock":
        clock_form = ClockForm(request.POST)
        if clock_form.is_valid():
            services.clock_advance(seconds=clock_form.cleaned_data["hours"] * 3600)
            result = services.emulator_sweep()
            messages.success(request, f"Clock moved {clock_form.cleaned_data['hours']} h; {result}.")
        else:
            messages.error(request, "Give a number of hours.")
    elif action == "sweep":
        messages.success(request, f"Sweep done: {services.emulator_sweep()}.")
    elif action == "buckets_reset":
        count = services.rate_limit_reset(seller=seller)
        messages.success(request, ngettext("%d bucket refilled.", "%d buckets refilled.", count) % count)
    elif action == "toggle_live":
        Seller.objects.filter(pk=seller.pk).update(is_live=not seller.is_live)
        messages.success(request, "Seller is now " + ("not live." if seller.is_live else "live."))
    else:
        messages.error(request, "Unknown action.")
    return back


__all__ = ["OrderSimulationError"]
