"""Factories for the inventory and pricing tests (catalog products and their listings)."""

from decimal import Decimal

import factory

from listings.models import Listing, Product
from tests.factories import StoreFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda number: f"P-{number:06d}")
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


def listings_create(
    store,
    count,
    *,
    quantity=10,
    confirmed_quantity=10,
    price="10.00",
    confirmed_price="10.00",
    prefix="SKU",
    status=Listing.Status.MATCH,
):
    """`count` products and their listings in `store`, in bulk. Returns the listings, in SKU order."""
    products = Product.objects.bulk_create(
        [
            Product(sku=f"{prefix}-{i:06d}", name=f"Product {i}", price=Decimal(price), quantity=quantity)
            for i in range(count)
        ]
    )
    return Listing.objects.bulk_create(
        [
            Listing(
                store=store,
                product=product,
                status=status,
                confirmed_quantity=confirmed_quantity,
                confirmed_price=Decimal(confirmed_price) if confirmed_price is not None else None,
            )
            for product in products
        ]
    )
