"""The customer-name search's planner statistics (orders 0011, returns 0005): on PostgreSQL the trigram index's
expression keeps 1,000 common values, so a name shared by thousands of rows is estimated as such."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics"),
]


@pytest.mark.parametrize("index", ["order_customer_name_trgm_idx", "return_customer_name_trgm_idx"])
def test_customer_name_trigram_expression_keeps_a_thousand_common_values(index):
    with connection.cursor() as cursor:
        cursor.execute("SELECT attstattarget FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1", [index])
        (target,) = cursor.fetchone()
    assert target == 1000
