"""Factories for the inventory and pricing tests (catalog products and their listings)."""

from decimal import Decimal

import factory

from listings.models import Listing, Product
from tests.factories import StoreFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda number: f"SKU-{number:06d}")
    name = factory.LazyAttribute(lambda product: f"Product {product.sku}")
    price = Decimal("10.00")
    quantity = 10


class ListingFactory(factory.django.DjangoModelFactory):
    """A matched listing (status Match) whose confirmed values equal the catalog's: nothing to send."""

    class Meta:
        model = Listing

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory(ProductFactory)
    status = Listing.Status.MATCH
    walmart_item_id = factory.Sequence(lambda number: f"{100000 + number}")
    confirmed_quantity = factory.LazyAttribute(lambda listing: listing.product.quantity)
    confirmed_price = factory.LazyAttribute(lambda listing: listing.product.price)
