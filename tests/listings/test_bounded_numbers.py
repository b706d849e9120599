"""A quantity of 5,000 digits (more than Python's int() converts) used to answer 500 on the product form and
fail a whole CSV / JSON Lines import. Now it is one field error: the row is reported, the valid rows import."""

import json

import pytest
from django.urls import reverse

from listings.catalog_io import DESCRIPTION_MAX_LENGTH
from listings.models import ImportJob, Product
from tests.listings.test_catalog_import import errors_of, run_import

pytestmark = pytest.mark.django_db

FIVE_THOUSAND_DIGITS = "9" * 5000
TOO_LARGE = (
    "Quantity is too large (at most 2147483647), got 9999999999999999999999999999999999999999... (5000 characters)."
)


def test_product_form_reports_a_5000_digit_quantity(operator_client):
    data = {"sku": "NEW-1", "name": "New", "price": "5", "quantity": FIVE_THOUSAND_DIGITS}
    response = operator_client.post(reverse("listings:product_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"quantity": [TOO_LARGE]}
    assert Product.objects.count() == 0


def test_product_form_reports_a_price_too_large_for_the_column(operator_client):
    data = {"sku": "NEW-1", "name": "New", "price": "9" * 40 + ".001", "quantity": "1"}
    response = operator_client.post(reverse("listings:product_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "price": [
            "Price is too large (at most 9999999999.99), got 9999999999999999999999999999999999999999... (44 "
            "characters)."
        ]
    }


def test_csv_import_reports_the_row_and_imports_the_valid_ones():
    job = run_import(
        "sku,name,price,quantity\n"
        "A-1,Alpha,1.00,1\n"
        f"A-2,Beta,1.00,{FIVE_THOUSAND_DIGITS}\n"
        f"A-3,Gamma,1.00,-{FIVE_THOUSAND_DIGITS}\n"
        "A-4,Delta,1.00,2147483648\n"
        "A-5,Epsilon,1.00,2147483647\n"
    )
    assert job.status == ImportJob.Status.DONE
    assert errors_of(job) == [
        (3, "quantity", TOO_LARGE),
        (
            4,
            "quantity",
            "Quantity cannot be negative, got -999999999999999999999999999999999999999... (5001 characters).",
        ),
        (5, "quantity", "Quantity is too large (at most 2147483647), got 2147483648."),
    ]
    assert dict(Product.objects.values_list("sku", "quantity")) == {"A-1": 1, "A-5": 2147483647}


def test_jsonl_import_reports_the_rows_and_imports_the_valid_ones():
    lines = [
        {"sku": "J-1", "name": "One", "price": 1, "quantity": 3},
        {"sku": "J-2", "name": "Two", "price": 1, "quantity": FIVE_THOUSAND_DIGITS},  # a string
        {"sku": "J-4", "name": "Four", "price": 1, "quantity": 1, "description": "d" * (DESCRIPTION_MAX_LENGTH + 1)},
        {"sku": "J-5", "name": "Five", "price": 1, "quantity": 1, "description": "d" * DESCRIPTION_MAX_LENGTH},
    ]
    text = "\n".join(json.dumps(line) for line in lines[:2])
    text += '\n{"sku": "J-3", "name": "Three", "price": 1, "quantity": ' + FIVE_THOUSAND_DIGITS + "}\n"  # a number
    text += "\n".join(json.dumps(line) for line in lines[2:]) + "\n"
    job = run_import(text, name="catalog.jsonl")
    assert job.status == ImportJob.Status.DONE
    assert errors_of(job) == [
        (2, "quantity", TOO_LARGE),
        (3, "", "Row has a number with more digits than any field accepts."),
        (4, "description", f"can have at most {DESCRIPTION_MAX_LENGTH} characters, got {DESCRIPTION_MAX_LENGTH + 1}."),
    ]
    assert dict(Product.objects.values_list("sku", "quantity")) == {"J-1": 3, "J-5": 1}
