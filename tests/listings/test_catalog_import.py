"""Catalog import: every bad row reported exactly, the good ones kept, a re-import updates."""

import json
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from inventory.models import StockMovement
from listings.catalog_import import catalog_import_run
from listings.models import ImportJob, ImportRowError, Product
from listings.services import import_job_create

pytestmark = pytest.mark.django_db

HEADER = "sku,name,brand,upc,gtin,price,quantity,shipping_weight\n"


def run_import(content: str | bytes, name: str = "catalog.csv", batch_size: int = 1000) -> ImportJob:
    data = content.encode() if isinstance(content, str) else content
    job = import_job_create(uploaded_file=SimpleUploadedFile(name, data), run=False)
    return catalog_import_run(job=job, batch_size=batch_size)


def errors_of(job) -> list[tuple[int, str, str]]:
    return list(
        ImportRowError.objects.filter(job=job)
        .order_by("row_number", "id")
        .values_list("row_number", "field", "message")
    )


def test_good_rows_imported_and_every_bad_row_reported_exactly():
    # given a CSV with three good rows and four bad ones (one with two bad fields)
    csv_text = (
        HEADER
        + "MUG-1,Mug,Acme,036000291452,,9.99,10,1.25\n"  # row 2 good
        + "MUG-2,Mug two,Acme,036000291453,,9.99,3,1.25\n"  # row 3 wrong UPC check digit
        + "MUG-3,Mug three,Acme,,00012345600012,12.50,0,\n"  # row 4 good (GTIN)
        + "MUG-4,Mug four,Acme,,,9.999,-1,1.00\n"  # row 5 bad price and bad quantity
        + ",No sku,Acme,,,1.00,1,1.00\n"  # row 6 no SKU
        + "MUG-5,Mug five,Acme,,,1.00,1\n"  # row 7 missing a cell
        + "MUG-6,Mug six,,4006381333931,,5,7,0.5\n"  # row 8 good? 13 digits in the UPC column -> refused
        + "MUG-7,Mug seven,,,,5,7,0.5\n"  # row 9 good
    )
    # when
    job = run_import(csv_text, batch_size=3)
    # then
    assert job.status == ImportJob.Status.DONE
    assert errors_of(job) == [
        (3, "upc", "UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3."),
        (5, "price", "Price can have at most two decimals (e.g. 9.99), got 9.999."),
        (5, "quantity", "Quantity cannot be negative, got -1."),
        (6, "sku", "SKU is required."),
        (7, "", "Row has 7 cells but the header has 8 columns."),
        (8, "upc", "UPC must have 12 digits (GTIN-12), got 13: 4006381333931."),
    ]
    assert (job.rows_processed, job.created_count, job.updated_count, job.error_count) == (8, 3, 0, 5)
    products = {product.sku: product for product in Product.objects.all()}
    assert sorted(products) == ["MUG-1", "MUG-3", "MUG-7"]
    assert (products["MUG-1"].upc, products["MUG-1"].price, products["MUG-1"].quantity) == (
        "036000291452",
        Decimal("9.99"),
        10,
    )
    assert (products["MUG-3"].gtin, products["MUG-3"].shipping_weight) == ("00012345600012", None)
    # and the quantities went through the stock service, logged as an import
    assert sorted(StockMovement.objects.values_list("product__sku", "delta", "reason")) == [
        ("MUG-1", 10, "import"),
        ("MUG-7", 7, "import"),
    ]


def test_reimport_updates_instead_of_duplicating():
    # given
    run_import(HEADER + "MUG-1,Mug,Acme,036000291452,,9.99,10,1.25\nMUG-2,Plate,Acme,,,4.00,2,\n")
    created_at = Product.objects.get(sku="MUG-1").created_at
    # when the same SKUs come again with new values, and only some columns
    job = run_import("sku,price,quantity\nMUG-1,11.00,4\nMUG-2,4.50,2\n")
    # then
    assert (job.created_count, job.updated_count, job.error_count) == (0, 2, 0)
    assert Product.objects.count() == 2
    mug = Product.objects.get(sku="MUG-1")
    assert (mug.name, mug.upc, mug.price, mug.quantity, mug.created_at) == (
        "Mug",
        "036000291452",
        Decimal("11.00"),
        4,
        created_at,
    )
    assert list(StockMovement.objects.filter(product=mug).order_by("id").values_list("delta", flat=True)) == [10, -6]
    # when the same file comes a third time, nothing is written
    updated_at = Product.objects.get(sku="MUG-1").updated_at
    job = run_import("sku,price,quantity\nMUG-1,11.00,4\nMUG-2,4.50,3\n")
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 1)
    assert Product.objects.get(sku="MUG-1").updated_at == updated_at
    assert StockMovement.objects.count() == 4


def test_new_product_needs_name_and_price_when_columns_are_missing():
    job = run_import("sku,quantity\nNEW-1,5\n")
    assert errors_of(job) == [
        (2, "name", "name is required for a new product (SKU NEW-1 is not in the catalog)."),
        (2, "price", "price is required for a new product (SKU NEW-1 is not in the catalog)."),
    ]
    assert Product.objects.count() == 0
    assert StockMovement.objects.count() == 0


def test_duplicate_sku_in_one_file_keeps_the_first_and_reports_the_second():
    job = run_import("sku,name,price\nA-1,First,1.00\nA-1,Second,2.00\n")
    assert errors_of(job) == [(3, "sku", "SKU A-1 appears again in this file (first on row 2); row skipped.")]
    assert list(Product.objects.values_list("sku", "name")) == [("A-1", "First")]


def test_semicolon_separated_csv_from_a_spreadsheet():
    job = run_import("\ufeffsku;name;price;quantity\r\nA-1;Mug, large;1.50;2\r\n")
    assert (job.status, job.created_count, job.error_count) == ("done", 1, 0)
    assert list(Product.objects.values_list("sku", "name", "price", "quantity")) == [
        ("A-1", "Mug, large", Decimal("1.50"), 2)
    ]


def test_unknown_column_fails_the_whole_file_and_writes_nothing():
    job = run_import("sku,name,prise\nA-1,First,1.00\n")
    assert job.status == ImportJob.Status.FAILED
    assert job.failure == (
        "Unknown column(s) 'prise' in the header. Allowed columns: sku, name, brand, description, image_url, upc, "
        "gtin, ean, isbn, issn, price, quantity, shipping_weight."
    )
    assert Product.objects.count() == 0


def test_file_that_is_not_utf8_fails_with_a_clear_reason():
    job = run_import(HEADER.encode() + "MUG-1,Caf\xe9 mug,Acme,,,1.00,1,\n".encode("latin-1"))
    assert job.status == ImportJob.Status.FAILED
    assert job.failure == "The file is not valid UTF-8: save it as CSV UTF-8 and import it again."
    assert Product.objects.count() == 0


def test_json_lines_import():
    lines = [
        {"sku": "BOOK-1", "name": "Field guide", "isbn": "978-0-306-40615-7", "price": 24.5, "quantity": 3},
        {"sku": "BOOK-2", "name": "Bad", "isbn": "9780306406158", "price": "1", "quantity": 1},
        "not json",
        {"sku": "BOOK-3", "name": "Mag", "issn": "0317-8471", "price": "3.10", "colour": "red"},
    ]
    content = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    job = run_import(content, name="catalog.jsonl")
    assert job.status == ImportJob.Status.DONE
    assert errors_of(job) == [
        (2, "isbn", "ISBN-13 9780306406158 has a wrong check digit: the last digit should be 7, not 8."),
        (3, "", "Row is not valid JSON: Expecting value (column 1)."),
        (
            4,
            "",
            "Row has unknown field(s) colour; allowed: sku, name, brand, description, image_url, upc, gtin, ean, "
            "isbn, issn, price, quantity, shipping_weight.",
        ),
    ]
    book = Product.objects.get()
    assert (book.sku, book.isbn, book.price, book.quantity) == ("BOOK-1", "9780306406157", Decimal("24.50"), 3)


def test_text_with_backslashes_tabs_and_line_breaks_is_stored_as_written():
    # given descriptions holding the characters COPY's text format escapes, in a CSV and in JSON Lines
    description = "Tab\there, line\nbreak, \\N not null, C:\\path\\, CR\rLF"
    csv_text = (
        "sku,name,description,price,quantity,shipping_weight\n"
        + f'MUG-1,Mug,"{description}",9.99,2,\n'
        + "MUG-2,Mug two,\\,1.50,3,0.25\n"
    )
    line = {"sku": "MUG-3", "name": "Mug three", "description": description, "price": 2.5, "quantity": 4}
    # when
    first = run_import(csv_text)
    second = run_import(json.dumps(line) + "\n", name="catalog.jsonl")
    # then
    assert (first.created_count, second.created_count) == (2, 1)
    assert list(Product.objects.order_by("sku").values_list("sku", "description", "price", "shipping_weight")) == [
        ("MUG-1", description, Decimal("9.99"), None),
        ("MUG-2", "\\", Decimal("1.50"), Decimal("0.25")),
        ("MUG-3", description, Decimal("2.50"), None),
    ]


def test_a_description_with_a_nul_character_is_a_row_error():
    # given a row whose description holds a NUL (no text column of the database can store it)
    csv_text = "sku,name,description,price\nMUG-1,Mug,bad\x00byte,9.99\nMUG-2,Mug two,fine,1.00\n"
    # when
    job = run_import(csv_text)
    # then
    assert job.status == ImportJob.Status.DONE
    assert errors_of(job) == [(2, "description", "must not contain a NUL character.")]
    assert list(Product.objects.values_list("sku", flat=True)) == ["MUG-2"]


def test_unsupported_file_type_is_refused_before_storing():
    from listings.catalog_io import CatalogFileInvalid

    with pytest.raises(CatalogFileInvalid, match=r"Upload a .csv or a .jsonl \(JSON Lines\) file, not 'catalog.xlsx'."):
        import_job_create(uploaded_file=SimpleUploadedFile("catalog.xlsx", b"x"), run=False)
    assert ImportJob.objects.count() == 0


def test_rerunning_a_job_starts_its_errors_afresh():
    job = run_import(HEADER + "MUG-1,Mug,Acme,036000291453,,9.99,10,1.25\n")
    job = catalog_import_run(job=job)
    assert errors_of(job) == [
        (2, "upc", "UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3.")
    ]
    assert (job.rows_processed, job.error_count) == (1, 1)


def test_management_command_imports_a_file(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(HEADER + "MUG-1,Mug,Acme,036000291452,,9.99,10,1.25\nMUG-2,Mug,Acme,1,,9.99,10,1.25\n")
    out = StringIO()
    call_command("catalog_import", str(path), stdout=out)
    assert Product.objects.get().sku == "MUG-1"
    assert out.getvalue().splitlines() == [
        "row 3 upc: UPC must have 12 digits (GTIN-12), got 1: 1.",
        "Import done: 2 rows, 1 created, 0 updated, 0 unchanged, 1 with errors.",
    ]
    assert ImportJob.objects.get().original_filename == "catalog.csv"


def test_management_command_reports_a_failed_file(tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "catalog.csv"
    path.write_text("name,price\nMug,1.00\n")
    with pytest.raises(CommandError, match="Import failed: The header has no 'sku' column."):
        call_command("catalog_import", str(path), stdout=StringIO())
    assert Product.objects.count() == 0


def test_a_file_without_the_price_column_updates_other_fields_of_existing_products():
    # given products in the catalog (the previous import wrote a price-less row as a product without a price,
    # which the database refused: the whole import stopped)
    run_import(HEADER + "MUG-1,Mug,Acme,036000291452,,9.99,10,1.25\nMUG-2,Plate,Acme,,,4.00,2,\n")
    # when a file names only some columns, or a JSON Lines file only some keys per line
    csv_job = run_import("sku,brand\nMUG-1,Globex\n")
    jsonl_job = run_import('{"sku": "MUG-2", "name": "Big plate"}\n{"sku": "MUG-1", "quantity": 7}\n', "c.jsonl")
    # then
    assert (csv_job.status, csv_job.updated_count, jsonl_job.status, jsonl_job.updated_count) == ("done", 1, "done", 2)
    assert sorted(Product.objects.values_list("sku", "name", "brand", "price", "quantity")) == [
        ("MUG-1", "Mug", "Globex", Decimal("9.99"), 7),
        ("MUG-2", "Big plate", "Acme", Decimal("4.00"), 2),
    ]


def test_a_file_that_is_not_utf8_further_down_keeps_the_chunks_before_it():
    # given a file whose 1,001st data row is not UTF-8 (past the first buffer the reader decodes)
    good = "".join(f"OK-{n:04d},Product {n},Acme,,,1.00,1,\n" for n in range(1000))
    data = HEADER.encode() + good.encode() + "BAD-1,Caf\xe9,Acme,,,1.00,1,\n".encode("latin-1")
    # when it is imported 100 rows per transaction
    job = run_import(data, batch_size=100)
    # then the job says why it stopped, the chunks before the bad one are kept whole, and no more
    assert job.status == ImportJob.Status.FAILED
    assert job.failure.startswith("The file is not valid UTF-8: save it as CSV UTF-8 and import it again after row ")
    kept = sorted(Product.objects.values_list("sku", flat=True))
    assert kept == [f"OK-{n:04d}" for n in range(len(kept))]
    assert len(kept) % 100 == 0
    assert len(kept) >= 100
    assert (job.rows_processed, job.created_count, StockMovement.objects.count()) == (len(kept),) * 3


def test_a_failure_while_writing_stops_the_reader_and_keeps_the_chunks_before_it(monkeypatch):
    # given a database error on the second chunk
    from django.db import DatabaseError

    from listings import catalog_import

    applied = []
    real_apply = catalog_import._chunk_apply

    def failing_apply(chunk, **kwargs):
        if applied:
            raise DatabaseError("connection lost")
        applied.append(chunk.rows)
        return real_apply(chunk, **kwargs)

    monkeypatch.setattr(catalog_import, "_chunk_apply", failing_apply)
    content = HEADER + "".join(f"OK-{n},Product {n},Acme,,,1.00,1,\n" for n in range(6))
    job = import_job_create(uploaded_file=SimpleUploadedFile("c.csv", content.encode()), run=False)
    # when
    with pytest.raises(DatabaseError):
        catalog_import_run(job=job, batch_size=2)
    # then
    job.refresh_from_db()
    assert (job.status, job.failure) == (
        ImportJob.Status.FAILED,
        "The import stopped unexpectedly (DatabaseError); rows before it were kept.",
    )
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["OK-0", "OK-1"]
    assert not [thread for thread in threading.enumerate() if thread.name == "catalog-import-reader"]
    # and the same connection imports again (its staging tables were dropped)
    monkeypatch.setattr(catalog_import, "_chunk_apply", real_apply)
    job = catalog_import_run(job=job, batch_size=2)
    assert (job.status, job.created_count, job.unchanged_count) == ("done", 4, 2)
