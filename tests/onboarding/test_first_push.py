"""Linked items join the sync without a match feed, but the first push of a newly linked store waits for the
operator: the dry run says what would change, nothing is sent before the confirmation, everything after."""

from decimal import Decimal

import pytest

from listings.models import Listing
from onboarding.selectors import first_push_preview
from onboarding.services import first_push_confirm, walmart_item_link, walmart_items_link
from sync.selectors import sync_rows
from tests.factories import StoreFactory
from tests.onboarding.factories import walmart_item
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return StoreFactory(is_live=True)


def test_the_first_push_is_previewed_and_waits_for_confirmation(store):
    # given: two linked items; Walmart holds 4 x 12.00 and 9 x 5.00, the catalog 10 x 12.00 and 9 x 6.00
    ProductFactory(sku="MUG-1", quantity=10, price=Decimal("12.00"))
    ProductFactory(sku="MUG-2", quantity=9, price=Decimal("6.00"))
    walmart_item(store, "MUG-1", quantity=4, price="12.00")
    walmart_item(store, "MUG-2", quantity=9, price="5.00")
    walmart_items_link(store=store)
    # then: the sync plans nothing for them
    assert sync_rows(store=store, stream="inventory") == []
    assert sync_rows(store=store, stream="price") == []
    # and the dry run says what the first push would change
    preview = first_push_preview(store=store)
    assert (preview.held, preview.quantity_changes, preview.price_changes) == (2, 1, 1)
    assert [
        (row.walmart_sku, row.walmart_quantity, row.quantity, row.walmart_price, row.price) for row in preview.rows
    ] == [
        ("MUG-1", 4, 10, Decimal("12.00"), Decimal("12.00")),
        ("MUG-2", 9, 9, Decimal("5.00"), Decimal("6.00")),
    ]
    # when: the operator confirms
    released = first_push_confirm(store=store)
    # then: both join the sync, which now plans exactly the differences,
    assert released == 2
    assert not Listing.objects.filter(sync_held=True).exists()
    inventory = {row.sku: (row.desired, row.confirmed) for row in sync_rows(store=store, stream="inventory")}
    assert inventory == {"MUG-1": (10, 4), "MUG-2": (9, 9)}
    assert first_push_preview(store=store).held == 0


def test_after_the_confirmation_a_new_link_joins_the_sync_at_once(store):
    ProductFactory(sku="MUG-1")
    walmart_item(store, "MUG-1", quantity=4, price="12.00")
    walmart_items_link(store=store)
    first_push_confirm(store=store)
    # when: another item is linked by hand
    product = ProductFactory(sku="CAT-2", quantity=6)
    item = walmart_item(store, "LEGACY-2", quantity=1, price="3.00")
    listing = walmart_item_link(item=item, product=product)
    # then
    assert listing.sync_held is False
    assert {row.sku for row in sync_rows(store=store, stream="inventory")} == {"MUG-1", "LEGACY-2"}
