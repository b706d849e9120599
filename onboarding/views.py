"""Dashboard pages of onboarding: a store's Walmart items (import with progress, Unmanaged items and their
link / create / ignore actions, bulk actions with counts) and the first-push preview and confirmation.

Thin: selectors load (a store the user is not a member of is a 404), services write.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from channel_manager.selectors import Role, store_get
from listings.models import Listing, Product
from listings.services import ProductInvalid
from onboarding.models import WalmartImport, WalmartItem
from onboarding.selectors import (
    VIEWS,
    first_push_preview,
    product_search,
    walmart_import_latest,
    walmart_item_counts,
    walmart_item_list,
)
from onboarding.services import (
    first_push_confirm,
    walmart_import_start,
    walmart_item_for_sku,
    walmart_item_link,
    walmart_item_product_create,
    walmart_items_ignore,
    walmart_items_link,
    walmart_items_products_create,
)

PAGE_SIZE = 50
VIEW_LABELS = (("unmanaged", "Unmanaged"), ("ambiguous", "Ambiguous"), ("linked", "Linked"), ("ignored", "Ignored"))


def _items_url(store_id: int, **query) -> str:
    url = reverse("onboarding:item_list", args=[store_id])
    query = {key: value for key, value in query.items() if value}
    return f"{url}?{urlencode(query)}" if query else url


def _can_create_products(request: HttpRequest) -> bool:
    return request.user.has_perm("listings.add_product")


@require_GET
def item_list_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    view = request.GET.get("view", "unmanaged")
    view = view if view in VIEWS or view == "all" else "unmanaged"
    search = request.GET.get("q", "")
    counts = walmart_item_counts(store=store)
    paginator = Paginator(walmart_item_list(store=store, view=view, search=search), PAGE_SIZE)
    if not search.strip():
        paginator.count = counts["all" if view == "all" else view]  # known: no second COUNT over the items
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "onboarding/item_list.html",
        {
            "store": store,
            "active_tab": "walmart_items",
            "view": view,
            "q": search,
            "cards": [(value, label, counts[value]) for value, label in VIEW_LABELS],
            "total": counts["all"],
            "page_obj": page,
            "walmart_import": walmart_import_latest(store=store),
            "held": Listing.objects.filter(store=store, sync_held=True).exists(),
            "can_create_products": _can_create_products(request),
            "query_without_page": urlencode({"view": view, "q": search}),
        },
    )


@require_GET
def import_progress_view(request: HttpRequest, store_id: int, import_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    walmart_import = get_object_or_404(WalmartImport, pk=import_id, store=store)
    return render(request, "onboarding/_import_progress.html", {"store": store, "walmart_import": walmart_import})


@require_GET
def listings_card_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """The Walmart items card of the Listings tab: the latest import's progress and the Unmanaged count."""
    store = store_get(user=request.user, store_id=store_id)
    return render(
        request,
        "onboarding/_listings_card.html",
        {
            "store": store,
            "walmart_import": walmart_import_latest(store=store),
            "counts": walmart_item_counts(store=store),
        },
    )


@require_POST
def import_start_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    walmart_import, created = walmart_import_start(store=store, actor=request.user, reason="operator")
    if created:
        messages.success(request, "Import from Walmart started.")
    else:
        messages.info(request, "An import from Walmart is already running.")
    return redirect(_items_url(store.pk, view=request.POST.get("view", "")))


@require_GET
@permission_required("listings.view_product", raise_exception=True)
def product_search_view(request: HttpRequest, store_id: int, item_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    item = get_object_or_404(WalmartItem, pk=item_id, store=store)
    return render(
        request,
        "onboarding/_product_choices.html",
        {"store": store, "item": item, "products": product_search(search=request.GET.get("product_sku", ""))},
    )


@require_POST
def item_link_view(request: HttpRequest, store_id: int, item_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    item = get_object_or_404(WalmartItem, pk=item_id, store=store)
    product_id = request.POST.get("product", "")
    sku = request.POST.get("product_sku", "").strip()
    product = None
    if product_id.isdigit():
        product = Product.objects.filter(pk=int(product_id)).first()
    elif sku:
        product = Product.objects.filter(sku=sku).first()
    back = _items_url(store.pk, view=request.POST.get("view", ""), q=request.POST.get("q", ""))
    if product is None:
        messages.error(request, f"Choose a catalog product to link Walmart SKU {item.sku} to.")
        return redirect(back)
    try:
        walmart_item_link(item=item, product=product, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Walmart SKU {item.sku} linked to product {product.sku}.")
    return redirect(back)


@require_POST
def item_action_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """Bulk actions on the selected items (or every item of the current view): create products, ignore,
    bring back, link again automatically."""
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    action = request.POST.get("action", "")
    view = request.POST.get("view", "unmanaged")
    back = _items_url(store.pk, view=view, q=request.POST.get("q", ""))
    if action == "autolink":
        result = walmart_items_link(store=store)
        messages.success(
            request,
            f"{result.linked} linked, {result.ambiguous} ambiguous, {result.unmanaged} unmanaged.",
        )
        return redirect(back)
    if request.POST.get("all_matching"):
        items = walmart_item_list(store=store, view=view, search=request.POST.get("q", ""))
    else:
        ids = [int(pk) for pk in request.POST.getlist("item") if pk.isdigit()]
        items = WalmartItem.objects.filter(store=store, pk__in=ids)
    if not items.exists():
        messages.error(request, "Select at least one Walmart item.")
        return redirect(back)
    if action == "ignore":
        count = walmart_items_ignore(items=items)
        messages.success(request, ngettext("%d item ignored.", "%d items ignored.", count) % count)
    elif action == "unignore":
        count = walmart_items_ignore(items=items, ignored=False)
        messages.success(request, ngettext("%d item brought back.", "%d items brought back.", count) % count)
    elif action == "create":
        if not _can_create_products(request):
            raise PermissionDenied("Creating catalog products needs the catalog's add permission.")
        created, errors = walmart_items_products_create(items=items, actor=request.user)
        messages.success(request, ngettext("%d product created.", "%d products created.", created) % created)
        for error in errors[:20]:
            messages.error(request, error)
    else:
        messages.error(request, "Choose an action.")
    return redirect(back)


@require_POST
@permission_required("listings.add_product", raise_exception=True)
def item_create_view(request: HttpRequest, store_id: int, item_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    item = get_object_or_404(WalmartItem, pk=item_id, store=store)
    try:
        listing = walmart_item_product_create(item=item, actor=request.user)
    except (ProductInvalid, ValidationError) as error:
        text = str(error) if isinstance(error, ProductInvalid) else " ".join(error.messages)
        messages.error(request, f"Walmart SKU {item.sku}: {text}")
    else:
        messages.success(request, f"Product {listing.product.sku} created and linked.")
    return redirect(_items_url(store.pk, view=request.POST.get("view", ""), q=request.POST.get("q", "")))


def first_push_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """GET: the dry run of the first push (what would change on Walmart). POST: confirm it."""
    if request.method == "POST":
        store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
        released = first_push_confirm(store=store, actor=request.user)
        messages.success(
            request,
            ngettext(
                "First push confirmed: %d listing joins the sync.",
                "First push confirmed: %d listings join the sync.",
                released,
            )
            % released,
        )
        return redirect(_items_url(store.pk, view="linked"))
    if request.method != "GET":
        return HttpResponse(status=405)
    store = store_get(user=request.user, store_id=store_id)
    return render(
        request,
        "onboarding/first_push.html",
        {"store": store, "active_tab": "walmart_items", "preview": first_push_preview(store=store)},
    )


@require_POST
def sku_link_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """ "Link this SKU" (an order line whose Walmart SKU has no listing): the SKU's Walmart item, recorded if no
    import has seen it, shown with its link box."""
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    try:
        item = walmart_item_for_sku(
            store=store, sku=request.POST.get("sku", ""), product_name=request.POST.get("product_name", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_items_url(store.pk))
    return redirect(_items_url(store.pk, view="all", q=item.sku))
