"""Factories of the listings app's tests."""

from decimal import Decimal

import factory

from listings.identifiers import gs1_check_digit
from listings.models import Listing, Product
from tests.factories import StoreFactory


def upc_for(number: int) -> str:
    body = f"{number:011d}"
    return body + str(gs1_check_digit(body))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda number: f"SKU-{number:05d}")
    name = factory.Sequence(lambda number: f"Product {number}")
    brand = "Acme"
    upc = factory.Sequence(lambda number: upc_for(70_000_000 + number))
    price = Decimal("9.99")
    quantity = 5
    shipping_weight = Decimal("1.25")


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    store = factory.SubFactory(StoreFactory)
    product = factory.SubFactory(ProductFactory)
