import pytest

from listings.models import StoreAttributeMapping


@pytest.fixture
def upc_mapping(store):
    return StoreAttributeMapping.objects.create(store=store, identifiers=["upc", "gtin"])
