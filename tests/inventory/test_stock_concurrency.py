"""Concurrent reservations on PostgreSQL: the row lock and the F() update lose no unit and never go below
zero (SQLite serialises writers anyway; an in-memory SQLite database cannot be shared across threads)."""

import threading

import pytest
from django.db import connection

from inventory.models import StockMovement
from inventory.services import stock_move
from listings.models import Product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)")
def test_thirty_concurrent_reservations_of_twenty_units_end_at_zero_with_ten_short():
    # given
    product = Product.objects.create(sku="HOT-1", name="Hot item", price="5.00", quantity=20)
    errors = []

    def reserve(worker: int) -> None:
        try:
            for number in range(3):
                stock_move(
                    product=Product(pk=product.pk, sku="HOT-1"),
                    delta=-1,
                    reason="order_reservation",
                    actor="webhook",
                    reference=f"PO-{worker}-{number}",
                )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    # when: ten workers reserve three units each at the same time
    threads = [threading.Thread(target=reserve, args=(worker,)) for worker in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert Product.objects.get(pk=product.pk).quantity == 0
    movements = list(StockMovement.objects.values_list("delta", "shortfall", "quantity_after"))
    assert len(movements) == 30
    assert sum(delta for delta, _, _ in movements) == -20
    assert sum(short for _, short, _ in movements) == 10
    assert sorted({after for _, _, after in movements}) == list(range(20))
