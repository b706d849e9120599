"""Admin: the stock movement log is read-only."""

import pytest
from django.urls import reverse

from inventory.models import StockMovement
from inventory.services import stock_move
from tests.inventory.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_stock_movements_cannot_be_added_or_changed_in_admin(admin_client):
    movement_product = ProductFactory(quantity=3)
    stock_move(product=movement_product, delta=-1, reason="manual", actor="admin")
    movement = StockMovement.objects.get()
    assert admin_client.get(reverse("admin:inventory_stockmovement_add")).status_code == 403
    admin_client.post(reverse("admin:inventory_stockmovement_change", args=[movement.pk]), {"delta": "50"})
    assert StockMovement.objects.get().delta == -1
