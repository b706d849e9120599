"""The set-based catalog import writes exactly what the row-by-row import it replaced wrote.

The expected values below were captured from the previous implementation (ORM upserts per batch, then
`stock_bulk_set`) on this very fixture, on PostgreSQL and on SQLite (they agreed), before it was replaced:
every product's fields, every stock movement, every row error and the job's counters, for a first import
(creates) followed by a mixed one (creates, updates, quantity-only changes, unchanged rows, bad rows,
repeated SKUs, cleared identifiers, a column left out) in CSV, then in JSON Lines (keys that vary per line).
"""

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import StockMovement
from listings.catalog_import import catalog_import_run
from listings.models import ImportJob, ImportRowError, Listing, Product
from listings.services import import_job_create
from listings.signals import product_quantities_set, products_changed
from sync.models import ListingSyncDue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIRST_IMPORT = (
    "sku,name,brand,upc,isbn,price,quantity,shipping_weight\n"
    "KEEP-1,Kept mug,Acme,036000291452,,9.90,10,1.25\n"
    "NAME-2,Old name,Acme,,,5.00,4,\n"
    "QTY-3,Quantity only,Acme,,,7.00,20,0.50\n"
    "DOWN-4,Goes down,Globex,,9780306406157,24.50,8,2.00\n"
    "ZERO-5,Goes to zero,Globex,,,1.00,3,\n"
    "CLEAR-6,Loses its UPC,Initech,012345678905,,3.00,0,1.00\n"
    "PRICE-7,Price changes,Initech,,,19.99,2,\n"
)

# Row numbers (header = row 1) are in the comments.
MIXED_CSV = (
    "sku,name,brand,upc,isbn,price,quantity,shipping_weight\n"
    "KEEP-1,Kept mug,Acme,036000291452,,9.9,10,1.250\n"  # 2 unchanged (9.9 == 9.90, 1.250 == 1.25)
    "NAME-2,New name,Acme,,,5.00,4,\n"  # 3 name changed, quantity unchanged
    "QTY-3,Quantity only,Acme,,,7.00,35,0.50\n"  # 4 quantity up only
    "DOWN-4,Goes down,Globex,,978-0-306-40615-7,24.50,1,2.00\n"  # 5 quantity down, ISBN typed with hyphens
    "ZERO-5,Goes to zero,Globex,,,1.00,0,\n"  # 6 quantity to zero
    "CLEAR-6,Loses its UPC,Initech,,,3.00,0,\n"  # 7 UPC and weight cleared
    "PRICE-7,Price changes,Initech,,,21.00,5,\n"  # 8 price and quantity
    "NEW-8,  Fresh product  ,Acme,036000291452,,2.50,6,0.75\n"  # 9 created (name trimmed)
    "NEW-9,Created at zero,Acme,,,4.00,0,\n"  # 10 created with 0: no movement
    "BAD-10,Bad upc,Acme,036000291453,,1.00,1,\n"  # 11 wrong check digit
    "BAD-11,Bad numbers,Acme,,,1.999,-2,\n"  # 12 two bad fields
    "BAD-12,Too few cells,Acme,,,1.00,1\n"  # 13 wrong cell count
    "NEW-8,Second time,Acme,,,9.00,9,\n"  # 14 repeated SKU (first on row 9)
    "REP-13,First is bad,Acme,,,x,1,\n"  # 15 bad price: not remembered as seen
    "REP-13,Second is good,Acme,,,3.00,2,\n"  # 16 accepted (the first was refused)
    ",No SKU,Acme,,,1.00,1,\n"  # 17 SKU required
    "KEEP-1,Kept mug again,Acme,,,1.00,1,\n"  # 18 repeated existing SKU
    "\n"  # 19 blank line: skipped, not counted
    "TAB-14,Tab\tinside,Acme,,,1.00,1,\n"  # 20 control character
)

MIXED_JSONL = [
    {"sku": "QTY-3", "quantity": 36},  # 1 quantity only, other fields untouched
    {"sku": "NAME-2", "brand": "Globex", "price": "5.00"},  # 2 brand changed
    {"sku": "KEEP-1", "price": "9.90", "quantity": "10"},  # 3 unchanged
    {"sku": "NEW-20", "name": "JSON product", "price": 12.5, "quantity": 7},  # 4 created
    {"sku": "NEW-21", "quantity": 3},  # 5 new without name and price
    {"sku": "NEW-22", "name": "No price", "quantity": 1},  # 6 new without price
    {"sku": "NEW-22", "name": "No price", "price": "1.00"},  # 7 repeated (first on row 6)
    "not json",  # 8 unreadable
    {"sku": "NEW-23", "name": "Colour", "price": "1.00", "colour": "red"},  # 9 unknown key
    {"name": "No sku key", "price": "1.00"},  # 10 no sku
    {"sku": "DOWN-4", "quantity": True},  # 11 a boolean quantity
    {"sku": "PRICE-7", "shipping_weight": None, "upc": "012345678905", "price": 21},  # 12 UPC set
]


def run_import(content: str, name: str, *, batch_size: int, actor=None) -> ImportJob:
    job = import_job_create(uploaded_file=SimpleUploadedFile(name, content.encode()), actor=actor, run=False)
    return catalog_import_run(job=job, batch_size=batch_size)


def catalog() -> list[tuple]:
    return list(
        Product.objects.order_by("sku").values_list(
            "sku", "name", "brand", "description", "image_url", "upc", "gtin", "ean", "isbn", "issn", "price",
            "quantity", "shipping_weight",
        )
    )  # fmt: skip


def movements(job: ImportJob) -> list[tuple]:
    return list(
        StockMovement.objects.filter(reference=f"import {job.pk}")
        .order_by("product__sku")
        .values_list("product__sku", "delta", "quantity_after", "shortfall", "reason", "actor")
    )


def row_errors(job: ImportJob) -> list[tuple]:
    return list(
        ImportRowError.objects.filter(job=job)
        .order_by("row_number", "id")
        .values_list("row_number", "sku", "field", "message")
    )


def counters(job: ImportJob) -> tuple:
    return (job.status, job.rows_processed, job.created_count, job.updated_count, job.unchanged_count, job.error_count)


def stamps() -> dict[str, object]:
    return dict(Product.objects.values_list("sku", "updated_at"))


def touched(before: dict, after: dict) -> list[str]:
    return sorted(sku for sku, stamp in after.items() if before.get(sku) != stamp)


# The files fit in one batch of the implementation these values come from; the set-based import must give the
# same whatever its chunk size (a repeated SKU is found across chunks as within one).
@pytest.mark.parametrize("batch_size", [1, 4, 10_000])
def test_first_import_then_a_mixed_csv_then_a_mixed_json_lines_file(batch_size):
    importer = UserFactory(username="importer")
    # given a first import (every row a create)
    first = run_import(FIRST_IMPORT, "first.csv", batch_size=batch_size, actor=importer)
    assert counters(first) == ("done", 7, 7, 0, 0, 0)
    assert row_errors(first) == []
    assert movements(first) == [
        ("DOWN-4", 8, 8, 0, "import", "importer"),
        ("KEEP-1", 10, 10, 0, "import", "importer"),
        ("NAME-2", 4, 4, 0, "import", "importer"),
        ("PRICE-7", 2, 2, 0, "import", "importer"),
        ("QTY-3", 20, 20, 0, "import", "importer"),
        ("ZERO-5", 3, 3, 0, "import", "importer"),
    ]
    before_csv = stamps()

    # when a mixed CSV comes
    mixed = run_import(MIXED_CSV, "mixed.csv", batch_size=batch_size)

    # then
    assert counters(mixed) == ("done", 18, 3, 6, 1, 8)
    assert row_errors(mixed) == [
        (11, "BAD-10", "upc", "UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3."),
        (12, "BAD-11", "price", "Price can have at most two decimals (e.g. 9.99), got 1.999."),
        (12, "BAD-11", "quantity", "Quantity cannot be negative, got -2."),
        (13, "", "", "Row has 7 cells but the header has 8 columns."),
        (14, "NEW-8", "sku", "SKU NEW-8 appears again in this file (first on row 9); row skipped."),
        (15, "REP-13", "price", "Price must be a number, got 'x'."),
        (17, "", "sku", "SKU is required."),
        (18, "KEEP-1", "sku", "SKU KEEP-1 appears again in this file (first on row 2); row skipped."),
        (20, "TAB-14", "name", "must not contain control characters (tabs, line breaks)."),
    ]
    assert movements(mixed) == [
        ("DOWN-4", -7, 1, 0, "import", "import"),
        ("NEW-8", 6, 6, 0, "import", "import"),
        ("PRICE-7", 3, 5, 0, "import", "import"),
        ("QTY-3", 15, 35, 0, "import", "import"),
        ("REP-13", 2, 2, 0, "import", "import"),
        ("ZERO-5", -3, 0, 0, "import", "import"),
    ]
    assert touched(before_csv, stamps()) == [
        "CLEAR-6", "DOWN-4", "NAME-2", "NEW-8", "NEW-9", "PRICE-7", "QTY-3", "REP-13", "ZERO-5",
    ]  # fmt: skip
    assert catalog() == [
        ("CLEAR-6", "Loses its UPC", "Initech", "", "", "", "", "", "", "", Decimal("3.00"), 0, None),
        ("DOWN-4", "Goes down", "Globex", "", "", "", "", "", "9780306406157", "", Decimal("24.50"), 1, Decimal("2.00")),  # noqa: E501
        ("KEEP-1", "Kept mug", "Acme", "", "", "036000291452", "", "", "", "", Decimal("9.90"), 10, Decimal("1.25")),
        ("NAME-2", "New name", "Acme", "", "", "", "", "", "", "", Decimal("5.00"), 4, None),
        ("NEW-8", "Fresh product", "Acme", "", "", "036000291452", "", "", "", "", Decimal("2.50"), 6, Decimal("0.75")),
        ("NEW-9", "Created at zero", "Acme", "", "", "", "", "", "", "", Decimal("4.00"), 0, None),
        ("PRICE-7", "Price changes", "Initech", "", "", "", "", "", "", "", Decimal("21.00"), 5, None),
        ("QTY-3", "Quantity only", "Acme", "", "", "", "", "", "", "", Decimal("7.00"), 35, Decimal("0.50")),
        ("REP-13", "Second is good", "Acme", "", "", "", "", "", "", "", Decimal("3.00"), 2, None),
        ("ZERO-5", "Goes to zero", "Globex", "", "", "", "", "", "", "", Decimal("1.00"), 0, None),
    ]  # fmt: skip
    before_jsonl = stamps()

    # when a JSON Lines file comes, its keys varying per line
    content = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in MIXED_JSONL) + "\n"
    jsonl = run_import(content, "mixed.jsonl", batch_size=batch_size)

    # then
    assert counters(jsonl) == ("done", 12, 1, 3, 1, 7)
    assert row_errors(jsonl) == [
        (5, "NEW-21", "name", "name is required for a new product (SKU NEW-21 is not in the catalog)."),
        (5, "NEW-21", "price", "price is required for a new product (SKU NEW-21 is not in the catalog)."),
        (6, "NEW-22", "price", "price is required for a new product (SKU NEW-22 is not in the catalog)."),
        (7, "NEW-22", "sku", "SKU NEW-22 appears again in this file (first on row 6); row skipped."),
        (8, "", "", "Row is not valid JSON: Expecting value (column 1)."),
        (
            9,
            "",
            "",
            "Row has unknown field(s) colour; allowed: sku, name, brand, description, image_url, upc, gtin, ean, "
            "isbn, issn, price, quantity, shipping_weight.",
        ),
        (10, "", "", "Row has no 'sku'."),
        (11, "DOWN-4", "quantity", "Quantity must be a whole number, got 'True'."),
    ]
    assert movements(jsonl) == [
        ("NEW-20", 7, 7, 0, "import", "import"),
        ("QTY-3", 1, 36, 0, "import", "import"),
    ]
    assert touched(before_jsonl, stamps()) == ["NAME-2", "NEW-20", "PRICE-7", "QTY-3"]
    products = {row[0]: row for row in catalog()}
    assert products["QTY-3"] == (
        "QTY-3", "Quantity only", "Acme", "", "", "", "", "", "", "", Decimal("7.00"), 36, Decimal("0.50"),
    )  # fmt: skip
    assert products["NAME-2"][1:3] == ("New name", "Globex")
    assert products["NEW-20"] == (
        "NEW-20", "JSON product", "", "", "", "", "", "", "", "", Decimal("12.50"), 7, None,
    )  # fmt: skip
    assert products["PRICE-7"][5] == "012345678905"
    assert products["PRICE-7"][12] is None
    assert "NEW-21" not in products
    assert "NEW-22" not in products
    assert Product.objects.count() == 11


class SignalsHeard:
    """Every `product_quantities_set` and `products_changed` sent while it listens, in order, by SKU."""

    def __init__(self) -> None:
        self.sends: list[tuple] = []

    def quantities_heard(self, sender, *, changes, reason, actor, reference, **kwargs) -> None:
        skus = dict(Product.objects.filter(pk__in=[c.product_id for c in changes]).values_list("pk", "sku"))
        moved = tuple(sorted((skus[c.product_id], c.before, c.after) for c in changes))
        self.sends.append(("quantities", moved, reason, actor, reference))

    def changed_heard(self, sender, *, product_ids, fields, **kwargs) -> None:
        skus = tuple(sorted(Product.objects.filter(pk__in=product_ids).values_list("sku", flat=True)))
        self.sends.append(("changed", skus, ",".join(sorted(fields))))

    def __enter__(self):
        product_quantities_set.connect(self.quantities_heard, dispatch_uid="test-heard-quantities")
        products_changed.connect(self.changed_heard, dispatch_uid="test-heard-changed")
        return self

    def __exit__(self, *exc) -> None:
        product_quantities_set.disconnect(dispatch_uid="test-heard-quantities")
        products_changed.disconnect(dispatch_uid="test-heard-changed")


def due_marks() -> list[tuple[str, str]]:
    return sorted(ListingSyncDue.objects.values_list("listing__product__sku", "stream"))


# Captured from the import as it was at main 4eb1fb1 (rows checked one at a time) on this fixture, on SQLite and
# PostgreSQL alike: every signal the stock and sync apps heard, in order, per chunk size; and the sync dirty set
# marks its database triggers wrote for the store's matched listings.
MIXED_SENDS = {
    1: [
        ("changed", ("NAME-2",), "name"),
        ("quantities", (("QTY-3", 20, 35),), "import", "import", "import {job}"),
        ("changed", ("QTY-3",), "quantity"),
        ("quantities", (("DOWN-4", 8, 1),), "import", "import", "import {job}"),
        ("changed", ("DOWN-4",), "quantity"),
        ("quantities", (("ZERO-5", 3, 0),), "import", "import", "import {job}"),
        ("changed", ("ZERO-5",), "quantity"),
        ("changed", ("CLEAR-6",), "shipping_weight,upc"),
        ("quantities", (("PRICE-7", 2, 5),), "import", "import", "import {job}"),
        ("changed", ("PRICE-7",), "quantity"),
        ("changed", ("PRICE-7",), "price"),
        ("quantities", (("NEW-8", 0, 6),), "import", "import", "import {job}"),
        ("changed", ("NEW-8",), "quantity"),
        ("changed", ("NEW-8",), "brand,description,ean,gtin,image_url,isbn,issn,name,price,shipping_weight,upc"),
        ("changed", ("NEW-9",), "brand,description,ean,gtin,image_url,isbn,issn,name,price,shipping_weight,upc"),
        ("quantities", (("REP-13", 0, 2),), "import", "import", "import {job}"),
        ("changed", ("REP-13",), "quantity"),
        ("changed", ("REP-13",), "brand,description,ean,gtin,image_url,isbn,issn,name,price,shipping_weight,upc"),
    ],
    4: [
        ("quantities", (("DOWN-4", 8, 1), ("QTY-3", 20, 35)), "import", "import", "import {job}"),
        ("changed", ("DOWN-4", "QTY-3"), "quantity"),
        ("changed", ("NAME-2",), "name"),
        ("quantities", (("NEW-8", 0, 6), ("PRICE-7", 2, 5), ("ZERO-5", 3, 0)), "import", "import", "import {job}"),
        ("changed", ("NEW-8", "PRICE-7", "ZERO-5"), "quantity"),
        (
            "changed",
            ("CLEAR-6", "NEW-8", "PRICE-7"),
            "brand,description,ean,gtin,image_url,isbn,issn,name,price,shipping_weight,upc",
        ),
        ("changed", ("NEW-9",), "brand,description,ean,gtin,image_url,isbn,issn,name,price,shipping_weight,upc"),
        ("quantities", (("REP-13", 0, 2),), "import", "import", "import {job}"),
        ("changed", ("REP-13",), "quantity"),
        ("changed", ("REP-13",), "brand,description,ean,gtin,image_url,isbn,issn,name,price,shipping_weight,upc"),
    ],
    10000: [
        (
            "quantities",
            (
                ("DOWN-4", 8, 1),
                ("NEW-8", 0, 6),
                ("PRICE-7", 2, 5),
                ("QTY-3", 20, 35),
                ("REP-13", 0, 2),
                ("ZERO-5", 3, 0),
            ),
            "import",
            "import",
            "import {job}",
        ),
        ("changed", ("DOWN-4", "NEW-8", "PRICE-7", "QTY-3", "REP-13", "ZERO-5"), "quantity"),
        (
            "changed",
            ("CLEAR-6", "NAME-2", "NEW-8", "NEW-9", "PRICE-7", "REP-13"),
            "brand,description,ean,gtin,image_url,isbn,issn,name,price,shipping_weight,upc",
        ),
    ],
}
MIXED_DUE_MARKS = [
    ("DOWN-4", "inventory"),
    ("PRICE-7", "inventory"),
    ("PRICE-7", "price"),
    ("QTY-3", "inventory"),
    ("ZERO-5", "inventory"),
]


@pytest.mark.parametrize("batch_size", [1, 4, 10_000])
def test_the_stock_and_sync_apps_hear_of_every_change_once_per_chunk(batch_size, store):
    # given the first import, every product listed in the store and matched, nothing due
    run_import(FIRST_IMPORT, "first.csv", batch_size=batch_size)
    for product in Product.objects.order_by("pk"):
        Listing.objects.create(
            store=store, product=product, status=Listing.Status.MATCH, confirmed_quantity=product.quantity,
            confirmed_price=product.price,
        )  # fmt: skip
    ListingSyncDue.objects.all().delete()

    # when the mixed CSV comes
    with SignalsHeard() as heard:
        mixed = run_import(MIXED_CSV, "mixed.csv", batch_size=batch_size)

    # then
    assert heard.sends == [
        tuple(part.format(job=mixed.pk) if isinstance(part, str) else part for part in send)
        for send in MIXED_SENDS[batch_size]
    ]
    assert due_marks() == MIXED_DUE_MARKS
