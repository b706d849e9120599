"""`product_columns_clean` (the catalog import's column-at-a-time checks) decides every cell as
`product_fields_clean` does, on generated rows that mix the common shapes with every kind of bad or unusual
value; and it takes its shortcut for the common shapes."""

import random
from decimal import Decimal

from listings.catalog_io import (
    CSV_COLUMNS,
    DESCRIPTION_MAX_LENGTH,
    _column_plain,
    _gs1_valid,
    product_columns_clean,
    product_fields_clean,
)
from listings.identifiers import gs1_check_digit, isbn10_check_character, issn_check_character

TEXT_PIECES = ["Mug", " ", "  ", "é", "\t", "\n", "\x7f", "\x00", "ü", "漢", "-", ",", "'", '"', "\u2028", "\xa0", ""]
URL_STARTS = ["https://", "http://", "HTTP://", "ftp://", "https:/", "", "https://a b.com/", "//"]
URL_HOSTS = ["example.com", "cdn.example.co.uk", "localhost", "a-b.c", "-x.y", "é.com", "1.2.3.4", "", "h.com:8080"]
URL_TAILS = ["", "/", "/i/1.jpg", "?q=1", "#f", "/a b", "/\x00", "/\t", "/x" * 600, "\nhttps://b.com"]


def gs1(body: str) -> str:
    return body + str(gs1_check_digit(body))


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def text(rng: random.Random, limit: int) -> str:
    kind = rng.random()
    if kind < 0.5:
        return f"Plain value {rng.randint(0, 10**6)}"
    if kind < 0.6:
        return rng.choice(["", " ", "x" * limit, "x" * (limit + 1), " " + "y" * limit + " ", "é" * limit])
    return "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(0, 8)))


def url(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return f"https://example.com/images/{rng.randint(0, 10**6)}.jpg"
    return rng.choice(URL_STARTS) + rng.choice(URL_HOSTS) + rng.choice(URL_TAILS) + rng.choice(["", " ", "\n"])


def identifier(rng: random.Random, field: str) -> str:
    length = {"upc": 12, "gtin": 14, "ean": 13, "isbn": 13, "issn": 8}[field]
    kind = rng.random()
    if kind < 0.4 and field != "issn":
        body = ("978" + digits(rng, 9)) if field == "isbn" else digits(rng, length - 1)
        return gs1(body)
    if kind < 0.5:
        return ""
    if kind < 0.6:  # a wrong check digit
        value = gs1(digits(rng, length - 1))
        return value[:-1] + str((int(value[-1]) + rng.randint(1, 9)) % 10)
    if kind < 0.7:  # separators and spaces around
        value = gs1(digits(rng, length - 1))
        return f" {value[:4]}-{value[4:]} "
    if kind < 0.8:
        body = digits(rng, 9)
        return body + isbn10_check_character(body)
    if kind < 0.85:
        body = digits(rng, 7)
        return body + issn_check_character(body)
    two = gs1(digits(rng, length - 1)) + "\n" + gs1(digits(rng, length - 1))  # two good codes in one cell
    return rng.choice(["12345", "abc", "0" + gs1(digits(rng, 11)), gs1(digits(rng, 10)), "01234565", "９" * 12, two])


def amount(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.5:
        return f"{rng.randint(0, 99_999)}.{rng.randint(0, 99):02d}"
    if kind < 0.6:
        return rng.choice(["", " ", "0", "1", "9.9", "007.10", "999999.99", "1000000", "12.345", "1.", ".5", "1\n2.50"])
    return "".join(rng.choice("0123456789.-+e ,x") for _ in range(rng.randint(0, 9)))


def quantity(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        return str(rng.randint(0, 5000))
    return rng.choice(
        ["", " 5", "5 ", "-2", "+3", "1.0", "007", "999999999", "2147483647", "2147483648", "9" * 30, "x", "٣", "1\n2"]
    )


def cell(rng: random.Random, field: str) -> str:
    if rng.random() < PLAIN_SHARE:
        return plain_cell(rng, field)
    if field in ("sku", "name", "brand"):
        return text(rng, {"sku": 50, "name": 200, "brand": 100}[field])
    if field == "description":
        return rng.choice(
            [text(rng, 50), "d" * DESCRIPTION_MAX_LENGTH, " " + "d" * DESCRIPTION_MAX_LENGTH + "e", "nul\x00byte"]
        )
    if field == "image_url":
        return url(rng)
    if field in ("upc", "gtin", "ean", "isbn", "issn"):
        return identifier(rng, field)
    if field in ("price", "shipping_weight"):
        return amount(rng)
    return quantity(rng)


PLAIN_SHARE = 0.0  # set by a test: how often a cell has its field's common shape


def plain_cell(rng: random.Random, field: str) -> str:
    number = rng.randint(0, 10**6)
    return {
        "sku": f"SKU-{number}",
        "name": f"Product {number}",
        "brand": "Acme",
        "description": "A plain description.",
        "image_url": f"https://example.com/{number}.jpg",
        "upc": gs1(digits(rng, 11)),
        "gtin": gs1(digits(rng, 13)),
        "ean": gs1(digits(rng, 12)),
        "isbn": gs1("978" + digits(rng, 9)),
        "issn": "",
        "price": f"{number % 99999}.{number % 100:02d}",
        "quantity": str(number % 500),
        "shipping_weight": rng.choice(["", "1.25"]),
    }[field]


def same_value(field: str, column_value, row_value) -> bool:
    if field in ("price", "shipping_weight") and isinstance(column_value, str):
        return Decimal(column_value).quantize(Decimal("0.01")) == row_value
    if field == "quantity" and isinstance(column_value, str):
        return int(column_value) == row_value
    return column_value == row_value and type(column_value) is type(row_value)


def columns_agree_with_rows(columns: list[str], records: list[list[str]]) -> int:
    """Assert that both decide alike on every record; returns how many records have errors."""
    clean, errors = product_columns_clean(columns, records)
    for index, record in enumerate(records):
        row_clean, row_errors = product_fields_clean(dict(zip(columns, record, strict=True)), fields=columns)
        assert errors.get(index, []) == row_errors, record
        for field, value in row_clean.items():
            assert same_value(field, clean[field][index], value), (field, record)
    return len(errors)


COLUMN_SETS = (list(CSV_COLUMNS), ["quantity", "sku", "price"], ["sku", "upc", "name", "shipping_weight"])


def test_the_columns_decide_every_cell_as_the_row_checks_do():
    rng = random.Random(13)
    for columns in COLUMN_SETS:
        records = [[cell(rng, field) for field in columns] for _ in range(3000)]
        assert 0 < columns_agree_with_rows(columns, records) < len(records)


def test_a_column_of_common_shapes_but_one_cell_is_decided_cell_by_cell(monkeypatch):
    # small chunks, most cells plain: whole columns pass the column-wide check, or fail it on a single cell
    monkeypatch.setitem(globals(), "PLAIN_SHARE", 0.97)
    rng = random.Random(21)
    with_errors = 0
    for round_number in range(3000):
        columns = COLUMN_SETS[round_number % len(COLUMN_SETS)]
        records = [[cell(rng, field) for field in columns] for _ in range(rng.randint(1, 6))]
        with_errors += bool(columns_agree_with_rows(columns, records))
    assert 300 < with_errors < 2700


def test_the_common_shapes_take_the_shortcut():
    rng = random.Random(5)
    plain = {
        "sku": [f"BENCH-{n:07d}" for n in range(500)],
        "name": [f"Benchmark product {n}" for n in range(500)],
        "image_url": [f"https://example.com/images/{n}.jpg" for n in range(500)],
        "upc": [gs1(digits(rng, 11)) for _ in range(500)],
        "isbn": [gs1("979" + digits(rng, 9)) for _ in range(500)],
        "price": [f"{rng.randint(1, 99999) / 100:.2f}" for _ in range(500)],
        "quantity": [str(rng.randint(0, 500)) for _ in range(500)],
        "shipping_weight": ["", *(f"{rng.randint(1, 5000) / 100:.2f}" for _ in range(499))],
    }
    for field, values in plain.items():
        assert _column_plain(field, values)[1] == [], field


def test_the_check_digit_sum_agrees_with_the_gs1_digit():
    rng = random.Random(3)
    for length in (8, 12, 13, 14):
        for _ in range(2000):
            value = digits(rng, length)
            assert _gs1_valid(value) == (gs1_check_digit(value[:-1]) == int(value[-1])), value
