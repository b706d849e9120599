"""Auto-link: each Walmart item links to a catalog product by its listing, its SKU, then by GTIN / UPC / EAN /
ISBN (compared as GTIN-14s, check digits verified); ambiguous items are never linked; an item never links to
two products, nor a product to two items; the operator's link / create / ignore."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from listings.models import Listing, Product
from listings.services import ProductInvalid
from onboarding.models import WalmartItem
from onboarding.services import (
    walmart_item_link,
    walmart_item_product_create,
    walmart_items_ignore,
    walmart_items_link,
)
from tests.factories import StoreFactory
from tests.onboarding.factories import walmart_item
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db

UPC = "036000291452"  # a real UPC-A
EAN = "4006381333931"
ISBN13 = "9780306406157"
ISBN10 = "0306406152"  # the same book as ISBN13
GTIN14 = "10036000291459"


@pytest.fixture
def store():
    return StoreFactory(is_live=True)


def link_of(item) -> tuple[str, str, str | None]:
    item.refresh_from_db()
    return item.link_status, item.link_method, item.listing.product.sku if item.listing else None


def test_an_item_links_to_the_product_with_its_sku(store):
    # given
    ProductFactory(sku="MUG-1", quantity=30, price=Decimal("15.00"))
    item = walmart_item(store, "MUG-1", quantity=4, price="12.50")
    # when
    result = walmart_items_link(store=store)
    # then: a listing already matched, with Walmart's values as confirmed, held until the first push
    assert (result.linked, result.unmanaged, result.ambiguous) == (1, 0, 0)
    assert link_of(item) == ("linked", "sku", "MUG-1")
    listing = Listing.objects.get(store=store)
    assert (listing.walmart_sku, listing.status, listing.confirmed_quantity, listing.confirmed_price) == (
        "MUG-1",
        Listing.Status.MATCH,
        4,
        Decimal("12.50"),
    )
    assert (listing.published_status, listing.lifecycle_status, listing.sync_held) == ("PUBLISHED", "ACTIVE", True)
    assert listing.match_feed_id is None


@pytest.mark.parametrize(
    ("field", "catalog_value", "walmart_gtin", "walmart_upc"),
    [
        ("upc", UPC, "", UPC),
        ("upc", UPC, "00" + UPC, ""),
        ("gtin", GTIN14, GTIN14, ""),
        ("ean", EAN, "0" + EAN, ""),
        ("isbn", ISBN13, "0" + ISBN13, ""),
        ("isbn", ISBN10, "0" + ISBN13, ""),
    ],
)
def test_an_item_links_by_each_identifier_type(store, field, catalog_value, walmart_gtin, walmart_upc):
    # given: the catalog knows the product under another SKU, with the identifier in one of its fields
    ProductFactory(sku="CAT-1", **{field: catalog_value})
    item = walmart_item(store, "WM-1", gtin=walmart_gtin, upc=walmart_upc)
    # when
    walmart_items_link(store=store)
    # then
    assert link_of(item) == ("linked", field, "CAT-1")
    assert Listing.objects.get(store=store).walmart_sku == "WM-1"


def test_the_sku_wins_over_an_identifier(store):
    ProductFactory(sku="WM-1")
    ProductFactory(sku="CAT-1", upc=UPC)
    item = walmart_item(store, "WM-1", upc=UPC)
    walmart_items_link(store=store)
    assert link_of(item) == ("linked", "sku", "WM-1")
    assert Listing.objects.filter(store=store).count() == 1


def test_an_existing_listing_is_the_items_listing(store):
    product = ProductFactory(sku="MUG-1")
    listing = Listing.objects.create(store=store, product=product, status=Listing.Status.MATCH)
    item = walmart_item(store, "MUG-1")
    walmart_items_link(store=store)
    item.refresh_from_db()
    assert (item.link_status, item.link_method, item.listing_id) == ("linked", "listing", listing.pk)
    assert Listing.objects.filter(store=store).count() == 1


def test_two_products_sharing_the_identifier_are_ambiguous_and_never_linked(store):
    ProductFactory(sku="CAT-A", upc=UPC)
    ProductFactory(sku="CAT-B", gtin="00" + UPC)
    item = walmart_item(store, "WM-1", upc=UPC)
    result = walmart_items_link(store=store)
    assert (result.linked, result.ambiguous) == (0, 1)
    assert link_of(item) == ("ambiguous", "", None)
    assert item.link_note == "2 catalog products share its identifier (CAT-A, CAT-B): link one by hand."
    assert not Listing.objects.filter(store=store).exists()


def test_a_product_two_items_claim_is_linked_to_neither(store):
    ProductFactory(sku="CAT-1", upc=UPC)
    first = walmart_item(store, "WM-1", upc=UPC)
    second = walmart_item(store, "WM-2", gtin="00" + UPC)
    result = walmart_items_link(store=store)
    assert (result.linked, result.ambiguous) == (0, 2)
    assert link_of(first) == ("ambiguous", "", None)
    assert link_of(second) == ("ambiguous", "", None)
    assert first.link_note == "Catalog product CAT-1 matches 2 Walmart items (WM-1, WM-2): link one by hand."
    assert not Listing.objects.filter(store=store).exists()


def test_a_product_already_offered_under_another_walmart_sku_is_not_linked_again(store):
    product = ProductFactory(sku="CAT-1", upc=UPC)
    Listing.objects.create(store=store, product=product, walmart_sku="OTHER-SKU")
    item = walmart_item(store, "WM-1", upc=UPC)
    walmart_items_link(store=store)
    assert link_of(item) == ("unmanaged", "", None)
    assert Listing.objects.filter(store=store).count() == 1


def test_a_wrong_check_digit_on_walmart_is_not_used(store):
    ProductFactory(sku="CAT-1", upc=UPC)
    item = walmart_item(store, "WM-1", upc=UPC[:-1] + "3")
    walmart_items_link(store=store)
    assert link_of(item) == ("unmanaged", "", None)
    assert item.gtin == ""
    assert item.identifier_note == (
        "Walmart's UPC: UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3."
    )


def test_linking_twice_links_nothing_twice_and_ignored_items_stay_out(store):
    ProductFactory(sku="MUG-1")
    ProductFactory(sku="MUG-2")
    walmart_item(store, "MUG-1")
    ignored = walmart_item(store, "MUG-2")
    walmart_items_ignore(items=WalmartItem.objects.filter(pk=ignored.pk))
    first = walmart_items_link(store=store)
    second = walmart_items_link(store=store)
    assert (first.linked, second.linked) == (1, 0)
    assert Listing.objects.filter(store=store).count() == 1
    assert link_of(ignored) == ("ignored", "", None)


def test_the_operator_links_an_unmanaged_item_to_a_product(store):
    product = ProductFactory(sku="CAT-9")
    item = walmart_item(store, "LEGACY-9")
    walmart_items_link(store=store)
    listing = walmart_item_link(item=item, product=product)
    assert link_of(item) == ("linked", "manual", "CAT-9")
    assert (listing.walmart_sku, listing.product_id) == ("LEGACY-9", product.pk)
    # and the product cannot be linked to a second item
    other = walmart_item(store, "LEGACY-10")
    with pytest.raises(ValidationError) as error:
        walmart_item_link(item=other, product=product)
    assert error.value.messages == ["Product CAT-9 is already offered in this store as Walmart SKU LEGACY-9."]
    assert link_of(other) == ("new", "", None)


def test_a_product_is_created_from_an_unmanaged_item(store):
    item = walmart_item(store, "LEGACY-1", upc=UPC, quantity=9, price="19.99", product_name="Blue Kettle", brand="Acme")
    listing = walmart_item_product_create(item=item)
    product = Product.objects.get(sku="LEGACY-1")
    assert (product.name, product.brand, product.price, product.quantity, product.gtin) == (
        "Blue Kettle",
        "Acme",
        Decimal("19.99"),
        9,
        "00" + UPC,
    )
    assert link_of(item) == ("linked", "created", "LEGACY-1")
    assert listing.confirmed_quantity == 9
    # a second item with a SKU the catalog has is refused with the reason
    taken = walmart_item(store, "LEGACY-1-B")
    ProductFactory(sku="LEGACY-1-B")
    with pytest.raises(ProductInvalid, match="A product with SKU LEGACY-1-B already exists"):
        walmart_item_product_create(item=taken)
