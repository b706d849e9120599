"""Dashboard pages of the listings app, driven through their forms."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channel_manager.models import Feed
from inventory.models import StockMovement
from listings.models import ImportJob, Listing, Product, StoreAttributeMapping
from tests.listings.factories import ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db


def listings_url(store, **query):
    url = reverse("listings:listing_list", args=[store.pk])
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


# --- membership ----------------------------------------------------------------------------------


def test_non_member_cannot_see_a_stores_listings(operator_client, other_store):
    ListingFactory(store=other_store, product=ProductFactory(sku="SECRET-1"))
    response = operator_client.get(listings_url(other_store))
    assert response.status_code == 404
    assert b"SECRET-1" not in response.content


def test_non_member_cannot_act_on_a_stores_listings(operator_client, other_store):
    listing = ListingFactory(store=other_store)
    StoreAttributeMapping.objects.create(store=other_store, identifiers=["upc"])
    response = operator_client.post(
        reverse("listings:listing_action", args=[other_store.pk]), {"action": "match", "listing": [listing.pk]}
    )
    assert response.status_code == 404
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT
    assert Feed.objects.count() == 0


def test_non_member_cannot_add_products_to_a_store(operator_client, other_store):
    product = ProductFactory()
    response = operator_client.post(
        reverse("listings:add_to_store"), {"store": other_store.pk, "product": [product.pk]}
    )
    assert response.status_code == 404
    assert Listing.objects.count() == 0


def test_non_member_cannot_see_or_change_attribute_mapping(operator_client, other_store):
    url = reverse("listings:attribute_mapping", args=[other_store.pk])
    assert operator_client.get(url).status_code == 404
    assert operator_client.post(url, {"identifier_1": "upc"}).status_code == 404
    assert StoreAttributeMapping.objects.count() == 0


def test_pages_need_login(client, store):
    response = client.get(listings_url(store))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the Listings tab ----------------------------------------------------------------------------


def test_listings_tab_shows_adobe_columns_status_cards_and_filters(operator_client, store):
    ListingFactory(store=store, product=ProductFactory(sku="A-1", name="Alpha", price=Decimal("3.50"), quantity=7))
    ListingFactory(
        store=store,
        product=ProductFactory(sku="B-1", name="Beta"),
        status=Listing.Status.ERROR,
        error_description="No item in the Walmart catalog matches UPC '000000000000'.",
    )
    ListingFactory(store=store, product=ProductFactory(sku="C-1"), status=Listing.Status.MATCH, walmart_item_id="W1")
    response = operator_client.get(listings_url(store))
    page = response.content.decode()
    assert response.status_code == 200
    for column in ("Product name", "SKU", "Quantity", "Price", "Status", "Error description", "Walmart item id"):
        assert column in page
    assert [(card.value, card.count) for card in response.context["status_cards"]] == [
        (None, 3),
        ("draft", 1),
        ("processing", 0),
        ("match", 1),
        ("match_in_stage", 0),
        ("error", 1),
    ]
    assert [listing.product.sku for listing in response.context["page"].rows] == ["A-1", "B-1", "C-1"]
    # when filtered by the Error card
    response = operator_client.get(listings_url(store, status="error"))
    assert [listing.product.sku for listing in response.context["page"].rows] == ["B-1"]
    assert response.context["page"].total == 1
    assert "No item in the Walmart catalog matches UPC" in response.content.decode()
    # search and sort
    response = operator_client.get(listings_url(store, q="Beta"))
    assert [listing.product.sku for listing in response.context["page"].rows] == ["B-1"]
    assert response.context["page"].total == 1
    response = operator_client.get(listings_url(store, sort="-sku"))
    assert [listing.product.sku for listing in response.context["page"].rows] == ["C-1", "B-1", "A-1"]


def test_listings_sort_by_quantity_breaks_ties_by_product_both_ways(operator_client, store):
    # products made in one order, their listings in another: equal quantities go by product, not by listing
    first, empty, second, two = (
        ProductFactory(sku=sku, quantity=quantity)
        for sku, quantity in [("Q-FIRST", 5), ("Q-EMPTY", 0), ("Q-SECOND", 5), ("Q-TWO", 2)]
    )
    for product in (second, first, two, empty):
        ListingFactory(store=store, product=product)

    def skus(**query):
        return [listing.product.sku for listing in operator_client.get(listings_url(store, **query)).context["page"]]

    assert skus(sort="quantity") == ["Q-EMPTY", "Q-TWO", "Q-FIRST", "Q-SECOND"]
    assert skus(sort="-quantity") == ["Q-SECOND", "Q-FIRST", "Q-TWO", "Q-EMPTY"]


def test_product_quantity_sort_index_exists():
    # built by AddIndexConcurrently: CONCURRENTLY on PostgreSQL, a plain CREATE INDEX elsewhere
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Product._meta.db_table)
    assert constraints["product_quantity_id_idx"]["columns"] == ["quantity", "id"]


def test_listings_search_an_item_id_exactly_first_then_sku_start_or_name_part(operator_client, store):
    ListingFactory(store=store, product=ProductFactory(sku="MUG-1", name="Blue mug"), walmart_item_id="555")
    ListingFactory(store=store, product=ProductFactory(sku="555-X", name="Lamp 555"))
    ListingFactory(store=other_listing_store(), product=ProductFactory(sku="MUG-9", name="Red mug"))

    def skus(**query):
        return [listing.product.sku for listing in operator_client.get(listings_url(store, **query)).context["page"]]

    assert skus(q="555") == ["MUG-1"]  # the item id, exactly
    assert skus(q="555-") == ["555-X"]  # the start of a SKU
    assert skus(q="mug") == ["MUG-1"]  # part of a name, in this store only
    assert skus(q="mug", status="error") == []


@pytest.mark.parametrize("limit", [1, 1000])
def test_listings_name_search_same_rows_whether_few_or_many_products_match(operator_client, store, monkeypatch, limit):
    # few matches: the products' ids are read once and the listings filtered by them; many: a subquery
    monkeypatch.setattr("listings.selectors.PRODUCT_MATCH_LIMIT", limit)
    for sku, name in [("MUG-1", "Blue mug"), ("MUG-2", "Red mug"), ("LAMP-1", "Desk lamp")]:
        ListingFactory(store=store, product=ProductFactory(sku=sku, name=name))
    ProductFactory(sku="MUG-3", name="Green mug")  # no listing in this store

    def skus(**query):
        page = operator_client.get(listings_url(store, **query)).context["page"]
        return [listing.product.sku for listing in page], int(page.total)

    assert skus(q="mug") == (["MUG-1", "MUG-2"], 2)
    assert skus(q="mug", sort="-sku") == (["MUG-2", "MUG-1"], 2)
    assert skus(q="lamp") == (["LAMP-1"], 1)
    assert skus(q="nothing like it") == ([], 0)


def other_listing_store():
    from tests.factories import StoreFactory

    return StoreFactory(name="Another store")


def test_listings_tab_query_count_does_not_grow_with_page_size(operator_client, store):
    for _ in range(30):
        ListingFactory(store=store)
    counts = []
    for size in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = operator_client.get(listings_url(store, per_page=size))
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(response.context["page"].rows) == 30
    assert counts[0] == counts[1]


def test_match_action_without_mapping_sends_nothing_and_says_what_to_do(operator_client, store):
    listing = ListingFactory(store=store)
    response = operator_client.post(
        reverse("listings:listing_action", args=[store.pk]), {"action": "match", "listing": [listing.pk]}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("listings:attribute_mapping", args=[store.pk])
    assert "Open Channel Settings &gt; Map Attributes" in response.content.decode()
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT
    assert Feed.objects.count() == 0


def test_reset_to_draft_action(operator_client, store):
    listing = ListingFactory(store=store, status=Listing.Status.ERROR, error_description="boom")
    response = operator_client.post(
        reverse("listings:listing_action", args=[store.pk]),
        {"action": "reset", "listing": [listing.pk]},
        follow=True,
    )
    assert "1 listing reset to Draft." in response.content.decode()
    listing.refresh_from_db()
    assert (listing.status, listing.error_description) == (Listing.Status.DRAFT, "")


def test_action_ignores_ids_of_another_store(operator_client, store, other_store):
    foreign = ListingFactory(store=other_store, status=Listing.Status.ERROR, error_description="x")
    response = operator_client.post(
        reverse("listings:listing_action", args=[store.pk]), {"action": "reset", "listing": [foreign.pk]}, follow=True
    )
    assert "0 listings reset to Draft." in response.content.decode()
    foreign.refresh_from_db()
    assert foreign.status == Listing.Status.ERROR


# --- Map Attributes ------------------------------------------------------------------------------


def test_map_attributes_saves_priority_order(operator_client, store):
    url = reverse("listings:attribute_mapping", args=[store.pk])
    response = operator_client.post(url, {"identifier_1": "gtin", "identifier_2": "upc"}, follow=True)
    assert "Attribute mapping saved." in response.content.decode()
    assert StoreAttributeMapping.objects.get(store=store).identifiers == ["gtin", "upc"]
    response = operator_client.post(url, {"identifier_1": "upc", "identifier_2": "upc"})
    assert "Each identifier can be chosen only once." in response.content.decode()
    response = operator_client.post(url, {})
    assert "Map at least one identifier" in response.content.decode()
    assert StoreAttributeMapping.objects.get(store=store).identifiers == ["gtin", "upc"]


# --- catalog -------------------------------------------------------------------------------------


def test_add_selected_products_to_store_is_idempotent(operator_client, store):
    first, second = ProductFactory(), ProductFactory()
    existing = ListingFactory(store=store, product=first, status=Listing.Status.MATCH)
    response = operator_client.post(
        reverse("listings:add_to_store"), {"store": store.pk, "product": [first.pk, second.pk]}, follow=True
    )
    assert "1 product added to Main Walmart store in Draft (1 already listed)." in response.content.decode()
    assert sorted(Listing.objects.values_list("product_id", "status")) == [
        (first.pk, "match"),
        (second.pk, "draft"),
    ]
    existing.refresh_from_db()
    assert existing.status == Listing.Status.MATCH


def test_add_all_products_that_match_the_filter(operator_client, store):
    ProductFactory(sku="MUG-1", name="Mug")
    ProductFactory(sku="MUG-2", name="Big mug")
    ProductFactory(sku="PLATE-1", name="Plate")
    operator_client.post(reverse("listings:add_to_store"), {"store": store.pk, "all_matching": "1", "q": "mug"})
    assert sorted(Listing.objects.values_list("product__sku", flat=True)) == ["MUG-1", "MUG-2"]


def test_product_edit_form_routes_quantity_through_the_stock_service(operator_client):
    product = ProductFactory(sku="MUG-1", quantity=5, upc="036000291452")
    url = reverse("listings:product_edit", args=[product.pk])
    data = {
        "sku": "MUG-1",
        "name": "Mug",
        "upc": "036000291452",
        "price": "12.00",
        "quantity": "9",
        "shipping_weight": "1.25",
    }
    response = operator_client.post(url, data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.quantity, product.name) == (Decimal("12.00"), 9, "Mug")
    assert list(StockMovement.objects.values_list("delta", "reason", "actor")) == [(4, "catalog_edit", "operator")]


def test_product_edit_form_reports_a_wrong_check_digit_and_changes_nothing(operator_client):
    product = ProductFactory(sku="MUG-1", quantity=5, upc="036000291452", price=Decimal("9.99"))
    url = reverse("listings:product_edit", args=[product.pk])
    data = {"sku": "MUG-1", "name": "Mug", "upc": "036000291453", "price": "1.00", "quantity": "1"}
    response = operator_client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "upc": ["UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3."]
    }
    product.refresh_from_db()
    assert (product.upc, product.price, product.quantity) == ("036000291452", Decimal("9.99"), 5)
    assert StockMovement.objects.count() == 0


def test_product_create_form(operator_client):
    data = {"sku": "NEW-1", "name": "New", "ean": "4006381333931", "price": "5", "quantity": "2"}
    response = operator_client.post(reverse("listings:product_create"), data)
    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-1")
    assert (product.ean, product.price, product.quantity) == ("4006381333931", Decimal("5.00"), 2)


def test_catalog_search_and_pagination(operator_client):
    for number in range(30):
        ProductFactory(sku=f"MUG-{number:02d}")
    response = operator_client.get(reverse("listings:product_list"), {"q": "MUG-2"})
    assert [product.sku for product in response.context["page"].rows] == [f"MUG-{n}" for n in range(20, 30)]
    response = operator_client.get(reverse("listings:product_list"), {"page": 2})
    assert [product.sku for product in response.context["page"].rows] == [
        "MUG-25",
        "MUG-26",
        "MUG-27",
        "MUG-28",
        "MUG-29",
    ]


def test_upload_import_runs_and_shows_each_bad_row(operator_client, django_capture_on_commit_callbacks):
    content = b"sku,name,price,quantity\nA-1,Alpha,1.00,1\nA-2,Beta,1.001,1\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            reverse("listings:import"), {"file": SimpleUploadedFile("catalog.csv", content)}, follow=False
        )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("listings:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count, job.created_by.username) == ("done", 1, 1, "operator")
    progress = operator_client.get(reverse("listings:import_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in progress  # finished: the partial stops polling
    assert "Price can have at most two decimals (e.g. 9.99), got 1.001." in progress
    errors_csv = b"".join(operator_client.get(reverse("listings:import_errors_csv", args=[job.pk])).streaming_content)
    assert list(csv.reader(io.StringIO(errors_csv.decode()))) == [
        ["row", "sku", "field", "message"],
        ["3", "A-2", "price", "Price can have at most two decimals (e.g. 9.99), got 1.001."],
    ]


def test_running_import_progress_partial_polls(operator_client, operator):
    job = ImportJob.objects.create(
        file="x.csv", original_filename="x.csv", file_size=1000, bytes_read=420, status="running", created_by=operator
    )
    progress = operator_client.get(reverse("listings:import_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in progress
    assert 'value="42"' in progress


def test_template_download_reimports_cleanly(operator_client, django_capture_on_commit_callbacks):
    response = operator_client.get(reverse("listings:import_template"))
    content = b"".join(response.streaming_content)
    assert content.decode().splitlines()[0] == (
        "sku,name,brand,description,image_url,upc,gtin,ean,isbn,issn,price,quantity,shipping_weight"
    )
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(reverse("listings:import"), {"file": SimpleUploadedFile("template.csv", content)})
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["BOOK-042", "MUG-001"]
    assert ImportJob.objects.get().error_count == 0


def test_export_round_trips(operator_client):
    ProductFactory(sku="A-1", name="Alpha, with comma", price=Decimal("1.50"), quantity=3, shipping_weight=None)
    response = operator_client.get(reverse("listings:export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][:2] == ["A-1", "Alpha, with comma"]
    assert rows[1][10:] == ["1.50", "3", ""]


def test_listing_rows_escape_text_and_show_walmart_state(operator_client, store):
    from django.utils import timezone

    ListingFactory(
        store=store,
        product=ProductFactory(sku="X-1", name="<script>alert(1)</script>"),
        status=Listing.Status.MATCH_IN_STAGE,
        price_override=Decimal("4.20"),
        published_status="UNPUBLISHED",
        lifecycle_status="ACTIVE",
        unpublished_reasons=["Price <too> high"],
        walmart_item_id="W1",
        last_synced_at=timezone.now(),
    )
    page = operator_client.get(listings_url(store)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '4.20 <small class="muted">(store price)</small>' in page
    assert "Staged for Match: goes live when the Walmart store is live." in page
    assert '<small class="muted">Unpublished · Active</small>' in page
    assert "<small>Unpublished: Price &lt;too&gt; high</small>" in page
    assert "Match - Match in Stage" in page


def test_processing_listing_says_when_it_was_sent(operator_client, store):
    from datetime import UTC, datetime

    ListingFactory(
        store=store, status=Listing.Status.PROCESSING, match_submitted_at=datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
    )
    page = operator_client.get(listings_url(store)).content.decode()
    assert "Sent for matching at 2026-05-04 10:30; results are read from Walmart every minute." in page
