"""Dashboard pages of the listings app: the catalog (list, edit, import, export), Map Attributes and a
store's Listings tab with its bulk actions.

Thin: selectors load (a store the user is not a member of is a 404), forms validate, services write.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channel_manager.csv_files import csv_response
from channel_manager.listing_pages import column_headers, list_query_from_request, status_cards
from channel_manager.numbers import query_int
from channel_manager.selectors import Role, store_get, store_list
from channel_manager.uploads import upload_refused
from listings import permissions as catalog
from listings.catalog_io import CSV_COLUMNS, TEMPLATE_EXAMPLE_ROWS, CatalogFileInvalid, export_row
from listings.forms import AddToStoreForm, AttributeMappingForm, ImportUploadForm, ListingActionForm, ProductForm
from listings.models import ImportJob, Listing, Product
from listings.selectors import (
    DEFAULT_LISTING_SORT,
    LISTING_SORTS,
    attribute_mapping_get,
    import_job_get,
    import_job_list,
    import_row_errors,
    listing_list,
    listing_page,
    listing_status_counts,
    product_list,
    product_page,
)
from listings.services import (
    MatchNotConfigured,
    ProductInvalid,
    attribute_mapping_save,
    import_job_create,
    listings_add,
    listings_match,
    listings_reread_queue,
    listings_reset_to_draft,
    listings_retire_queue,
    product_create,
    product_update,
)

IMPORT_ERRORS_SHOWN = 500


# --- catalog -------------------------------------------------------------------------------------


@require_GET
@permission_required(catalog.VIEW, raise_exception=True)
def product_list_view(request: HttpRequest) -> HttpResponse:
    query = list_query_from_request(request)
    page = product_page(query=query)
    stores = list(store_list(user=request.user, role=Role.OPERATOR))  # where products may be added
    return render(
        request,
        "listings/product_list.html",
        {"page": page, "query": query, "stores": stores, "selected_store": request.GET.get("store", "")},
    )


@require_http_methods(["GET", "POST"])
@permission_required(catalog.ADD, raise_exception=True)
def product_create_view(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            product = product_create(actor=request.user, **form.cleaned_data)
        except ProductInvalid as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Product {product.sku} created.")
            return redirect("listings:product_list")
    return render(request, "listings/product_form.html", {"form": form, "product": None})


@require_http_methods(["GET", "POST"])
@permission_required(catalog.EDIT, raise_exception=True)
def product_edit_view(request: HttpRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=product_id)
    form = ProductForm(request.POST if request.method == "POST" else None, initial=ProductForm.initial_from(product))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            product_update(product=product, actor=request.user, **changes)
        except ProductInvalid as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Product {product.sku} saved.")
            return redirect("listings:product_list")
    return render(request, "listings/product_form.html", {"form": form, "product": product})


def _form_errors(form, error: ProductInvalid) -> None:
    for field_error in error.errors:
        form.add_error(field_error.field if field_error.field in form.fields else None, field_error.message)


@require_POST
@permission_required(catalog.VIEW, raise_exception=True)
def add_to_store_view(request: HttpRequest) -> HttpResponse:
    """Add the selected products (or all that match the search) to a store as Draft listings: the user
    sees the catalog and is an operator of the store."""
    store_id = query_int(request.POST.get("store"), default=0)
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)  # 404 / 403 before anything else
    form = AddToStoreForm(request.POST, stores=[store])
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(f"{reverse('listings:product_list')}?{urlencode({'q': request.POST.get('q', '')})}")
    if form.cleaned_data["all_matching"]:
        products = product_list(search=form.cleaned_data["q"])
        requested = products.count()
    else:
        products = Product.objects.filter(pk__in=form.cleaned_data["product"])
        requested = products.count()
    created = listings_add(store=store, products=products)
    messages.success(
        request,
        ngettext(
            "%(created)d product added to %(store)s in Draft",
            "%(created)d products added to %(store)s in Draft",
            created,
        )
        % {"created": created, "store": store.name}
        + (f" ({requested - created} already listed)." if requested > created else "."),
    )
    return redirect("listings:listing_list", store_id=store.pk)


# --- import / export -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(catalog.IMPORT_EXPORT, raise_exception=True)
def import_view(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"  # bound even when the only field, the file, was refused for its size
    form = ImportUploadForm(
        request.POST if posted else None, request.FILES if posted else None, refused=upload_refused(request)
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(uploaded_file=form.cleaned_data["file"], actor=request.user)
        except CatalogFileInvalid as error:
            form.add_error("file", str(error))
        else:
            return redirect("listings:import_detail", job_id=job.pk)
    return render(
        request,
        "listings/import.html",
        {"form": form, "jobs": import_job_list(user=request.user), "columns": CSV_COLUMNS},
    )


def _import_context(job: ImportJob) -> dict[str, object]:
    context: dict[str, object] = {"job": job}
    if job.is_finished:
        context["row_errors"] = list(import_row_errors(job=job)[:IMPORT_ERRORS_SHOWN])
        context["errors_shown"] = IMPORT_ERRORS_SHOWN
    return context


@require_GET
@permission_required(catalog.IMPORT_EXPORT, raise_exception=True)
def import_detail_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(user=request.user, job_id=job_id)
    return render(request, "listings/import_detail.html", _import_context(job))


@require_GET
@permission_required(catalog.IMPORT_EXPORT, raise_exception=True)
def import_progress_view(request: HttpRequest, job_id: int) -> HttpResponse:
    """The htmx partial polled every second while the import runs."""
    job = import_job_get(user=request.user, job_id=job_id)
    return render(request, "listings/_import_progress.html", _import_context(job))


@require_GET
@permission_required(catalog.IMPORT_EXPORT, raise_exception=True)
def import_errors_csv_view(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = import_job_get(user=request.user, job_id=job_id)

    def rows():
        yield ["row", "sku", "field", "message"]
        for error in import_row_errors(job=job).iterator(chunk_size=2000):
            yield [error.row_number, error.sku, error.field, error.message]

    return csv_response(filename=f"import-{job.pk}-errors.csv", rows=rows())


@require_GET
@permission_required(catalog.IMPORT_EXPORT, raise_exception=True)
def import_template_view(request: HttpRequest) -> StreamingHttpResponse:
    rows = [CSV_COLUMNS, *([example.get(column, "") for column in CSV_COLUMNS] for example in TEMPLATE_EXAMPLE_ROWS)]
    return csv_response(filename="catalog-template.csv", rows=rows)


@require_GET
@permission_required(catalog.IMPORT_EXPORT, raise_exception=True)
def export_view(request: HttpRequest) -> StreamingHttpResponse:
    """The whole catalog (or the search) as CSV in the import format, streamed."""
    products = product_list(search=request.GET.get("q", ""))

    def rows():
        yield CSV_COLUMNS
        for product in products.iterator(chunk_size=2000):
            yield export_row(product)

    return csv_response(filename="catalog.csv", rows=rows())


# --- Map Attributes ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def attribute_mapping_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id, role=Role.MANAGER)
    mapping = attribute_mapping_get(store=store)
    form = AttributeMappingForm(
        request.POST if request.method == "POST" else None,
        initial_identifiers=mapping.identifiers if mapping else [],
    )
    if request.method == "POST" and form.is_valid():
        attribute_mapping_save(store=store, identifiers=form.cleaned_data["identifiers"], actor=request.user)
        messages.success(request, "Attribute mapping saved.")
        return redirect("listings:attribute_mapping", store_id=store.pk)
    return render(
        request,
        "listings/attribute_mapping.html",
        {"store": store, "form": form, "mapping": mapping, "active_tab": "settings"},
    )


# --- the Listings tab ----------------------------------------------------------------------------


@require_GET
def listing_list_view(request: HttpRequest, store_id: int) -> HttpResponse:
    store = store_get(user=request.user, store_id=store_id)
    query = list_query_from_request(
        request, statuses=Listing.Status.values, sorts=LISTING_SORTS, default_sort=DEFAULT_LISTING_SORT
    )
    counts = listing_status_counts(store=store)
    page = listing_page(store=store, query=query, counts=counts)
    status_labels = dict(Listing.Status.choices)
    return render(
        request,
        "listings/listing_list.html",
        {
            "store": store,
            "active_tab": "listings",
            "page": page,
            "query": query,
            "rows": [_listing_row(listing, status_labels) for listing in page.rows],
            "status_cards": status_cards(Listing.Status.choices, counts, query=query),
            "column_headers": column_headers(LISTING_COLUMNS, query=query),
            "select_column": True,
            "has_mapping": attribute_mapping_get(store=store) is not None,
        },
    )


STAGED_DETAIL = "Staged for Match: goes live when the Walmart store is live. "


def buy_box_text(holder) -> str:
    """'Buy box: won at 9.99' / 'Buy box: lost (winning price 8.49)' from Walmart's last BUY_BOX_CHANGED."""
    price = holder.buy_box_price
    if holder.buy_box_won:
        return f"Buy box: won at {price}" if price is not None else "Buy box: won"
    if holder.buy_box_won is False:
        return f"Buy box: lost (winning price {price})" if price is not None else "Buy box: lost"
    return f"Buy box winning price {price}"


def _listing_row(listing: Listing, status_labels: dict) -> dict:
    """One row of the Listings tab, formatted here rather than with template logic (500 rows render in a
    fraction of the time). Values are escaped by the template; the few fragments with markup are built
    with format_html."""
    product = listing.product
    price: SafeString | Decimal
    if listing.price_override is not None:
        price = format_html('{} <small class="muted">(store price)</small>', listing.price_override)
    else:
        price = product.price
    on_walmart = ""
    if listing.published_status or listing.lifecycle_status:
        state = " · ".join(part.title() for part in (listing.published_status, listing.lifecycle_status) if part)
        on_walmart = format_html('<br><small class="muted">{}</small>', state)
    if listing.buy_box_won is not None or listing.buy_box_price is not None:
        on_walmart = format_html("{}<br><small>{}</small>", on_walmart, buy_box_text(listing))
    unpublished = ""
    if listing.unpublished_reasons:
        unpublished = format_html("<br><small>Unpublished: {}</small>", "; ".join(listing.unpublished_reasons))
    synced = ""
    if listing.last_synced_at:
        local = timezone.localtime(listing.last_synced_at)
        synced = format_html('<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%Y-%m-%d %H:%M"))
    detail = listing.error_description
    if listing.status == Listing.Status.MATCH_IN_STAGE:
        detail = STAGED_DETAIL + detail
    elif listing.status == Listing.Status.PROCESSING and listing.match_submitted_at:
        sent = timezone.localtime(listing.match_submitted_at).strftime("%Y-%m-%d %H:%M")
        detail = f"Sent for matching at {sent}; results are read from Walmart every minute."
    return {
        "pk": listing.pk,
        "sku": product.sku,
        "name": product.name,
        "quantity": product.quantity,
        "price": price,
        "status": listing.status,
        "status_label": status_labels[listing.status],
        "on_walmart": on_walmart,
        "detail": detail,
        "unpublished": unpublished,
        "item_id": listing.walmart_item_id,
        "synced": synced,
    }


LISTING_COLUMNS = [
    ("name", "Product name"),
    ("sku", "SKU"),
    ("quantity", "Quantity"),
    ("price", "Price"),
    ("status", "Status"),
    ("error", "Error description"),
    ("item", "Walmart item id"),
    ("synced", "Last sync"),
]


@require_POST
def listing_action_view(request: HttpRequest, store_id: int) -> HttpResponse:
    """Bulk actions on the selected listings (or all that match the filter): Match on Walmart, Re-match,
    Retire, Reset to Draft, Re-read from Walmart."""
    store = store_get(user=request.user, store_id=store_id, role=Role.OPERATOR)
    form = ListingActionForm(request.POST)
    back = reverse("listings:listing_list", args=[store.pk])
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(back)
    data = form.cleaned_data
    if data["all_matching"]:
        listings = listing_list(store=store, status=data["status"], search=data["q"])
    else:
        listings = Listing.objects.filter(store=store, pk__in=data["listing"])
    action = data["action"]
    if action in ("match", "rematch"):
        allowed = Listing.Status.DRAFT if action == "match" else Listing.Status.ERROR
        chosen = listings.order_by().filter(status=allowed)
        skipped_other = listings.order_by().exclude(status=allowed).count()
        try:
            result = listings_match(store=store, listings=chosen, actor=request.user)
        except MatchNotConfigured as error:
            messages.error(request, str(error))
            return redirect("listings:attribute_mapping", store_id=store.pk)
        text = (
            ngettext("%d product sent for matching.", "%d products sent for matching.", result.submitted)
            % result.submitted
        )
        if result.refused:
            text += (
                " "
                + ngettext(
                    "%d could not be sent (see its Error description).",
                    "%d could not be sent (see their Error description).",
                    result.refused,
                )
                % result.refused
            )
        skipped = result.skipped + skipped_other
        if skipped:
            label = "Draft" if action == "match" else "Error"
            text += " " + ngettext(
                "%(n)d skipped (not in %(label)s).", "%(n)d skipped (not in %(label)s).", skipped
            ) % {"n": skipped, "label": label}
        messages.success(request, text)
    elif action == "reset":
        count = listings_reset_to_draft(listings=listings)
        messages.success(request, ngettext("%d listing reset to Draft.", "%d listings reset to Draft.", count) % count)
    else:
        queue = listings_retire_queue if action == "retire" else listings_reread_queue
        count = queue(listings=listings)
        verb = "queued for retirement on Walmart" if action == "retire" else "queued to be re-read from Walmart"
        messages.success(
            request,
            ngettext("%(n)d listing %(verb)s.", "%(n)d listings %(verb)s.", count) % {"n": count, "verb": verb},
        )
    return redirect(back)
